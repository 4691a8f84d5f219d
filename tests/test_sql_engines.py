"""Engines we cannot run here (issue 20): Snowflake, BigQuery and Spark Connect.

Their drivers are replaced by fakes: the dispatch, the missing-driver message (exit 2,
naming the extra), the masking of credentials (also when the driver's own error
quotes the URI), and the SQL each engine would be sent. The fakes run that SQL by
reading it back into DuckDB's dialect with SQLGlot, so a whole command goes end to end
and must equal the local path byte for byte. None of this touches a live service.
"""

from __future__ import annotations

import datetime as dt
import sys
import types
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from retention_cli.cli import app
from retention_cli.sql.engine import bigquery_options, location, mask, secrets

duckdb = pytest.importorskip("duckdb", reason="duckdb is in the test extra")
sqlglot = pytest.importorskip("sqlglot")

runner = CliRunner()

ROWS = [
    ("a", "2024-01-31", "100.00", "SMB"),
    ("a", "2024-02-29", "120.00", "ENT"),
    ("b", "2024-02-29", "50.00", None),
    ("b", "2024-03-31", "60.00", "SMB"),
    ("c", "2024-03-31", "10.00", "ENT"),
    ("a", "2024-04-30", "0.00", "ENT"),
]

URIS = {
    "snowflake": "snowflake://me:s3cret@acct-1/db/public?warehouse=wh&private_key_file_pwd=k3y",
    "bigquery": "bigquery://my-project/analytics?credentials=/keys/s3cret.json&location=EU",
    "spark": "sc://spark.example:15002/;token=s3cret;user_id=me",
}
SECRETS = ("s3cret", "k3y")


class Recorder:
    """What the fake drivers saw: each SQL statement and the connection options."""

    def __init__(self, path: Path, dialect: str, upper: bool) -> None:
        self.path, self.dialect, self.upper = path, dialect, upper
        self.sql: list[str] = []
        self.options: list[object] = []

    def run(self, sql: str) -> tuple[list[str], list[tuple[object, ...]]]:
        """Run ``sql`` (the engine's dialect) on the DuckDB file, as the engine would."""
        self.sql.append(sql)
        back = sqlglot.transpile(sql, read=self.dialect, write="duckdb")[0]
        with duckdb.connect(str(self.path), read_only=True) as con:
            cur = con.execute(back)
            names = [d[0].upper() if self.upper else d[0] for d in cur.description]
            return names, cur.fetchall()


class FakeCursor:
    def __init__(self, rec: Recorder) -> None:
        self.rec, self.description, self.rows = rec, None, []

    def execute(self, sql: str) -> None:
        names, self.rows = self.rec.run(sql)
        self.description = [(n,) for n in names]

    def fetchall(self) -> list[tuple[object, ...]]:
        return self.rows

    def close(self) -> None:
        pass


class FakeConnection:
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def cursor(self) -> FakeCursor:
        return FakeCursor(self.rec)

    def close(self) -> None:
        pass


def install_fake(monkeypatch: pytest.MonkeyPatch, engine: str, rec: Recorder | Exception) -> None:
    """Put a fake driver for ``engine`` in ``sys.modules``: it runs on ``rec``, or raises
    ``rec`` when connecting."""

    def connect(*args: object, **kwargs: object) -> FakeConnection:
        if isinstance(rec, Exception):
            raise rec
        rec.options.append(args or kwargs)
        return FakeConnection(rec)

    if engine in ("snowflake", "bigquery"):
        name = f"adbc_driver_{engine}"
        mod, dbapi = types.ModuleType(name), types.ModuleType(f"{name}.dbapi")
        dbapi.connect = connect  # type: ignore[attr-defined]
        mod.dbapi = dbapi  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, name, mod)
        monkeypatch.setitem(sys.modules, f"{name}.dbapi", dbapi)
        return

    class Frame:
        def __init__(self, sql: str) -> None:
            assert isinstance(rec, Recorder)
            self.columns, self.rows = rec.run(sql)

        def collect(self) -> list[tuple[object, ...]]:
            return self.rows

    class Session:
        def sql(self, sql: str) -> Frame:
            return Frame(sql)

    class Builder:
        def remote(self, uri: str) -> Builder:
            if isinstance(rec, Exception):
                raise rec
            rec.options.append(uri)
            return self

        def getOrCreate(self) -> Session:  # pyspark spells it so
            return Session()

    pyspark, sql_mod = types.ModuleType("pyspark"), types.ModuleType("pyspark.sql")
    sql_mod.SparkSession = types.SimpleNamespace(builder=Builder())  # type: ignore[attr-defined]
    pyspark.sql = sql_mod  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pyspark", pyspark)
    monkeypatch.setitem(sys.modules, "pyspark.sql", sql_mod)


def write_table(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(
            'CREATE OR REPLACE TABLE "t" (account_id VARCHAR, "date" DATE, arr DECIMAL(18, 2), '
            "segment VARCHAR)"
        )
        con.executemany('INSERT INTO "t" VALUES (?, ?, ?, ?)', ROWS)


DIALECTS = {"snowflake": "snowflake", "bigquery": "bigquery", "spark": "spark"}


@pytest.mark.parametrize("engine", list(URIS))
def test_engine_runs_end_to_end_through_its_dialect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    db = tmp_path / "d.duckdb"
    write_table(db)
    csv = tmp_path / "s.csv"
    pl.DataFrame(ROWS, schema=["account_id", "date", "arr", "segment"], orient="row").write_csv(csv)
    rec = Recorder(db, DIALECTS[engine], upper=engine == "snowflake")
    install_fake(monkeypatch, engine, rec)
    for command in ("bridge", "churn"):
        args = ["--by", "segment", "-f", "csv"]
        local = runner.invoke(app, [command, str(csv), *args])
        remote = runner.invoke(app, [command, "--engine", URIS[engine], "--table", "t", *args])
        assert local.exit_code == 0, local.output
        assert remote.exit_code == 0, remote.output
        assert remote.stdout == local.stdout
    # the SQL sent is the metric SQL in the engine's dialect (the golden files pin it)
    from retention_cli.calendar import FiscalCalendar
    from retention_cli.options import Shape
    from retention_cli.sql import Source, metric_sql, transpile

    names = ["account_id", "date", "arr", "segment"]
    real = {n: n.upper() if engine == "snowflake" else n for n in names}
    source = Source("t", Shape.snapshots, real)  # Snowflake: the names as it spells them
    span = (dt.date(2024, 1, 31), dt.date(2024, 4, 30))
    expected = metric_sql("churn", source, FiscalCalendar(), span, by=[real["segment"]])
    assert rec.sql[-1] == transpile(expected, DIALECTS[engine])
    for sql in rec.sql:  # every statement parses in the engine's dialect
        sqlglot.parse_one(sql, read=DIALECTS[engine])
    if engine == "bigquery":
        assert rec.options[0] == {"db_kwargs": bigquery_options(URIS["bigquery"])}


@pytest.mark.parametrize("engine", list(URIS))
def test_a_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    for name in {
        "snowflake": ["adbc_driver_snowflake", "adbc_driver_snowflake.dbapi"],
        "bigquery": ["adbc_driver_bigquery", "adbc_driver_bigquery.dbapi"],
        "spark": ["pyspark", "pyspark.sql"],
    }[engine]:
        monkeypatch.setitem(sys.modules, name, None)  # an import of it fails
    res = runner.invoke(app, ["nrr", "--engine", URIS[engine], "--table", "t"])
    assert res.exit_code == 2, res.output
    extra = {"snowflake": "snowflake", "bigquery": "bigquery", "spark": "spark-connect"}[engine]
    assert f"retention-cli[{extra}]" in res.output
    assert not any(s in res.output for s in SECRETS)


@pytest.mark.parametrize("engine", list(URIS))
def test_a_driver_error_quoting_the_uri_is_masked(
    monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    uri = URIS[engine]
    # the driver's message quotes the URI and, separately, each credential in it
    leak = RuntimeError(f"could not connect to {uri}: rejected {' and '.join(secrets(uri))}")
    install_fake(monkeypatch, engine, leak)
    res = runner.invoke(app, ["bridge", "--engine", uri, "--table", "t"])
    assert res.exit_code == 2, res.output
    assert "could not connect" in res.output
    assert not any(s in res.output for s in SECRETS), res.output
    assert "***" in res.output


def test_masking_and_location() -> None:
    assert mask(URIS["snowflake"]) == (
        "snowflake://me:***@acct-1/db/public?warehouse=wh&private_key_file_pwd=***"
    )
    assert mask(URIS["spark"]) == "sc://spark.example:15002/;token=***;user_id=me"
    assert mask(URIS["bigquery"]) == "bigquery://my-project/analytics?credentials=***&location=EU"
    assert mask("postgresql://me:p%40ss@h/db?password=x") == "postgresql://me:***@h/db?password=***"
    assert set(secrets("postgresql://me:p%40ss@h/db")) == {"p%40ss", "p@ss"}
    assert location(URIS["snowflake"]) == "snowflake://acct-1/db/public"
    assert location(URIS["spark"]) == "sc://spark.example:15002"
    assert location("postgresql://me:pw@db.example:5432/billing") == (
        "postgresql://db.example:5432/billing"
    )


def test_bigquery_options() -> None:
    assert bigquery_options(URIS["bigquery"]) == {
        "adbc.bigquery.sql.project_id": "my-project",
        "adbc.bigquery.sql.query.default_project_id": "my-project",
        "adbc.bigquery.sql.query.default_dataset_id": "analytics",
        "adbc.bigquery.sql.auth_credentials": "/keys/s3cret.json",
        "adbc.bigquery.sql.location": "EU",
        "adbc.bigquery.sql.auth_type": "adbc.bigquery.sql.auth_type.json_credential_file",
    }
    res = runner.invoke(app, ["nrr", "--engine", "bigquery://p/d?token=s3cret", "--table", "t"])
    assert res.exit_code == 2
    assert "s3cret" not in res.output
