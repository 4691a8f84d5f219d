"""Bounds (issue 19, items 4 and 8): sums that cannot wrap, capped date spans, "no end"
markers, no future churn, located date errors, and Ctrl-C that stops a long run."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import retention_cli as rc
from retention_cli.bounds import MAX_TOTAL_CENTS, cents_text
from retention_cli.cli import app
from retention_cli.config import Config, parse_config
from retention_cli.errors import InputError, UsageError
from retention_cli.metrics.economics import economics

ROOT = Path(__file__).resolve().parents[1]
TINY = (ROOT / "examples" / "tiny_movements.csv").read_text()
NRF = ROOT / "configs" / "nrf-454.yaml"
INT64_MAX = 2**63 - 1


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str | Path) -> tuple[int, str, str]:
    out = runner.invoke(app, [str(a) for a in args])
    return out.exit_code, out.stdout, out.stderr


def tiny_plus(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "t.csv"
    path.write_text(TINY.rstrip("\n") + "\n" + "\n".join(rows) + "\n")
    return path


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


# ----------------------------------------------------------------------------- item 4: exact sums
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 40),
    share=st.sampled_from([0.5, 0.9, 0.999, 1.0, 1.001, 1.1, 2.0, 8.0, 16.0]),
    jitter=st.lists(st.integers(-10_000, 10_000), min_size=40, max_size=40),
    shrink=st.booleans(),
)
def test_sums_near_the_limit_are_exact_or_refused(
    n: int, share: float, jitter: list[int], shrink: bool
) -> None:
    """Accounts whose amounts add up to around 2**60 (and past 2**63) cents: the
    ledger's totals equal Python's exact integer sums, or loading stops with the
    clear error; never a wrapped number."""
    each = int(MAX_TOTAL_CENTS * share) // n
    values = [max(1, min(each + j, INT64_MAX - 10_000)) for j in jitter[:n]]
    rows = [("2025-01-10", f"A{i:03d}", "new", money(v)) for i, v in enumerate(values)]
    if shrink:  # a contraction a month later: its size counts towards the bound too
        rows.append(("2025-02-10", "A000", "contraction", money(-(values[0] // 2))))
    frame = pl.DataFrame(rows, schema=["date", "account_id", "type", "amount"], orient="row")
    moved = sum(values) + (values[0] // 2 if shrink else 0)
    if moved > MAX_TOTAL_CENTS:
        with pytest.raises(InputError) as err:
            rc.ledger_from_frame(frame, shape="movements")
        assert "too large to sum exactly" in err.value.problems[0].message
        return
    ledger = rc.ledger_from_frame(frame, shape="movements")
    b = rc.bridge(ledger)
    end = sum(values) - (values[0] // 2 if shrink else 0)
    assert b["end_arr"].to_list()[-1] == end
    assert b["new_arr"][0] == sum(values)
    nrr = rc.retention(ledger, window=1)
    assert nrr["cohort_start_arr"].to_list()[-1] == (sum(values) if shrink else None)


NEAR_THE_LIMIT = (  # (n, share, jitter, shrink): at, just under and past the bound
    (1, 1.0, [0] * 40, False),
    (1, 1.001, [0] * 40, False),
    (40, 0.999, [10_000, -10_000] * 20, False),
    (40, 0.999, [0] * 40, True),  # the contraction's size tips it over
    (7, 0.5, [-10_000] * 40, True),
    (3, 16.0, [0] * 40, False),  # past 2**63 in Python's sum
)


@pytest.mark.parametrize(("n", "share", "jitter", "shrink"), NEAR_THE_LIMIT)
def test_hand_made_sums_near_the_limit(
    n: int, share: float, jitter: list[int], shrink: bool
) -> None:
    """The quick sibling of the property above (which the full suite runs)."""
    test_sums_near_the_limit_are_exact_or_refused.hypothesis.inner_test(  # type: ignore[attr-defined]
        n=n, share=share, jitter=jitter, shrink=shrink
    )


def test_overflow_campaign_case_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    """The campaign's 100 rows of 999,999,999,999,999.99 (it printed −84,467,…)."""
    rows = [f"2025-01-10,X{i:03d},new,999999999999999.99,SMB" for i in range(100)]
    path = tmp_path / "t.csv"
    path.write_text("date,account_id,type,amount,segment\n" + "\n".join(rows) + "\n")
    for cmd in ("bridge", "nrr", "report"):
        code, out, err = run(runner, cmd, path)
        assert code == 2
        assert f"{path}: amount: the amounts add up to 99,999,999,999,999,999.00" in err
        assert "too large to sum exactly" in err
        assert "(line 2)" in err
        assert "-84,467" not in out + err
        assert "internal error" not in err


def test_snapshot_mrr_total_guard(tmp_path: Path) -> None:
    """MRR × 12 is guarded after the multiplication, per snapshot row."""
    big = MAX_TOTAL_CENTS // 12 // 100  # currency units: × 12 lands near the limit
    ok = pl.DataFrame({"date": ["2025-01-31"], "account_id": ["a"], "mrr": [str(big)]})
    assert rc.ledger_from_frame(ok).collect()["arr"][0] == big * 1200
    two = pl.DataFrame(
        {"date": ["2025-01-31", "2025-02-28"], "account_id": ["a", "a"], "mrr": [str(big)] * 2}
    )
    with pytest.raises(InputError, match="problem"):
        rc.ledger_from_frame(two)


def test_spend_totals_are_guarded(runner: CliRunner, tmp_path: Path) -> None:
    spend = tmp_path / "spend.csv"
    spend.write_text(
        "period,sales_marketing\n" + "".join(f"2025-{m:02d},90000000000000000\n" for m in (1, 2))
    )
    code, _, err = run(runner, "economics", ROOT / "examples" / "tiny_movements.csv",
                       "--spend", spend)  # fmt: skip
    assert code == 2
    assert "sales_marketing: the amounts add up to" in err


def test_ltv_past_exact_floats_is_null_with_a_reason() -> None:
    """LTV multiplies money (ARPA × margin × years): past 2**53 cents it is null, not
    a wrapped Int64 or an internal error."""
    arpa = 2**58 // 100  # currency units
    moves = pl.DataFrame(
        {
            "account_id": ["a", "b"],
            "date": ["2024-01-10", "2025-01-10"],
            "type": ["new", "new"],
            "amount": [str(arpa), "1"],
        }
    )
    led = rc.ledger_from_frame(moves)
    e = economics(led, settings=rc.Economics(gross_margin=1.0, ltv_cap_years=100))
    row = e.filter(pl.col("period") == "2025-01").row(0, named=True)
    assert row["ltv"] is None
    assert row["_why_ltv"] == "too large to compute to the cent"
    small = economics(led, settings=rc.Economics(gross_margin=0.5))
    assert small.filter(pl.col("period") == "2024-12")["ltv"][0] is None  # no 12-month cohort


def test_cents_text_is_exact() -> None:
    assert cents_text(2**63 - 1) == "92,233,720,368,547,758.07"
    assert cents_text(-5) == "-0.05"


# ----------------------------------------------------------------------------- item 8: dates
def test_one_far_date_is_a_span_error_naming_both_ends(runner: CliRunner, tmp_path: Path) -> None:
    path = tiny_plus(tmp_path, "9999-12-31,Z,new,100.00,SMB")
    for cmd in ("nrr", "report"):
        start = time.monotonic()
        code, out, err = run(runner, cmd, path)
        assert time.monotonic() - start < 10
        assert code == 2
        assert out == ""
        assert "spans 95,700 fiscal months, more than the 1,200 allowed" in err
        assert "from 2025-01-10 (line 2, date) to 9999-12-31 (line 13, date)" in err
        assert "limits.max_months" in err


def test_span_cap_is_configurable(runner: CliRunner, tmp_path: Path) -> None:
    path = tiny_plus(tmp_path, "1900-01-15,Z,new,1.00,SMB")
    code, _, err = run(runner, "nrr", path)
    assert code == 2
    assert "1900-01-15 (line 13, date)" in err
    config = tmp_path / "wide.yaml"
    config.write_text("limits:\n  max_months: 1600\n")
    code, out, _ = run(runner, "nrr", path, "-c", config, "-f", "csv")
    assert code == 0
    assert "1900-01" in out
    narrow = tmp_path / "narrow.yaml"
    narrow.write_text("limits:\n  max_months: 6\n")
    code, _, err = run(runner, "nrr", ROOT / "examples" / "tiny_movements.csv", "-c", narrow)
    assert code == 2
    assert "more than the 6 allowed" in err


@pytest.mark.parametrize("day", ["0000-01-01", "0001-01-05", "9999-12-31"])
@pytest.mark.parametrize("nrf", [False, True])
def test_dates_outside_the_calendar_are_located(
    runner: CliRunner, tmp_path: Path, day: str, nrf: bool
) -> None:
    """Dates the calendar cannot handle are named with their line (a week calendar
    stops at 9997-12-31, a January standard one at 9999-12-31, which stays usable)."""
    config = ("-c", NRF) if nrf else ()
    with_tiny = tiny_plus(tmp_path, f"{day},Z,new,1.00,SMB")
    code, _, err = run(runner, "nrr", with_tiny, *config)
    assert code == 2
    assert day in err
    assert "internal error" not in err
    alone = tmp_path / "alone.csv"
    alone.write_text(f"date,account_id,type,amount\n{day},Z,new,1.00\n")
    code, out, err = run(runner, "report", alone, *config, "-f", "json")
    assert "internal error" not in err
    if day.startswith("9999") and not nrf:
        assert code == 0
        assert '"9999-12"' in out
        return
    assert code == 2
    assert f"{alone}:2: date: outside the dates this calendar can show" in err
    assert day in err


def test_calendar_and_options_outside_the_range(runner: CliRunner) -> None:
    code, _, err = run(runner, "calendar", "--year", "FY9999", "-c", NRF)
    assert code == 2
    assert "--year" in err
    assert "FY9999" in err
    assert "internal error" not in err
    code, out, _ = run(runner, "calendar", "--year", "FY8998", "-c", NRF, "-f", "csv")
    assert code == 0
    assert "FY8998" in out
    tiny = ROOT / "examples" / "tiny_movements.csv"
    for flag, value in (("--as-of", "9999-12-31"), ("--to", "FY9999-Q1"), ("--from", "0000-01")):
        code, _, err = run(runner, "nrr", tiny, flag, value, "-c", NRF)
        assert code == 2
        assert flag in err
        assert "internal error" not in err
    cal = rc.FiscalCalendar(Config().fiscal_year)
    with pytest.raises(UsageError, match="as_of: '0999-12-31' is outside the dates"):
        cal.resolve("0999-12-31", param="as_of")


def test_huge_window_is_a_usage_error(runner: CliRunner) -> None:
    code, _, err = run(runner, "nrr", ROOT / "examples" / "tiny_movements.csv",
                       "--window", "1000000")  # fmt: skip
    assert code == 2
    assert "--window" in err
    assert "1200 allowed" in err
    with pytest.raises(UsageError, match="window: 1201 fiscal months is longer"):
        rc.retention(rc.ledger_from_frame(pl.read_csv(ROOT / "examples" / "tiny_movements.csv",
                                                      infer_schema=False)), window=1201)  # fmt: skip


def subs(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "subs.csv"
    path.write_text("account_id,start_date,end_date,arr,segment\n" + "\n".join(rows) + "\n")
    return path


def test_no_end_markers_are_open_ended(runner: CliRunner, tmp_path: Path) -> None:
    path = subs(
        tmp_path,
        "A,2025-01-10,9999-12-31,1000.00,SMB",
        "B,2025-02-01,4712-12-31,500.00,SMB",
        "C,2025-03-01,,700.00,SMB",
    )
    code, out, err = run(runner, "bridge", path, "-f", "csv")
    assert code == 0
    assert "9999" not in out
    assert "4712" not in out
    assert out.splitlines()[-1].startswith("2025-03,")
    assert ",2200.00," in out
    assert "2 subscription(s) end on a 'no end' date" in err
    # with the marker asked for, it still reaches no further than an as-of day
    code, out, _ = run(runner, "churn", path, "-f", "csv", "--as-of", "2030-12-31")
    assert code == 0
    assert "9999" not in out
    assert "4712" not in out


def test_no_end_markers_come_from_the_config(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {"account_id": ["A", "B"], "start_date": ["2025-01-10", "2025-03-01"],
         "end_date": ["2025-02-15", ""], "arr": ["10", "20"]}
    )  # fmt: skip
    marked = parse_config({"subscriptions": {"open_end_dates": ["2025-02-15"]}})
    led = rc.ledger_from_frame(frame, shape="subscriptions", config=marked)
    assert led.collect().filter(pl.col("account_id") == 0)["arr"].to_list() == [1000] * 3
    literal = rc.ledger_from_frame(frame, shape="subscriptions")
    assert literal.collect().filter(pl.col("account_id") == 0)["arr"].to_list() == [1000, 0, 0]


def test_future_ends_are_not_churn_unless_asked(runner: CliRunner, tmp_path: Path) -> None:
    """The data's as-of month for subscriptions is the month of the latest start:
    ends after it are scheduled, not churn that happened."""
    path = subs(
        tmp_path,
        "A,2025-01-10,2031-06-30,1000.00,SMB",
        "B,2025-02-01,2025-06-01,500.00,SMB",
        "C,2025-12-01,,700.00,SMB",
    )
    code, out, err = run(runner, "bridge", path, "--grain", "year", "-f", "csv")
    assert code == 0
    assert "FY2026" not in out
    assert "FY2031" not in out
    assert "1 subscription(s) end after 2025-12, the month of the latest start date" in err
    code, out, _ = run(runner, "bridge", path, "-f", "csv")
    june = next(r for r in out.splitlines() if r.startswith("2025-06,")).split(",")
    assert june[8:10] == ["500.00", "1000.00"]  # B's end is before the as-of month: churn
    code, out, err = run(runner, "bridge", path, "--grain", "year", "-f", "csv",
                         "--as-of", "2031-12-31")  # fmt: skip
    assert code == 0
    assert "end after" not in err
    fy2031 = next(r for r in out.splitlines() if r.startswith("FY2031,"))
    assert fy2031.split(",")[8] == "1000.00"  # churned_arr: asked for, so reported


def test_fully_churned_file_reports_to_the_latest_start() -> None:
    frame = pl.DataFrame(
        {"account_id": ["A"], "start_date": ["2025-01-01"], "end_date": ["2025-03-01"],
         "arr": ["10"]}
    )  # fmt: skip
    led = rc.ledger_from_frame(frame, shape="subscriptions")
    assert led.last_period == led.first_period
    assert any("end after 2025-01" in w for w in led.warnings)


def _wait_for_sigint_handler(pid: int, limit: float = 30.0) -> None:
    """Wait until the child Python has installed its SIGINT handler (Linux: the
    ``SigCgt`` mask in /proc), so the signal tests the tool, not interpreter start-up."""
    status = Path(f"/proc/{pid}/status")
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            caught = next(
                int(line.split()[1], 16)
                for line in status.read_text().splitlines()
                if line.startswith("SigCgt:")
            )
        except (OSError, StopIteration):
            caught = 1 << (signal.SIGINT - 1) if not status.parent.exists() else 0
        if caught & (1 << (signal.SIGINT - 1)):
            return
        time.sleep(0.05)


# ----------------------------------------------------------------------------- Ctrl-C
@pytest.mark.slow
def test_ctrl_c_stops_a_long_report_with_130(tmp_path: Path) -> None:
    """SIGINT during ``report`` on a large file ends it within seconds, exit 130, and
    the output file is not left behind half-written."""
    accounts, months = 60_000, 24
    grid = pl.DataFrame({"a": pl.int_range(accounts, eager=True)}).join(
        pl.DataFrame({"m": pl.int_range(months, eager=True)}), how="cross"
    )
    day = pl.date(2022 + pl.col("m") // 12, pl.col("m") % 12 + 1, 28)
    frame = grid.select(
        date=day,
        account_id=pl.format("ACC{}", pl.col("a")),
        arr=(pl.col("a") * 7919 + pl.col("m") * 104729) % 500_000 + 100,
        segment=pl.when(pl.col("a") % 3 == 0).then(pl.lit("SMB")).otherwise(pl.lit("ENT")),
    )
    data = tmp_path / "big.csv"
    frame.write_csv(data)
    out = tmp_path / "out.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "retention_cli", "report", str(data), "--by", "segment",
         "-q", "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
        # a shell's background job ignores SIGINT; the child must see the default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    _wait_for_sigint_handler(proc.pid)  # on a loaded machine start-up can take seconds
    time.sleep(1.0)
    assert proc.poll() is None, "the report finished before the signal: use a larger file"
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 8
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err
    assert b"internal error" not in err
    assert not out.exists()
