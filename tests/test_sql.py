"""The SQL path (issue 20): the same numbers as the Polars core, to the cent.

Differential tests run both paths on one history (the core on a frame, the SQL on a
DuckDB table holding the same rows) and compare the metric frames exactly: every
integer sum, every ratio, every null. Golden SQL per dialect pins SQLGlot's output.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from retention_cli.cli import app
from retention_cli.config import Config, Policies
from retention_cli.errors import UsageError
from retention_cli.inputs import load_frame
from retention_cli.inputs.rules import Rules
from retention_cli.options import Grain, Method, Shape
from retention_cli.service import RunOptions, compute
from retention_cli.sql import DIALECTS, METRICS, Source, metric_sql, sql_for, transpile
from retention_cli.sql.engine import mask

duckdb = pytest.importorskip("duckdb", reason="duckdb is in the test extra")

GOLDEN = Path(__file__).parent / "golden_sql"

TYPES = {
    Shape.snapshots: {"account_id": "VARCHAR", "date": "DATE", "arr": "DECIMAL(18, 2)"},
    Shape.movements: {
        "account_id": "VARCHAR", "date": "DATE", "type": "VARCHAR", "amount": "DECIMAL(18, 2)",
    },
    Shape.subscriptions: {
        "account_id": "VARCHAR", "start_date": "DATE", "end_date": "DATE", "arr": "DECIMAL(18, 2)",
    },
}  # fmt: skip


def write_table(path: Path, rows: list[tuple[object, ...]], shape: Shape, name: str = "t") -> str:
    """``rows`` as table ``name`` of a DuckDB file; the engine URI."""
    cols = TYPES[shape]
    with duckdb.connect(str(path)) as con:
        spec = ", ".join(f'"{c}" {t}' for c, t in cols.items())
        con.execute(f'CREATE OR REPLACE TABLE "{name}" ({spec})')
        if rows:
            marks = ", ".join("?" for _ in cols)
            con.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows)
    return f"duckdb://{path}"


def both(
    tmp_path: Path,
    rows: list[tuple[object, ...]],
    shape: Shape,
    command: str,
    *,
    config: Config | None = None,
    **options: object,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The frame of ``command`` by the core and by the SQL path, with equal definitions."""
    from retention_cli.sql.run import engine_result

    config = config or Config()
    cols = list(TYPES[shape])
    data = pl.DataFrame(
        [[None if v is None else str(v) for v in col] for col in zip(*rows, strict=True)],
        schema=dict.fromkeys(cols, pl.String),
        orient="col",
    )
    opts = RunOptions(shape=shape, **options)  # type: ignore[arg-type]
    loaded = load_frame(data, shape=shape.value, rules=Rules.of(config))
    local = compute(command, loaded, config, opts)
    uri = write_table(tmp_path / "data.duckdb", rows, shape)
    remote = engine_result(command, uri, "t", config, opts)
    assert remote.definitions_sha256 == local.definitions_sha256
    assert remote.warnings == local.warnings
    return local.frame, remote.frame


def same(local: pl.DataFrame, remote: pl.DataFrame) -> None:
    assert remote.schema == local.schema
    assert remote.to_dicts() == local.to_dicts()


# ----------------------------------------------------------------------------- hand-made
SNAPSHOTS = [  # gaps, a return, several rows in a month, zero ARR, the 12-month boundary
    ("a", "2024-01-31", "100.00"),
    ("a", "2024-02-10", "90.00"),
    ("a", "2024-02-28", "120.00"),  # the latest date in February wins
    ("b", "2024-02-28", "50.00"),
    ("c", "2024-01-15", "0.00"),  # zero ARR, seen
    ("c", "2024-05-31", "30.00"),
    ("a", "2024-04-30", "80.00"),  # a's gap in March: churn then reactivation
    ("b", "2024-04-30", "60.50"),
    ("b", "2025-01-31", "75.25"),
    ("a", "2025-02-28", "130.00"),
    ("d", "2025-02-28", "10.01"),
]

MOVEMENTS = [
    ("a", "2024-01-05", "new", "100.00"),
    ("a", "2024-02-10", "expansion", "20.00"),
    ("b", "2024-02-11", "new", "50.00"),
    ("b", "2024-02-20", "contraction", "-10.00"),
    ("a", "2024-03-01", "churn", "120.00"),  # a positive churn is subtracted
    ("a", "2024-06-01", "reactivation", "40.00"),
    ("c", "2024-06-15", "New", "5.55"),  # type case and spaces as the file reader
    ("b", "2025-02-01", "expansion", "1.00"),
    ("c", "2025-06-30", "churn", "-5.55"),
]

SUBSCRIPTIONS = [
    ("a", "2024-01-01", "2024-04-15", "100.00"),
    ("a", "2024-02-01", None, "20.00"),
    ("b", "2024-03-10", "2024-03-20", "50.00"),  # never active on a month end
    ("c", "2024-02-01", "2024-05-01", "30.00"),
    ("c", "2024-07-01", None, "35.00"),
    ("d", "2025-01-31", "2025-06-01", "9.99"),
]

CASES = {
    Shape.snapshots: SNAPSHOTS,
    Shape.movements: MOVEMENTS,
    Shape.subscriptions: SUBSCRIPTIONS,
}

POLICIES = {
    "default": Policies(),
    "as_new": Policies(reactivation="as_new"),
    "window": Policies(reactivation_window=1),
    "grace": Policies(churn_grace=2),
}


@pytest.mark.parametrize("shape", list(CASES), ids=lambda s: s.value)
@pytest.mark.parametrize("command", ["bridge", "nrr", "churn"])
@pytest.mark.parametrize("policy", list(POLICIES))
def test_hand_made_cases_equal_the_core(
    tmp_path: Path, shape: Shape, command: str, policy: str
) -> None:
    config = Config(policies=POLICIES[policy])
    same(*both(tmp_path, CASES[shape], shape, command, config=config, window=3))


@pytest.mark.parametrize("window", [1, 12, 13])
@pytest.mark.parametrize("method", list(Method))
def test_windows_and_methods_equal_the_core(tmp_path: Path, window: int, method: Method) -> None:
    for shape in (Shape.snapshots, Shape.movements):
        same(*both(tmp_path, CASES[shape], shape, "nrr", window=window, method=method))


@pytest.mark.parametrize("grain", [Grain.quarter, Grain.year])
def test_retention_at_longer_grains_equals_the_core(tmp_path: Path, grain: Grain) -> None:
    same(*both(tmp_path, SNAPSHOTS, Shape.snapshots, "nrr", grain=grain, window=6))


def test_fiscal_445_calendar_equals_the_core(tmp_path: Path) -> None:
    config = Config.model_validate(
        {"fiscal_year": {"start_month": 2, "calendar": "4-4-5", "week_ends_on": "saturday"}}
    )
    for shape, rows in CASES.items():
        same(*both(tmp_path, rows, shape, "churn", config=config, window=2))


# ----------------------------------------------------------------------------- generated
ACCOUNTS = st.sampled_from(["a", "b", "c", "d", "e"])
MONTH = st.integers(0, 27)
CENTS = st.sampled_from([0, 1, 99, 10000, 12345, 50000, 99999])


def _day(month: int, day: int) -> str:
    first = dt.date(2023 + month // 12, month % 12 + 1, 1)
    return (first + dt.timedelta(days=day)).isoformat()


@settings(
    max_examples=int(os.environ.get("SQL_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(st.tuples(ACCOUNTS, MONTH, st.integers(0, 27), CENTS), min_size=1, max_size=40),
    policy=st.sampled_from(list(POLICIES)),
    window=st.sampled_from([1, 3, 12]),
    method=st.sampled_from(list(Method)),
)
def test_generated_snapshot_histories_equal_the_core(
    tmp_path: Path, rows: list[tuple[str, int, int, int]], policy: str, window: int, method: Method
) -> None:
    # one snapshot per account and day (two on one day would be line items without item_id)
    unique = {(a, _day(m, d)): f"{c / 100:.2f}" for a, m, d, c in rows}
    table = [(a, day, arr) for (a, day), arr in sorted(unique.items())]
    config = Config(policies=POLICIES[policy])
    same(
        *both(
            tmp_path, table, Shape.snapshots, "churn", config=config, window=window, method=method
        )
    )


# ----------------------------------------------------------------------------- golden SQL
SPAN = {"date_from": "2024-01", "date_to": "2024-03"}


def _golden(metric: str, dialect: str, shape: Shape) -> str:
    source = Source("analytics.arr_table", shape, {"account_id": "Customer ID"})
    return sql_for(metric, dialect, source, Config(), **SPAN)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("metric", METRICS)
def test_golden_sql(metric: str, dialect: str) -> None:
    shape = {"bridge": Shape.snapshots, "nrr": Shape.movements, "churn": Shape.subscriptions}[
        metric
    ]
    text = _golden(metric, dialect, shape)
    path = GOLDEN / f"{metric}.{dialect}.sql"
    if os.environ.get("REGENERATE_GOLDEN_SQL"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, (
        f"regenerate with REGENERATE_GOLDEN_SQL=1 ({path.name})"
    )


@pytest.mark.slow
@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("shape", list(CASES), ids=lambda s: s.value)
def test_every_dialect_transpiles_strictly(dialect: str, policy: str, shape: Shape) -> None:
    config = Config(policies=POLICIES[policy])
    for method in Method:
        source = Source("t", shape)
        text = sql_for("churn", dialect, source, config, method=method, **SPAN)
        assert "SELECT" in text


def test_transpiled_duckdb_sql_runs(tmp_path: Path) -> None:
    uri = write_table(tmp_path / "d.duckdb", SNAPSHOTS, Shape.snapshots)
    text = sql_for(
        "bridge",
        "duckdb",
        Source("t", Shape.snapshots),
        Config(),
        date_from="2023-12",
        date_to="2025-03",
    )
    with duckdb.connect(uri.split("://")[1]) as con:
        rows = con.execute(text).fetchall()
    assert rows[0][3] == 0  # nothing left out


# ----------------------------------------------------------------------------- safety
@pytest.mark.parametrize("name", ['x"; DROP TABLE t; --', "a`b", "", "a.b.c.d", "x\ny", "a\\b"])
def test_table_names_are_validated(name: str) -> None:
    with pytest.raises(UsageError):
        metric_sql("bridge", Source(name, Shape.snapshots), *_cal_span())


def test_column_names_are_validated_and_quoted() -> None:
    with pytest.raises(UsageError, match="column name"):
        metric_sql("bridge", Source("t", Shape.snapshots, {"arr": 'a" OR 1=1'}), *_cal_span())
    text = metric_sql("bridge", Source("t", Shape.snapshots, {"arr": "ARR (USD)"}), *_cal_span())
    assert 'CAST("ARR (USD)" AS DECIMAL(38, 6))' in text


def _cal_span():  # type: ignore[no-untyped-def]
    from retention_cli.calendar import FiscalCalendar

    return FiscalCalendar(), (dt.date(2024, 1, 1), dt.date(2024, 2, 28))


def test_unknown_dialect_is_refused() -> None:
    with pytest.raises(UsageError, match="unknown dialect"):
        transpile("SELECT 1", "oracle-ish")


def test_password_is_masked() -> None:
    assert (
        mask("postgresql://me:s3cret@db.example:5432/x") == "postgresql://me:***@db.example:5432/x"
    )
    assert mask("duckdb:///tmp/a.duckdb") == "duckdb:///tmp/a.duckdb"


runner = CliRunner()


def test_cli_never_prints_the_password() -> None:
    res = runner.invoke(
        app, ["bridge", "--engine", "postgresql://me:s3cret@127.0.0.1:1/x", "--table", "t"]
    )
    assert res.exit_code == 2
    assert "s3cret" not in res.output
    assert "***" in res.output or "driver" in res.output


def test_cli_engine_matches_file(tmp_path: Path) -> None:
    uri = write_table(tmp_path / "d.duckdb", SNAPSHOTS, Shape.snapshots)
    csv = tmp_path / "s.csv"
    pl.DataFrame(SNAPSHOTS, schema=["account_id", "date", "arr"], orient="row").write_csv(csv)
    for command in ("bridge", "nrr", "churn"):
        local = runner.invoke(app, [command, str(csv), "-f", "csv"])
        remote = runner.invoke(app, [command, "--engine", uri, "--table", "t", "-f", "csv"])
        assert local.exit_code == 0, local.output
        assert remote.exit_code == 0, remote.output
        assert remote.stdout == local.stdout


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--by", "segment"], "--by"),  # the table has no such column
        (["--as-of", "2024-06-30"], "--as-of"),
    ],
)
def test_cli_engine_refuses_what_sql_does_not_do(
    tmp_path: Path, args: list[str], flag: str
) -> None:
    uri = write_table(tmp_path / "d.duckdb", SNAPSHOTS, Shape.snapshots)
    res = runner.invoke(app, ["bridge", "--engine", uri, "--table", "t", *args])
    assert res.exit_code == 2
    assert flag in res.output


def test_cli_engine_refuses_unsupported_policy(tmp_path: Path) -> None:
    uri = write_table(tmp_path / "d.duckdb", SNAPSHOTS, Shape.snapshots)
    cfg = tmp_path / "retention.yaml"
    cfg.write_text("snapshots:\n  carry_forward: true\n", encoding="utf-8")
    res = runner.invoke(app, ["nrr", "--engine", uri, "--table", "t", "-c", str(cfg)])
    assert res.exit_code == 2
    assert "carry_forward" in res.output


def test_cli_sql_prints_each_dialect() -> None:
    for dialect in DIALECTS:
        res = runner.invoke(
            app,
            [
                "sql",
                "nrr",
                "--table",
                "t",
                "--dialect",
                dialect,
                "--from",
                "2024-01",
                "--to",
                "2024-02",
            ],
        )
        assert res.exit_code == 0, res.output
        assert res.stdout.startswith("-- retention nrr")


# ----------------------------------------------------------------------------- verify
def test_verify_agrees_on_a_sample(tmp_path: Path) -> None:
    uri = write_table(tmp_path / "d.duckdb", SNAPSHOTS, Shape.snapshots)
    res = runner.invoke(app, ["verify", "--engine", uri, "--table", "t", "--sample", "100%"])
    assert res.exit_code == 0, res.output
    assert "accounts: 4; sampled: 4" in res.stdout
    assert "equal to the cent" in res.stdout


def test_verify_shows_a_difference_with_its_accounts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retention_cli.sql import run as sql_run

    real = sql_run.bridge_frame

    def off_by_a_cent(*args, **kwargs):  # type: ignore[no-untyped-def]
        frame = real(*args, **kwargs)
        return frame.with_columns(
            pl.when(pl.col("period") == "2024-04")
            .then(pl.col("reactivation_arr") + 1)
            .otherwise(pl.col("reactivation_arr"))
            .alias("reactivation_arr")
        )

    monkeypatch.setattr(sql_run, "bridge_frame", off_by_a_cent)
    uri = write_table(tmp_path / "d.duckdb", SNAPSHOTS, Shape.snapshots)
    res = runner.invoke(app, ["verify", "--engine", uri, "--table", "t", "--sample", "100%"])
    assert res.exit_code == 1, res.output
    assert "bridge 2024-04 reactivation_arr: local 140.50 vs SQL 140.51" in res.stdout
    assert "a, b" in res.stdout


def test_sample_is_a_stable_hash_share() -> None:
    from retention_cli.sql.verify import in_sample, parse_share

    assert parse_share("2%") == 0.02
    assert parse_share("0.5") == 0.5
    with pytest.raises(UsageError):
        parse_share("150%")
    names = [f"acct-{i}" for i in range(5000)]
    picked = [n for n in names if in_sample(n, 0.1)]
    assert 400 < len(picked) < 600
    assert picked == [n for n in names if in_sample(n, 0.1)]


# ----------------------------------------------------------------------------- PostgreSQL
def pg_table(uri: str, rows: list[tuple[object, ...]], shape: Shape, name: str = "t") -> None:
    """``rows`` as table ``name`` on the server (through psql)."""
    import subprocess

    cols = {c: t.replace("VARCHAR", "TEXT") for c, t in TYPES[shape].items()}
    spec = ", ".join(f'"{c}" {t}' for c, t in cols.items())

    def lit(v: object) -> str:
        return "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"

    values = ", ".join("(" + ", ".join(lit(v) for v in r) + ")" for r in rows)
    sql = f'DROP TABLE IF EXISTS "{name}"; CREATE TABLE "{name}" ({spec}); INSERT INTO "{name}" VALUES {values};'
    port = uri.rsplit(":", 1)[1].split("/")[0]
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", port, "-U", "retention", "-d", "postgres", "-q",
         "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("shape", list(CASES), ids=lambda s: s.value)
@pytest.mark.parametrize("policy", ["default", "grace", "window"])
def test_postgres_equals_the_core(postgres: str, shape: Shape, policy: str) -> None:
    from retention_cli.sql.run import engine_result

    pg_table(postgres, CASES[shape], shape)
    config = Config(policies=POLICIES[policy])
    cols = list(TYPES[shape])
    data = pl.DataFrame(
        [[None if v is None else str(v) for v in col] for col in zip(*CASES[shape], strict=True)],
        schema=dict.fromkeys(cols, pl.String),
        orient="col",
    )
    for command, method in (("bridge", Method.cohort), ("churn", Method.bridge)):
        opts = RunOptions(shape=shape, window=3, method=method)
        local = compute(command, load_frame(data, shape=shape.value), config, opts)
        remote = engine_result(command, postgres, "t", config, opts)
        same(local.frame, remote.frame)


def test_postgres_cli_output_equals_the_file(postgres: str, tmp_path: Path) -> None:
    pg_table(postgres, SNAPSHOTS, Shape.snapshots, name="snaps")
    csv = tmp_path / "s.csv"
    pl.DataFrame(SNAPSHOTS, schema=["account_id", "date", "arr"], orient="row").write_csv(csv)
    for command in ("bridge", "nrr", "churn"):
        local = runner.invoke(app, [command, str(csv), "-f", "csv"])
        remote = runner.invoke(
            app, [command, "--engine", postgres, "--table", "snaps", "-f", "csv"]
        )
        assert remote.exit_code == 0, remote.output
        assert remote.stdout == local.stdout
    res = runner.invoke(
        app, ["verify", "--engine", postgres, "--table", "snaps", "--sample", "50%"]
    )
    assert res.exit_code == 0, res.output


def test_postgres_failure_masks_the_password(postgres: str) -> None:
    uri = postgres.replace("retention@", "retention:hunter2@") + "_missing_db"
    res = runner.invoke(app, ["bridge", "--engine", uri, "--table", "t"])
    assert res.exit_code == 2
    assert "hunter2" not in res.output
    assert "retention:***@127.0.0.1" in res.output


@pytest.mark.parametrize("grain", [Grain.quarter, Grain.year])
@pytest.mark.parametrize("mode", ["net", "gross"])
@pytest.mark.parametrize("shape", list(CASES), ids=lambda s: s.value)
def test_longer_grains_equal_the_core(
    tmp_path: Path, grain: Grain, mode: str, shape: Shape
) -> None:
    from retention_cli.options import BridgeMode

    for policy in ("default", "as_new", "grace", *(["window"] if mode == "gross" else [])):
        config = Config(policies=POLICIES[policy])
        rows = CASES[shape]
        same(
            *both(
                tmp_path,
                rows,
                shape,
                "churn",
                config=config,
                grain=grain,
                bridge=BridgeMode(mode),
                window=3,
            )
        )


def test_reactivation_window_above_month_grain_is_refused(tmp_path: Path) -> None:
    uri = write_table(tmp_path / "d.duckdb", SNAPSHOTS, Shape.snapshots)
    cfg = tmp_path / "retention.yaml"
    cfg.write_text("policies:\n  reactivation_window: 3\n", encoding="utf-8")
    res = runner.invoke(
        app, ["bridge", "--engine", uri, "--table", "t", "-c", str(cfg), "--grain", "quarter"]
    )
    assert res.exit_code == 2
    assert "reactivation_window" in res.output
    res = runner.invoke(
        app,
        [
            "bridge",
            "--engine",
            uri,
            "--table",
            "t",
            "-c",
            str(cfg),
            "--grain",
            "quarter",
            "--bridge",
            "gross",
        ],
    )
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("command", ["sql", "verify"])
def test_help_teaches(command: str) -> None:
    text = runner.invoke(app, [command, "--help"], env={"COLUMNS": "100"}).stdout
    assert f"$ retention {command}" in text
    assert "<str>" not in text


def test_line_items_summed_under_combine_sum(tmp_path: Path) -> None:
    rows = [*SNAPSHOTS, ("d", "2025-02-28", "5.00"), ("b", "2025-01-31", "0.75")]
    config = Config.model_validate({"snapshots": {"combine": "sum"}})
    same(*both(tmp_path, rows, Shape.snapshots, "churn", config=config, window=3))
    uri = write_table(tmp_path / "d.duckdb", rows, Shape.snapshots)
    res = runner.invoke(app, ["bridge", "--engine", uri, "--table", "t"])
    assert res.exit_code == 2
    assert "another row for the same account and date" in res.output


def test_reading_rules_the_sql_cannot_apply_are_refused(tmp_path: Path) -> None:
    uri = write_table(tmp_path / "d.duckdb", SNAPSHOTS, Shape.snapshots)
    cfg = tmp_path / "retention.yaml"
    cfg.write_text("amount:\n  unit: mrr\n", encoding="utf-8")
    res = runner.invoke(app, ["bridge", "--engine", uri, "--table", "t", "-c", str(cfg)])
    assert res.exit_code == 2
    assert "amount.unit" in res.output


@pytest.mark.parametrize(
    ("rules", "named"),
    [
        ({"subscriptions": {"ends_after_term": True}}, "subscriptions.ends_after_term"),
        ({"billing": {"interval_count": 3}}, "billing.interval_count"),
        ({"amount": {"blank": "exclude"}}, "amount.blank"),
    ],
)
def test_every_reading_rule_is_refused_on_the_sql_path(rules: dict, named: str) -> None:
    """The SQL reads ARR as it is: a rule it would ignore is refused, never a quiet
    different number (ends_after_term gave 1,300 against the file path's 100)."""
    from retention_cli.config import parse_config
    from retention_cli.sql import unsupported

    assert unsupported(parse_config(rules)) == f"{named} reading rule"
    assert unsupported(parse_config({"snapshots": {"combine": "sum"}})) is None


# ----------------------------------------------------------------------------- input identity
def test_engine_input_has_a_stable_identity(tmp_path: Path) -> None:
    import json

    from retention_cli.sql.run import input_digest

    uri = write_table(tmp_path / "d.duckdb", SNAPSHOTS, Shape.snapshots)

    def digest() -> str:
        res = runner.invoke(app, ["nrr", "--engine", uri, "--table", "t", "-f", "json", "-q"])
        assert res.exit_code == 0, res.output
        block = json.loads(res.stdout)["input"]
        assert "the month-level rows" in block["sha256_of"]
        return str(block["sha256"])

    first = digest()
    assert len(first) == 64
    assert digest() == first  # same data, same options: same identity
    write_table(
        tmp_path / "d.duckdb", [*SNAPSHOTS[:-1], ("d", "2025-02-28", "10.02")], Shape.snapshots
    )
    assert digest() != first  # one cent changed
    # never a credential: the user and password are not part of it
    rows = pl.DataFrame({"period": [1]})
    src = Source("t", Shape.snapshots)
    assert input_digest("postgresql://me:s3cret@h:5432/db", src, rows) == input_digest(
        "postgresql://other@h:5432/db", src, rows
    )
    assert input_digest("postgresql://h:5432/db", src, rows) != input_digest(
        "postgresql://h:5432/db2", src, rows
    )


def test_check_takes_an_engine_baseline(tmp_path: Path) -> None:
    """The definitions hash leaves the input out: a baseline written by an engine run
    checks a file of the same data, and the numbers agree."""
    csv = Path(__file__).parent.parent / "examples" / "saas_movements.csv"
    db = tmp_path / "m.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(f"CREATE TABLE m AS SELECT * FROM read_csv('{csv}', all_varchar = true)")
    base = tmp_path / "base.json"
    res = runner.invoke(
        app, ["nrr", "--engine", f"duckdb://{db}", "--table", "m", "-f", "json", "-o", str(base)]
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["check", str(csv), "--baseline", str(base)])
    assert res.exit_code == 0, res.output
    assert "PASS" in res.output
