"""The command line: every command and format, streams, exit codes, errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retention_cli.cli import app
from retention_cli.metrics import (
    BRIDGE_KEYS,
    CHURN_KEYS,
    ECONOMICS_KEYS,
    MIX_KEYS,
    RETENTION_KEYS,
)
from tests.conftest import EXAMPLES, SHARED_DATA

MOVES = str(EXAMPLES / "saas_movements.csv")
SNAPS = str(EXAMPLES / "saas_snapshots.csv")
SUBS = str(EXAMPLES / "saas_subscriptions.csv")
TINY = str(EXAMPLES / "tiny_movements.csv")
SPEND = str(EXAMPLES / "spend.csv")
KEYS = {
    "nrr": RETENTION_KEYS,
    "bridge": BRIDGE_KEYS,
    "churn": CHURN_KEYS,
    "mix": MIX_KEYS,
    "cohorts": ("cohort_logos", "cohort_start_arr", *(f"quarter_{k}" for k in range(10))),
    "economics": (
        "sales_marketing", "customer_success", "gross_margin", "net_burn",
        "new_logos", "new_arr", "net_new_arr", "arpa", *ECONOMICS_KEYS,
    ),
}  # fmt: skip
EXTRA = {"economics": ("--spend", SPEND)}


def run(runner: CliRunner, *args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def test_version(runner: CliRunner) -> None:
    r = run(runner, "--version")
    assert r.exit_code == 0
    assert r.stdout.startswith("retention ")


def test_python_dash_m() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "retention_cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("retention ")


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize("command", list(KEYS))
@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_every_command_and_format(runner: CliRunner, command: str, fmt: str) -> None:
    r = run(runner, command, MOVES, *EXTRA.get(command, ()), "--format", fmt, "--grain", "quarter")
    assert r.exit_code == 0, r.stderr
    assert r.stdout
    assert "\x1b[" not in r.stdout  # no colour off a terminal
    if fmt == "json":
        doc = json.loads(r.stdout)
        assert doc["schema_version"] == 1
        assert doc["command"] == command
        assert set(doc["input"]) == {
            "path",
            "sha256",
            "rows_read",
            "rows_used",
            "rows_skipped",
            "shape",
        }
        assert doc["input"]["rows_read"] == doc["input"]["rows_used"] == 635
        assert doc["input"]["shape"] == "movements"
        for p in doc["periods"]:
            assert list(p) == ["period", "start", "end", *KEYS[command]]
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(r.stdout)))
        assert list(rows[0]) == ["period", "start", "end", *KEYS[command]]
        last = "FY2026-Q1" if command == "cohorts" else "FY2026-Q2"  # no logos won in Q2
        assert rows[-1]["period"] == last
    elif fmt == "table":
        assert "FY2026-Q1" in r.stdout
        # the definitions in force are stated in the caption
        caption = {
            "nrr": "cohort method · trailing 12-month window",
            "bridge": "net bridge at quarter grain · returns counted as reactivation",
            "churn": "period rates from the net bridge · window rates: cohort method, trailing 12-month window",
            "mix": "returns counted as reactivation · retained/acquired over a trailing 12-month window",
            "cohorts": "cells: cohort ARR / its ARR at the end of its first period · by fiscal quarter since acquisition",
            "economics": "net bridge · CAC lag 0 period(s) · LTV capped at 5 years, annual churn from 12-month cohort GRR",
        }[command]
        assert caption in " ".join(r.stdout.split())
        assert "standard calendar, FY starts January" in " ".join(r.stdout.split())
    else:
        assert r.stdout.startswith("### ")
        assert ("| Cohort |" if command == "cohorts" else "| Period |") in r.stdout


@pytest.mark.usefixtures("in_tmp")
def test_movements_and_snapshots_give_identical_nrr(runner: CliRunner) -> None:
    a = json.loads(run(runner, "nrr", MOVES, "-f", "json").stdout)
    b = json.loads(run(runner, "nrr", SNAPS, "-f", "json").stdout)
    c = json.loads(run(runner, "nrr", SUBS, "-f", "json").stdout)
    assert a["periods"] == b["periods"] == c["periods"]
    assert any(p["nrr"] is not None for p in a["periods"])


@pytest.mark.usefixtures("in_tmp")
def test_json_money_is_exact_and_bridge_reconciles(runner: CliRunner) -> None:
    doc = json.loads(run(runner, "bridge", MOVES, "-f", "json", "--by", "segment").stdout)
    for p in doc["periods"]:
        for k in ("start_arr", "end_arr", "new_arr"):
            assert round(p[k], 2) == p[k]
        if p["start_arr"] is None:
            continue
        cents = {k: round(p[k] * 100) for k in BRIDGE_KEYS if k.endswith("_arr")}
        assert (
            cents["start_arr"]
            + cents["new_arr"]
            + cents["reactivation_arr"]
            + cents["expansion_arr"]
            - cents["contraction_arr"]
            - cents["churned_arr"]
            == cents["end_arr"]
        )


@pytest.mark.usefixtures("in_tmp")
def test_output_file_format_from_extension(runner: CliRunner, in_tmp: Path) -> None:
    r = run(runner, "nrr", TINY, "-o", "out.json")
    assert r.exit_code == 0
    assert r.stdout == ""  # data went to the file
    assert "wrote out.json" in r.stderr
    assert json.loads((in_tmp / "out.json").read_text())["command"] == "nrr"
    r = run(runner, "nrr", TINY, "-o", "out.xyz")
    assert r.exit_code == 2
    assert "--format" in r.stderr


@pytest.mark.usefixtures("in_tmp")
def test_stdin(runner: CliRunner) -> None:
    text = (EXAMPLES / "tiny_movements.csv").read_text()
    r = run(runner, "nrr", "-", "-f", "json", input=text)
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["input"]["path"] == "<stdin>"
    assert doc["periods"][-1]["nrr"] == pytest.approx(3800 / 4500)


@pytest.mark.usefixtures("in_tmp")
def test_deterministic_bytes(runner: CliRunner) -> None:
    for fmt in ("json", "csv", "table", "markdown"):
        a = run(runner, "churn", MOVES, "-f", fmt).stdout
        b = run(runner, "churn", MOVES, "-f", fmt).stdout
        assert a == b


@pytest.mark.usefixtures("in_tmp")
def test_from_to_labels_and_dates(runner: CliRunner) -> None:
    doc = json.loads(
        run(runner, "bridge", MOVES, "-f", "json", "--from", "2025-03", "--to", "2025-05-10").stdout
    )
    assert [p["period"] for p in doc["periods"]] == ["2025-03", "2025-04", "2025-05"]
    doc = json.loads(
        run(runner, "nrr", MOVES, "-f", "json", "--grain", "year", "--from", "FY2025").stdout
    )
    assert [p["period"] for p in doc["periods"]] == ["FY2025", "FY2026"]
    r = run(runner, "nrr", MOVES, "--from", "2031-01")
    assert r.exit_code == 2
    assert "the data covers" in r.stderr
    r = run(runner, "nrr", MOVES, "--from", "last tuesday")
    assert r.exit_code == 2
    assert "FY2027-Q1" in r.stderr


@pytest.mark.usefixtures("in_tmp")
def test_fiscal_config(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "retention.yaml").write_text("fiscal_year:\n  start_month: 2\n  label: end\n")
    doc = json.loads(run(runner, "bridge", MOVES, "-f", "json", "--grain", "quarter").stdout)
    # data starts 2024-01 = the last month of FY2024 (Feb 2023 - Jan 2024)
    assert doc["periods"][0]["period"] == "FY2024-Q4"
    assert doc["periods"][1]["period"] == "FY2025-Q1"
    assert doc["periods"][1]["start"] == "2024-02-01"
    assert doc["options"]["fiscal_year"]["start_month"] == 2
    # the bundled config says the same
    doc2 = json.loads(
        run(
            runner,
            "bridge",
            MOVES,
            "-f",
            "json",
            "--grain",
            "quarter",
            "-c",
            str(EXAMPLES.parent / "configs" / "fiscal-feb.yaml"),
        ).stdout
    )
    assert doc2["periods"] == doc["periods"]


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("fiscal_year:\n  start_mnth: 2\n", "did you mean 'start_month'"),
        ("fiscal_year:\n  label: middle\n", "allowed values: 'end' or 'start'"),
        ("fiscal_year:\n  start_month: 13\n", "fiscal_year.start_month"),
        ("fiscal_yr: {}\n", "did you mean 'fiscal_year'"),
        ("fiscal_year: [\n", "not valid YAML"),
        ("- a\n- b\n", "must be a mapping"),
    ],
)
def test_bad_config_is_a_clear_error(
    runner: CliRunner, in_tmp: Path, yaml_text: str, expected: str
) -> None:
    (in_tmp / "bad.yaml").write_text(yaml_text)
    r = run(runner, "nrr", TINY, "-c", "bad.yaml")
    assert r.exit_code == 2
    assert expected in r.stderr
    assert "Traceback" not in r.stderr
    assert r.stdout == ""


@pytest.mark.usefixtures("in_tmp")
def test_bad_rows_name_file_line_column_value(runner: CliRunner, in_tmp: Path) -> None:
    # regression guard: a typo'd amount and an unknown type must stop the run, not be dropped
    (in_tmp / "bad.csv").write_text(
        "date,account_id,type,amount\n"
        "2025-01-05,a,new,100\n"
        "2025-02-05,a,expansion,abc\n"
        "2025-13-01,b,new,100\n"
        "2025-03-05,a,upsell,5\n"
        "2025-03-06,c,new,-5\n"
    )
    r = run(runner, "nrr", "bad.csv")
    assert r.exit_code == 2
    assert r.stdout == ""
    assert "Traceback" not in r.stderr
    assert (
        "bad.csv:3: amount: not a number (expected e.g. 1234.50, 1,234.50, $1,234.50 or (1,234.50)) ('abc')"
        in r.stderr
    )
    assert "bad.csv:4: date: not a date" in r.stderr
    assert "bad.csv:5: type: unknown movement type" in r.stderr
    assert "bad.csv:6: amount: negative amount for a new movement" in r.stderr
    assert "4 problems found" in r.stderr


@pytest.mark.usefixtures("in_tmp")
def test_movement_that_contradicts_state(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "bad.csv").write_text(
        "date,account_id,type,amount\n2025-01-05,a,new,100\n2025-02-05,a,contraction,150\n2025-03-05,b,churn,10\n"
    )
    r = run(runner, "bridge", "bad.csv")
    assert r.exit_code == 2
    assert "bad.csv:3: amount: contraction below zero" in r.stderr
    assert "bad.csv:4: type: churn on an account with no ARR" in r.stderr


@pytest.mark.usefixtures("in_tmp")
def test_debug_shows_traceback(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "bad.csv").write_text("date,account_id,type,amount\n2025-01-05,a,new,xyz\n")
    r = run(runner, "nrr", "bad.csv", "--debug")
    assert r.exit_code == 2
    assert "Traceback" in r.stderr


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"date,account_id,type,amount\n", "no data rows"),
        (b"foo,bar\n1,2\n", "cannot tell the input shape"),
        (b"\xff\xfe\x00garbage\x00\x01", "not valid UTF-8"),
        (b"Date,Customer,Kind,Value\n2025-01-01,a,new,5\n", "--column"),
    ],
)
def test_unusable_files(runner: CliRunner, in_tmp: Path, content: bytes, expected: str) -> None:
    (in_tmp / "f.csv").write_bytes(content)
    r = run(runner, "nrr", "f.csv")
    assert r.exit_code == 2
    assert expected in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.usefixtures("in_tmp")
def test_missing_file_and_directory(runner: CliRunner, in_tmp: Path) -> None:
    r = run(runner, "nrr", "nope.csv")
    assert (r.exit_code, r.stderr.strip()) == (2, "error: nope.csv: file not found")
    (in_tmp / "d").mkdir()
    r = run(runner, "nrr", "d")
    assert r.exit_code == 2
    assert "is a directory" in r.stderr


@pytest.mark.usefixtures("in_tmp")
def test_column_mapping_and_header_normalisation(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "f.csv").write_text(
        "Month,Customer ID,Account Type,MRR (USD)\n2025-01,a,x,100\n2025-02,a,x,150\n"
    )
    r = run(
        runner,
        "bridge",
        "f.csv",
        "-f",
        "json",
        "--column",
        "account_id=Customer ID",
        "--column",
        "mrr=MRR (USD)",
        "--column",
        "date=Month",
    )
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["input"]["shape"] == "snapshots"
    # MRR 150 -> ARR 1800; expansion = (150 - 100) * 12 = 600
    assert doc["periods"][1]["expansion_arr"] == 600
    assert doc["periods"][1]["end_arr"] == 1800


@pytest.mark.usefixtures("in_tmp")
def test_unknown_by_column(runner: CliRunner) -> None:
    r = run(runner, "nrr", MOVES, "--by", "segmnt")
    assert r.exit_code == 2
    assert "'segment'" in r.stderr


@pytest.mark.skipif(
    not (SHARED_DATA / "mrr-playbook").is_dir(), reason="../shared/data not beside the project"
)
@pytest.mark.usefixtures("in_tmp")
def test_shared_subscriptions_sample(runner: CliRunner) -> None:
    path = str(SHARED_DATA / "mrr-playbook" / "subscription_periods.csv")
    r = run(
        runner,
        "bridge",
        path,
        "--column",
        "account_id=customer_id",
        "--column",
        "mrr=monthly_amount",
        "-f",
        "json",
    )
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["input"]["shape"] == "subscriptions"
    assert doc["input"]["rows_read"] == doc["input"]["rows_used"] == 121
    first = doc["periods"][0]
    assert first["period"] == "2017-09"
    # customers 2 (25) and 3 (50) start 2017-09-01: ARR (25 + 50) * 12 = 900
    assert (first["new_logos"], first["end_arr"]) == (2, 900)


@pytest.mark.usefixtures("in_tmp")
def test_csv_output_neutralises_formulas_from_input(runner: CliRunner, in_tmp: Path) -> None:
    # hazard: a segment value written by a customer is opened by finance in a spreadsheet
    (in_tmp / "f.csv").write_text(
        'date,account_id,arr,segment\n2025-01-31,a,100,"=HYPERLINK(""http://x"",""y"")"\n2025-02-28,a,-0,@SUM(1)\n'
    )
    r = run(runner, "bridge", "f.csv", "--by", "segment", "-f", "csv")
    assert r.exit_code == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    segments = {row["segment"] for row in rows if row["segment"] != "(total)"}
    assert segments == {'\'=HYPERLINK("http://x","y")', "'@SUM(1)"}
    # numbers stay numbers, negative or not
    assert all(not row["end_arr"].startswith("'") for row in rows)


# ----------------------------------------------------------------------------- errors and streams
def _piped_to_nobody(*args: str) -> subprocess.CompletedProcess[bytes]:
    """Run retention with stdout a pipe whose reader has already gone (``| head -0``)."""
    with subprocess.Popen(
        [sys.executable, "-m", "retention_cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read()
    return subprocess.CompletedProcess(proc.args, proc.returncode, b"", err)


@pytest.mark.parametrize("fmt", ["csv", "table"])
def test_broken_pipe_is_a_quiet_exit(fmt: str) -> None:
    # hazard: `retention bridge x.csv | head -1` printed a BrokenPipeError traceback
    # (table output went through Rich, which exits 1 on its own)
    out = _piped_to_nobody("bridge", MOVES, "--by", "segment", "-f", fmt)
    assert (out.returncode, out.stderr) == (0, b"")


@pytest.mark.usefixtures("in_tmp")
def test_ctrl_c_says_interrupted(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("retention_cli.service.run_loaded", interrupted)
    r = run(runner, "nrr", TINY)
    assert (r.exit_code, r.stderr, r.stdout) == (130, "interrupted\n", "")


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(
    ("param", "shown"),
    [
        ("period", "--period"),
        ("date_from", "--from"),
        ("date_to", "--to"),
        ("as_of", "--as-of"),
        ("metric", "--metric"),
        ("by", "--by"),
        ("window", "--window"),
        ("year", "--year"),
        ("sheet", "--sheet"),
        ("on_invalid", "--on-invalid"),
        ("columns", "--column"),
        ("delimiter", "--delimiter"),
        ("config", "--config"),
        ("max_drop", "--max-drop"),
        ("output", "--output"),
        ("not_a_flag", "not_a_flag"),  # a parameter the CLI has no flag for keeps its name
        (None, None),
    ],
)
def test_error_param_is_shown_as_its_flag(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, param: str | None, shown: str | None
) -> None:
    from retention_cli.errors import UsageError

    def fails(*_: object, **__: object) -> None:
        msg = "no month '2024-13' in the data"
        raise UsageError(msg, param=param, hint="use a month label such as 2024-06")

    monkeypatch.setattr("retention_cli.service.run_loaded", fails)
    r = run(runner, "nrr", TINY)
    where = f"{shown}: " if shown else ""
    assert r.exit_code == 2
    assert r.stderr == (
        f"error: {where}no month '2024-13' in the data\nhint: use a month label such as 2024-06\n"
    )


@pytest.mark.usefixtures("in_tmp")
def test_core_errors_name_flags_on_the_command_line(runner: CliRunner) -> None:
    # the core raises param="config" / param="max_drop"; the user reads the flag
    r = run(runner, "nrr", TINY, "-c", "nope.yaml")
    assert (r.exit_code, r.stderr) == (
        2,
        "error: --config: nope.yaml: config file not found\nhint: check the path\n",
    )
    r = run(runner, "check", TINY, "--thresholds", "t.yaml", "--max-drop", "lots")
    assert r.exit_code == 2
    assert r.stderr.startswith("error: --max-drop: 'lots' is not a tolerance")


@pytest.mark.usefixtures("in_tmp")
def test_unexpected_exception_is_an_internal_error(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        msg = "boom"
        raise ValueError(msg)

    monkeypatch.setattr("retention_cli.service.run_loaded", broken)
    r = run(runner, "bridge", TINY)
    assert r.exit_code == 2
    assert r.stderr.startswith("internal error: ValueError: boom\n")
    assert "Traceback" not in r.stderr


def test_shared_options_reach_every_command_that_takes_them() -> None:
    # one row of SHARED is the whole declaration: tag "all" puts it on every command
    import typer.main

    from retention_cli.cli import SHARED

    group = typer.main.get_command(app)
    every = {o.flag for o in SHARED if o.tag == "all"}
    assert every == {"--quiet", "--debug"}
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        flags = {d for p in cmd.params for d in p.opts}
        assert every <= flags, name
    metric_flags = {o.flag for o in SHARED if o.tag in ("input", "span", "by") and o.flag}
    for name in ("nrr", "bridge", "churn", "mix", "cohorts", "economics", "report"):
        flags = {d for p in group.commands[name].params for d in p.opts}  # type: ignore[attr-defined]
        assert metric_flags <= flags, name


# ----------------------------------------------------------------------------- option values
def _tiny_with_header(old: str, new: str) -> str:
    """The tiny data with header column ``old`` renamed ``new`` (written to the cwd)."""
    text = Path(TINY).read_text()
    head, rest = text.split("\n", 1)
    path = f"renamed_{new.replace(' ', '_')}.csv"
    Path(path).write_text(head.replace(old, new) + "\n" + rest)
    return path


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(
    ("args", "flag", "expected"),
    [
        (["nrr", TINY, "--window", "1000000"], "--window", "1000000 fiscal months is longer"),
        (["nrr", TINY, "--window", "99999999999999999999"], "--window", "longer than the 1200"),
        (["churn", TINY, "--window", "1201"], "--window", "longer than the 1200"),
        (["nrr", TINY, "--delimiter", ""], "--delimiter", "an empty string is not a delimiter"),
        (["nrr", TINY, "--delimiter", "ab"], "--delimiter", "'ab' is not a delimiter"),
        (["nrr", TINY, "--delimiter", "\\n"], "--delimiter", "is not a delimiter"),
        (["nrr", TINY, "--by", "segment,segment"], "--by", "'segment' is given twice"),
        (["report", TINY, "--by", "segment, segment"], "--by", "'segment' is given twice"),
        (["explain", TINY, "--period", "2026-01", "--by", "segment=Nope"], "--by",
         "no account has segment=Nope in 2026-01"),
        (["calendar", "--year", "FY9999", "-c", str(EXAMPLES.parent / "configs/nrf-454.yaml")],
         "--year", "'FY9999' is outside the dates this calendar can show"),
    ],
)  # fmt: skip
def test_bad_option_values_are_located(
    runner: CliRunner, args: list[str], flag: str, expected: str
) -> None:
    out = runner.invoke(app, args)
    assert out.exit_code == 2, out.stdout
    assert "internal error" not in out.stderr
    assert f"error: {flag}: " in out.stderr
    assert expected in out.stderr
    assert "hint: " in out.stderr


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize("typed", ["\\t", "tab", "\t"])
def test_delimiter_backslash_t_is_a_tab(runner: CliRunner, typed: str) -> None:
    Path("tiny.tsv").write_text(Path(TINY).read_text().replace(",", "\t"))
    out = runner.invoke(app, ["nrr", "tiny.tsv", "--delimiter", typed, "-f", "csv"])
    assert out.exit_code == 0, out.stderr
    assert out.stdout == runner.invoke(app, ["nrr", TINY, "-f", "csv"]).stdout


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(
    ("column", "command"),
    [
        ("period", ["nrr"]),
        ("nrr", ["nrr"]),
        ("nrr", ["report"]),
        ("start", ["bridge"]),
        ("value", ["cohorts"]),
        ("_a", ["mix"]),
        ("month_3", ["cohorts"]),
        ("end_arr", ["explain", "--period", "2026-01", "--metric", "bridge"]),
    ],
)
def test_by_a_column_named_like_an_output_key_is_refused(
    runner: CliRunner, column: str, command: list[str]
) -> None:
    path = _tiny_with_header("segment", column)
    if command[0] == "explain":
        args = [command[0], path, *command[1:], "--by", f"{column}=SMB"]
    else:
        args = [command[0], path, *command[1:], "--by", column]
    out = runner.invoke(app, args)
    assert out.exit_code == 2, out.stdout
    assert "internal error" not in out.stderr
    assert "error: --by: cannot " in out.stderr
    assert f"{column!r}" in out.stderr
    assert f"hint: rename the column {column!r}" in out.stderr


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize("column", ["period", "end_arr", "class", "value", "_x"])
def test_explain_leaves_out_a_dimension_named_like_its_columns(
    runner: CliRunner, column: str
) -> None:
    path = _tiny_with_header("segment", column)
    out = runner.invoke(app, ["explain", path, "--period", "2026-01", "-f", "csv"])
    assert out.exit_code == 0, out.stderr
    assert f"warning: column {column!r} is left out of the accounts" in out.stderr
    assert "internal error" not in out.stderr


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("segment", "_line", "the column name '_line' is reserved"),
        ("segment", "Account ID", "two columns are read as account_id"),
        ("segment", "account-id", "two columns are read as account_id"),
    ],
)
@pytest.mark.parametrize("command", [["nrr"], ["explain", "--period", "2026-01"], ["validate"]])
def test_unusable_headers_are_located(
    runner: CliRunner, old: str, new: str, expected: str, command: list[str]
) -> None:
    path = _tiny_with_header(old, new)
    out = runner.invoke(app, [command[0], path, *command[1:]])
    assert out.exit_code == 2, out.stdout
    assert "internal error" not in out.stderr
    assert f"error: {path}:1: {expected}" in out.stderr
    assert "hint: " in out.stderr
