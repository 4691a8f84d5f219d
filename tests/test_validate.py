"""Validation that loses nothing (SPEC §2.3): `validate`, `--on-invalid skip`, hostile files."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from retention_cli.cli import app

MOVES_HEAD = "date,account_id,type,amount\n"

STATE_CASES = {
    # check: (rows after the header, the line it is on, text the report shows)
    "expansion with no ARR": ("2025-01-05,A,expansion,10\n", 2, "expansion on an account with no ARR"),
    "contraction with no ARR": ("2025-01-05,A,contraction,10\n", 2, "contraction on an account with no ARR"),
    "contraction below zero": (
        "2025-01-05,A,new,100\n2025-02-05,A,contraction,150\n", 3,
        "contraction below zero (the account's ARR is 100.00)",
    ),
    "churn amount differs": (
        "2025-01-05,A,new,100\n2025-02-05,A,churn,60\n", 3,
        "churn amount differs from the account's ARR 100.00",
    ),
    "new with ARR": (
        "2025-01-05,A,new,100\n2025-02-05,A,new,50\n", 3,
        "new for an account that already has ARR 100.00",
    ),
    "reactivation never seen": (
        "2025-01-05,A,reactivation,100\n", 2, "reactivation for an account never seen before",
    ),
    "negative new": ("2025-01-05,A,new,-100\n", 2, "negative amount for a new movement"),
    "unknown type": ("2025-01-05,A,upsell,100\n", 2, "unknown movement type"),
    "bad date": ("2025-13-05,A,new,100\n", 2, "not a date"),
    "bad number": ("2025-01-05,A,new,12x\n", 2, "not a number"),
}  # fmt: skip


def run(runner: CliRunner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


@pytest.mark.parametrize("case", sorted(STATE_CASES))
def test_each_movement_check(runner: CliRunner, in_tmp: Path, case: str) -> None:
    rows, line, text = STATE_CASES[case]
    (in_tmp / "m.csv").write_text(MOVES_HEAD + rows)
    strict = run(runner, "nrr", "m.csv")
    assert strict.exit_code == 2
    assert f"m.csv:{line}:" in strict.stderr
    assert text in strict.stderr
    report = run(runner, "validate", "m.csv", "-f", "json")
    assert report.exit_code == 2
    checks = json.loads(report.stdout)["checks"]
    assert any(c["severity"] == "error" and f"m.csv:{line}" in c["examples"] for c in checks)


def test_snapshot_checks(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "s.csv").write_text(
        "date,account_id,arr\n"
        "2025-01-31,A,100\n2025-02-28,A,100\n2025-04-30,A,100\n"  # A missing in March
        "2025-04-30,B,-5\n"  # negative
        "2025-04-30,C,5\n2025-04-30,C,6\n"  # conflicting duplicate
    )
    out = run(runner, "validate", "s.csv", "-f", "json")
    assert out.exit_code == 2
    checks = {c["check"]: c for c in json.loads(out.stdout)["checks"]}
    assert checks["negative ARR"]["examples"] == "s.csv:5 (-5)"
    dup = checks["an account has more than one row on one date (no item_id column)"]
    assert dup["rows"] == 2
    gap = next(c for c in checks.values() if c["check"].startswith("account missing"))
    assert gap["severity"] == "warning"
    assert gap["examples"] == "s.csv:4 (A)"  # back in April after missing March


def test_gap_alone_is_only_a_warning(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "s.csv").write_text("date,account_id,arr\n2025-01-31,A,100\n2025-03-31,A,100\n")
    out = run(runner, "validate", "s.csv")
    assert out.exit_code == 0
    assert "read as churn, then reactivation" in out.stdout


def test_subscription_end_before_start(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "sub.csv").write_text(
        "account_id,start_date,end_date,arr\nA,2025-03-01,2025-02-01,100\n"
    )
    out = run(runner, "validate", "sub.csv")
    assert out.exit_code == 2
    assert "end_date is before start_date" in out.stdout


def test_clean_file_validates(runner: CliRunner) -> None:
    from tests.conftest import EXAMPLES

    out = run(runner, "validate", str(EXAMPLES / "saas_movements.csv"), "-f", "json")
    assert out.exit_code == 0
    assert json.loads(out.stdout)["checks"] == []


def test_skip_counts_and_rejects(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "m.csv").write_text(
        MOVES_HEAD
        + "2025-01-05,A,new,100\n"
        + "2025-01-06,B,new,oops\n"  # bad number
        + "2025-02-05,C,churn,10\n"  # churn with no ARR
        + "2025-03-05,A,expansion,50\n"
    )
    out = run(runner, "nrr", "m.csv", "--on-invalid", "skip", "--rejects", "rej.csv", "-f", "json")
    assert out.exit_code == 0, out.stderr
    info = json.loads(out.stdout)["input"]
    assert (info["rows_read"], info["rows_used"], info["rows_skipped"]) == (4, 2, 2)
    assert "read 4 rows, used 2, skipped 2" in out.stderr
    rows = list(csv.DictReader(io.StringIO((in_tmp / "rej.csv").read_text())))
    assert [r["line"] for r in rows] == ["3", "4"]
    assert rows[0]["amount"] == "oops"
    assert rows[0]["reason"].startswith("amount: not a number")
    assert rows[1]["reason"] == "type: churn on an account with no ARR"


def test_skip_drops_the_cause_not_its_consequences(runner: CliRunner, in_tmp: Path) -> None:
    # the duplicate `new` is wrong; the later churn of the first 100 is then right
    (in_tmp / "m.csv").write_text(
        MOVES_HEAD + "2025-01-05,A,new,100\n2025-01-06,A,new,100\n2025-03-05,A,churn,100\n"
    )
    out = run(runner, "bridge", "m.csv", "--on-invalid", "skip", "-f", "json", "--rejects", "r.csv")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["input"]["rows_skipped"] == 1
    assert "2025-01-06" in (in_tmp / "r.csv").read_text()


def test_everything_invalid_is_an_error_even_when_skipping(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "m.csv").write_text(MOVES_HEAD + "x,A,new,1\n")
    out = run(runner, "nrr", "m.csv", "--on-invalid", "skip")
    assert out.exit_code == 2
    assert "every one of the 1 rows is invalid" in out.stderr


HOSTILE = {
    "empty": b"",
    "header only": b"date,account_id,type,amount\n",
    "binary": bytes(range(256)) * 4,
    "latin-1": "date,account_id,type,amount\n2025-01-05,Ren\xe9,new,100\n".encode("latin-1"),
    "long field": b"date,account_id,type,amount\n2025-01-05," + b"A" * 10_000 + b",new,100\n",
    "huge number": b"date,account_id,type,amount\n2025-01-05,A,new,1" + b"0" * 60 + b"\n",
    "year 9999": b"date,account_id,type,amount\n9999-12-31,A,new,100\n",
    "ragged": b"date,account_id,type,amount\n2025-01-05,A,new\n2025-01-06,B,new,1,extra\n",
    "only commas": b",,,\n,,,\n",
    "nul bytes": b"date,account_id,type,amount\n2025-01-05,A\x00,new,100\n",
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_never_traceback(runner: CliRunner, in_tmp: Path, case: str) -> None:
    (in_tmp / "h.csv").write_bytes(HOSTILE[case])
    for command in ("nrr", "validate"):
        out = run(runner, command, "h.csv")
        assert out.exit_code in (0, 2), (case, out.stdout, out.stderr)
        assert "Traceback" not in out.stderr
        assert "internal error" not in out.stderr, out.stderr
        if out.exit_code == 2 and command == "nrr":
            assert out.stderr.startswith("error: ")
        elif out.exit_code == 2:  # validate: the report of the errors, or why there is none
            assert "error" in out.stdout or out.stderr.startswith("error: ")


def test_year_9999_is_usable(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "h.csv").write_bytes(HOSTILE["year 9999"])
    out = run(runner, "bridge", "h.csv", "-f", "csv")
    assert out.exit_code == 0, out.stderr
    assert "9999-12" in out.stdout


def test_missing_directory_and_unreadable(runner: CliRunner, in_tmp: Path) -> None:
    assert "file not found" in run(runner, "nrr", "nope.csv").stderr
    (in_tmp / "d").mkdir()
    assert "is a directory" in run(runner, "nrr", "d").stderr
    locked = in_tmp / "locked.csv"
    locked.write_text(MOVES_HEAD + "2025-01-05,A,new,100\n")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):  # root reads anything
            pytest.skip("running as a user who can read a mode-000 file")
        out = run(runner, "nrr", str(locked))
        assert out.exit_code == 2
        assert "permission denied" in out.stderr
    finally:
        locked.chmod(0o644)


# ----------------------------------------------------------------------------- fuzzing
CELLS = st.one_of(
    st.sampled_from(["", "2025-01-05", "2025-13-40", "new", "churn", "expansion", "-5", "1e9",
                     "(1,000.00)", "$12.5", "abc", "9999-12-31", "0", "A", "B", "\"", ",", "1" * 30]),
    st.text(max_size=12),
)  # fmt: skip
HEADERS = ["date", "account_id", "type", "amount", "arr", "start_date", "end_date", "mrr", "seg"]
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                HealthCheck.function_scoped_fixture])  # fmt: skip


@st.composite
def csv_texts(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "table"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    header = draw(st.permutations(HEADERS).map(lambda h: h[: draw(st.integers(1, len(h)))]))
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=len(header) + 1), max_size=8))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(r)
    text = buf.getvalue()
    if draw(st.booleans()):  # a truncated file
        text = text[: draw(st.integers(0, len(text)))]
    return text.encode("utf-8", "surrogatepass") if text else b""


@pytest.mark.slow
@FUZZ
@given(data=csv_texts(), command=st.sampled_from(["nrr", "bridge", "validate", "mix", "cohorts"]))
def test_fuzz_exit_codes_and_no_traceback(
    runner: CliRunner, tmp_path: Path, data: bytes, command: str
) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    out = runner.invoke(app, [command, str(path)])
    assert out.exit_code in (0, 2), (out.exit_code, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    assert "internal error" not in out.stderr, out.stderr
    skip = runner.invoke(app, [command, str(path), "--on-invalid", "skip", "-f", "json", "-q"]) \
        if command != "validate" else None  # fmt: skip
    if skip is not None:
        assert skip.exit_code in (0, 2)
        assert "internal error" not in skip.stderr, skip.stderr
        if skip.exit_code == 0:
            info = json.loads(skip.stdout)["input"]
            assert info["rows_read"] == info["rows_used"] + info["rows_skipped"]


def test_ragged_row_is_named_by_line(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "r.csv").write_text(MOVES_HEAD + "2025-01-05,A,new,100\n2025-01-06,C,new,1,extra\n")
    out = run(runner, "nrr", "r.csv")
    assert out.exit_code == 2
    assert (
        "error: r.csv:3: 5 fields, but the header has 4 ('2025-01-06,C,new,1,extra')" in out.stderr
    )


# ----------------------------------------------------------------------------- currencies
FX = "fx:\n  reporting_currency: USD\n  rates: {EUR: 1.0856, GBP: '1.2650'}\n"


def test_currency_conversion_is_exact_and_churn_still_reaches_zero(
    runner: CliRunner, in_tmp: Path
) -> None:
    (in_tmp / "fx.yaml").write_text(FX)
    (in_tmp / "m.csv").write_text(
        "date,account_id,type,amount,currency\n"
        "2025-01-05,A,new,333.33,EUR\n"
        "2025-02-05,A,expansion,333.33,EUR\n"
        "2025-03-05,A,churn,666.66,EUR\n"
        "2025-01-05,B,new,100,usd\n"
    )
    out = run(runner, "bridge", "m.csv", "-c", "fx.yaml", "-f", "json")
    assert out.exit_code == 0, out.stderr
    rows = {r["period"]: r for r in json.loads(out.stdout)["periods"]}
    # A's running ARR converted: 333.33 x 1.0856 = 361.863 -> 361.86; 666.66 x 1.0856 = 723.726 -> 723.73
    assert rows["2025-01"]["new_arr"] == 461.86  # 361.86 + B's 100.00 USD
    assert rows["2025-02"]["expansion_arr"] == 361.87  # 723.73 - 361.86
    assert rows["2025-03"]["churned_arr"] == 723.73  # the whole converted ARR: back to zero
    assert rows["2025-03"]["end_arr"] == 100.0
    assert "converted EUR to USD" in out.stderr
    assert json.loads(out.stdout)["definitions"]["fx"]["rates"] == {
        "EUR": "1.0856",
        "GBP": "1.2650",
    }


def test_currency_without_a_rate_is_an_error_never_one(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "fx.yaml").write_text(FX)
    (in_tmp / "s.csv").write_text(
        "date,account_id,arr,currency\n2025-01-31,A,100,GBP\n2025-01-31,B,100,JPY\n2025-01-31,C,5,\n"
    )
    out = run(runner, "nrr", "s.csv", "-c", "fx.yaml")
    assert out.exit_code == 2
    assert (
        "s.csv:3: currency: no fx rate for this currency (fx.rates has: EUR, GBP, USD) ('JPY')"
        in out.stderr
    )
    assert "s.csv:4: currency: missing currency" in out.stderr
    report = run(runner, "validate", "s.csv", "-c", "fx.yaml", "-f", "json")
    assert report.exit_code == 2
    skipped = run(runner, "bridge", "s.csv", "-c", "fx.yaml", "--on-invalid", "skip", "-f", "json")
    assert json.loads(skipped.stdout)["periods"][0]["end_arr"] == 126.5  # 100 GBP x 1.265
    (in_tmp / "s.csv").write_text(
        "date,account_id,arr,currency\n2025-01-31,A,100,GBP\n2025-01-31,B,1,EUR\n"
    )
    several = run(runner, "nrr", "s.csv")  # no fx section, several currencies
    assert several.exit_code == 2
    assert "and no fx rates to convert them" in several.stderr


def test_bad_fx_config(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "fx.yaml").write_text("fx:\n  reporting_currency: USD\n  rates: {EUR: -1}\n")
    (in_tmp / "m.csv").write_text(MOVES_HEAD + "2025-01-05,A,new,100\n")
    out = run(runner, "nrr", "m.csv", "-c", "fx.yaml")
    assert out.exit_code == 2
    assert "rate for EUR must be a positive number" in out.stderr


# ----------------------------------------------------------------------------- init
def test_init_writes_a_valid_starter_and_never_overwrites(runner: CliRunner, in_tmp: Path) -> None:
    from retention_cli.config import Config, load_config

    out = run(runner, "init")
    assert out.exit_code == 0, out.stderr
    text = (in_tmp / "retention.yaml").read_text()
    for section in ("columns:", "fiscal_year:", "policies:", "# fx:", "economics:"):
        assert section in text
    assert load_config(in_tmp / "retention.yaml") == Config()  # the starter is the defaults
    (in_tmp / "retention.yaml").write_text("policies: {reactivation: as_new}\n")
    again = run(runner, "init")
    assert again.exit_code == 2
    assert "retention.yaml already exists; not overwriting it" in again.stderr
    assert "as_new" in (in_tmp / "retention.yaml").read_text()
    assert run(runner, "init", "--force").exit_code == 0
    assert (in_tmp / "retention.yaml").read_text() == text
