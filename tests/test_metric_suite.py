"""Growth mix, cohorts, unit economics and report, worked out by hand on the tiny data set.

ARR at each month end (see tests/test_hand_examples.py):

    month     A      B      C      D      E      F     total  logos
    2025-01   1000   2000   1000   500    .      .     4500   4     A,B,C,D new
    2025-04   1000   2000   0      500    .      .     3500   3     C churns
    2025-06   1500   2000   0      500    .      .     4000   3     A +500
    2025-07   1500   2000   0      500    3000   .     7000   4     E new
    2025-09   1500   1500   0      500    3000   .     6500   4     B -500
    2025-10   1500   1500   800    500    3000   .     7300   5     C returns at 800
    2025-11   1500   1500   800    0      3000   .     6800   4     D churns
    2026-01   1500   1500   800    0      3000   700   7500   5     F new

Segments: B and E are Enterprise, the rest SMB. Money in the frames is in cents.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import retention_cli as rc
from retention_cli.cli import app
from retention_cli.config import Economics
from retention_cli.spend import load_spend
from tests.conftest import EXAMPLES
from tests.test_hand_examples import TINY_MOVES, ledger, row

Q = rc.Grain.quarter


# ----------------------------------------------------------------------------- mix
def test_mix_month_with_no_losses_has_null_quick_ratio() -> None:
    m = row(rc.mix(ledger(TINY_MOVES)), "2026-01")
    # 2025-12 -> 2026-01: F new 700, nothing lost
    assert m["gross_new_arr"] == 700_00
    assert m["acquisition_share"] == 1.0  # 700 / 700
    assert m["expansion_share"] == 0.0
    assert m["quick_ratio"] is None  # 700 / 0: no losses -> null, never infinity
    assert m["net_new_arr"] == 700_00
    # cohort at 2025-01 (A, B, C, D) holds 1500 + 1500 + 800 + 0 = 3800 at 2026-01
    assert m["retained_arr"] == 3800_00
    # E 3000 + F 700 were acquired since; 3800 + 3700 = end ARR 7500
    assert m["acquired_arr"] == 3700_00
    assert m["retention_to_acquisition"] == pytest.approx(3800 / 3700)
    assert m["arpa"] == 1500_00  # 7500 / 5 logos
    assert m["new_logo_acv"] == 700_00  # 700 / 1 new logo


def test_mix_quarter_shares_and_quick_ratio() -> None:
    m = row(rc.mix(ledger(TINY_MOVES), grain=Q), "FY2025-Q4")
    # end Sep 6500 -> end Dec 6800: C reactivates 800, D churns 500
    assert m["gross_new_arr"] == 800_00
    assert m["reactivation_share"] == 1.0  # 800 / 800
    assert m["quick_ratio"] == pytest.approx(1.6)  # 800 / 500
    assert m["net_new_arr"] == 300_00  # 800 - 500
    assert m["arpa"] == 1700_00  # 6800 / 4 logos (A, B, C, E)
    assert m["new_logo_acv"] is None  # no new logos in the quarter


def test_mix_quick_ratio_note_in_output(runner: CliRunner) -> None:
    out = runner.invoke(app, ["mix", TINY_MOVES, "-f", "json"])
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    jan = next(p for p in doc["periods"] if p["period"] == "2026-01")
    assert jan["quick_ratio"] is None
    note = next(n for n in doc["notes"] if n.startswith("quick_ratio is null in"))
    assert note.startswith("quick_ratio is null in 2025-01, 2025-02, 2025-03, 2025-05")
    assert "more: no contraction or churn in the period" in note


def test_arpa_rounds_half_away_from_zero_to_the_cent() -> None:
    snaps = pl.DataFrame(
        {
            "account_id": ["a", "b", "c"],
            "date": ["2026-01-31"] * 3,
            "arr": ["100.00", "0.01", "0.01"],
        }
    )
    m = rc.mix(rc.ledger_from_frame(snaps, shape="snapshots")).row(0, named=True)
    # 100.02 / 3 = 33.34; cents: 10002 / 3 = 3334
    assert m["arpa"] == 3334
    snaps2 = snaps.with_columns(pl.Series("arr", ["0.03", "0.02", "0.00"]))
    snaps2 = snaps2.filter(pl.col("arr") != "0.00")
    # 0.05 / 2 = 0.025 -> 0.03 (half away from zero), not banker's 0.02
    m2 = rc.mix(rc.ledger_from_frame(snaps2, shape="snapshots")).row(0, named=True)
    assert m2["arpa"] == 3


def test_mix_segments_sum_and_retained_follows_cohort_segment() -> None:
    m = rc.mix(ledger(TINY_MOVES), by=["segment"])
    total = row(m, "2026-01", segment=None)
    ent = row(m, "2026-01", segment="Enterprise")
    smb = row(m, "2026-01", segment="SMB")
    # Enterprise: cohort B 2000 -> 1500 retained; E 3000 acquired
    assert (ent["retained_arr"], ent["acquired_arr"]) == (1500_00, 3000_00)
    # SMB: cohort A, C, D -> 1500 + 800 + 0 = 2300 retained; F 700 acquired
    assert (smb["retained_arr"], smb["acquired_arr"]) == (2300_00, 700_00)
    for key in ("gross_new_arr", "net_new_arr", "retained_arr", "acquired_arr"):
        assert total[key] == ent[key] + smb[key], key


def test_empty_segment_gets_a_row_with_null_ratios() -> None:
    # at 2025-07 with a 3-month window the cohort is the 2025-04 accounts: A, B, D.
    # Every segment has a row in every period; a 1-month window at 2025-02 for a
    # segment with no cohort account gives null, not 0 or an error.
    moves = pl.DataFrame(
        {
            "account_id": ["a", "b"],
            "date": ["2025-01-10", "2025-03-10"],
            "type": ["new", "new"],
            "amount": ["100", "200"],
            "tier": ["gold", "silver"],
        }
    )
    L = rc.build_ledger(
        rc.load_frame(moves), rc.FiscalCalendar(rc.FiscalYear()), dimensions=["tier"]
    )
    r = rc.retention(L, window=1, by=["tier"])
    silver = row(r, "2025-02", tier="silver")  # silver has no account until March
    assert silver["cohort_logos"] == 0
    assert silver["nrr"] is None
    assert silver["grr"] is None
    b = rc.bridge(L, by=["tier"])
    assert row(b, "2025-01", tier="silver")["end_arr"] == 0
    assert b.filter(pl.col("period") == "2025-01").height == 3  # total, gold, silver


# ----------------------------------------------------------------------------- cohorts
def test_cohorts_quarter_nrr_grr_logos_by_hand() -> None:
    L = ledger(TINY_MOVES)
    nrr = row(rc.cohorts(L, grain=Q), "FY2025-Q1")
    # A, B, C, D acquired in January; ARR at the end of March = 1000 + 2000 + 1000 + 500
    assert (nrr["cohort_logos"], nrr["cohort_start_arr"]) == (4, 4500_00)
    assert nrr["quarter_0"] == 1.0
    assert nrr["quarter_1"] == pytest.approx(4000 / 4500)  # Jun: 1500 + 2000 + 0 + 500
    assert nrr["quarter_2"] == pytest.approx(3500 / 4500)  # Sep: 1500 + 1500 + 0 + 500
    assert nrr["quarter_3"] == pytest.approx(3800 / 4500)  # Dec: 1500 + 1500 + 800 + 0
    assert nrr["quarter_4"] == pytest.approx(3800 / 4500)  # FY2026-Q1 so far (Jan)
    grr = row(rc.cohorts(L, grain=Q, metric="grr"), "FY2025-Q1")
    # Jun: min(1500,1000) + min(2000,2000) + 0 + min(500,500) = 3500
    assert grr["quarter_1"] == pytest.approx(3500 / 4500)
    # Dec: 1000 + 1500 + min(800,1000) + 0 = 3300
    assert grr["quarter_3"] == pytest.approx(3300 / 4500)
    logos = row(rc.cohorts(L, grain=Q, metric="logos"), "FY2025-Q1")
    assert logos["quarter_1"] == 0.75  # A, B, D of 4
    assert logos["quarter_3"] == 0.75  # A, B, C (back) of 4
    later = row(rc.cohorts(L, grain=Q), "FY2025-Q3")
    # E alone: 3000 throughout; cells past the data are null
    assert (later["cohort_logos"], later["quarter_2"], later["quarter_3"]) == (1, 1.0, None)


def test_cohorts_json_and_csv_carry_the_matrix(runner: CliRunner) -> None:
    out = runner.invoke(app, ["cohorts", TINY_MOVES, "--grain", "quarter", "-f", "json"])
    assert out.exit_code == 0, out.stderr
    first = json.loads(out.stdout)["periods"][0]
    assert first["period"] == "FY2025-Q1"
    assert first["cohort_start_arr"] == 4500.0
    assert first["quarter_2"] == pytest.approx(3500 / 4500)
    csv = runner.invoke(app, ["cohorts", TINY_MOVES, "--grain", "quarter", "-f", "csv"])
    header = csv.stdout.splitlines()[0].split(",")
    assert header[:5] == ["period", "start", "end", "cohort_logos", "cohort_start_arr"]
    assert header[5:] == [f"quarter_{k}" for k in range(5)]


def test_cohort_heat_map_is_readable_without_colour(runner: CliRunner) -> None:
    out = runner.invoke(app, ["cohorts", TINY_MOVES, "--grain", "quarter"])
    assert out.exit_code == 0
    line = next(x for x in out.stdout.splitlines() if x.strip().startswith("FY2025-Q1"))
    assert "88.9%" in line  # the values themselves: no colour needed to read them
    assert "77.8%" in line
    assert "\x1b[" not in out.stdout


def test_heat_colours_run_red_to_green() -> None:
    from retention_cli.render.table import heat_style

    assert heat_style(0.3) == "bold white on rgb(178,34,34)"
    assert heat_style(1.0) == "bold white on rgb(46,139,87)"
    assert heat_style(None) == ""


# ----------------------------------------------------------------------------- economics
SPEND = """period,sales_marketing,customer_success,gross_margin,net_burn
FY2025-Q3,6000,100,0.8,1200
2025-10,1000,50,75%,100
2025-11,1000,50,75%,100
2025-12,1000,50,75%,100
2026-01,1400,60,0.8,500
"""


def _economics(tmp: Path, text: str = SPEND, settings: Economics | None = None) -> pl.DataFrame:
    path = tmp / "spend.csv"
    path.write_text(text)
    L = ledger(TINY_MOVES)
    return rc.economics(L, load_spend(str(path), L.calendar), grain=Q, settings=settings)


def test_economics_by_hand(tmp_path: Path) -> None:
    e = _economics(tmp_path)
    q3 = row(e, "FY2025-Q3")
    # Q3: E new 3000 (1 logo); B -500; net new 2500
    assert q3["cac"] == 6000_00  # 6000 / 1
    assert q3["cac_payback_months"] == pytest.approx(30.0)  # 6000 / (3000 x 0.8) x 12
    assert q3["burn_multiple"] == pytest.approx(0.48)  # 1200 / 2500
    assert q3["cs_efficiency"] == pytest.approx(-5.0)  # (0 + 0 - 500 - 0) / 100
    assert q3["magic_number"] is None  # no Q2 spend
    assert q3["ltv"] is None  # the 12-month window starts before the data
    q4 = row(e, "FY2025-Q4")
    # Q4 from three monthly rows: S&M 3000, CS 150, burn 300, margin 75%
    assert (q4["sales_marketing"], q4["customer_success"], q4["net_burn"]) == (
        3000_00,
        150_00,
        300_00,
    )
    assert q4["gross_margin"] == pytest.approx(0.75)
    assert q4["cac"] is None  # zero new logos (C is a reactivation): null, not an error
    assert q4["magic_number"] == pytest.approx(300 / 6000)  # net new 300 / Q3 S&M
    assert q4["burn_multiple"] == pytest.approx(1.0)  # 300 / 300
    assert q4["cs_efficiency"] == pytest.approx(2.0)  # (800 reactivation - 500 churn) / 150
    q1 = row(e, "FY2026-Q1")  # incomplete: data ends 2026-01, whose spend covers it
    assert q1["cac"] == 1400_00  # 1400 / 1 (F)
    assert q1["cac_payback_months"] == pytest.approx(30.0)  # 1400 / (700 x 0.8) x 12
    # LTV = ARPA 1500 x 0.8 / annual gross churn (1 - 3300/4500 = 1200/4500) = 4500
    assert q1["ltv"] == 4500_00
    assert q1["ltv_to_cac"] == pytest.approx(4500 / 1400)
    assert q1["magic_number"] == pytest.approx(700 / 3000)


def test_economics_lag_and_ltv_cap(tmp_path: Path) -> None:
    e = _economics(tmp_path, settings=Economics(cac_lag=1, ltv_cap_years=2))
    q1 = row(e, "FY2026-Q1")
    assert q1["cac"] == 3000_00  # Q4's S&M 3000 / 1 new logo
    assert q1["ltv"] == 2400_00  # capped: 2 years x 1500 x 0.8 (uncapped 4500)


def test_economics_missing_input_leaves_metric_out(runner: CliRunner, tmp_path: Path) -> None:
    spend = tmp_path / "spend.csv"
    spend.write_text("period,sales_marketing\nFY2025-Q3,6000\n")
    out = runner.invoke(
        app, ["economics", TINY_MOVES, "--spend", str(spend), "--grain", "quarter", "-f", "json"]
    )
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    q3 = next(p for p in doc["periods"] if p["period"] == "FY2025-Q3")
    assert q3["cac"] == 6000.0
    assert not {"cs_efficiency", "ltv", "burn_multiple"} & set(q3)
    assert "cs_efficiency left out: no customer_success in the spend input" in doc["notes"]
    assert "ltv left out: no gross_margin in the spend input" in doc["notes"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("period,sales_marketing\n2025-13,10\n", "spend.csv:2: period: not a period"),
        ("period,sales_marketing\n2025-10,-5\n", "spend.csv:2: sales_marketing: spend cannot be negative"),
        ("period,gross_margin\n2025-10,180%\n", "spend.csv:2: gross_margin: gross margin must be"),
        ("period,sales_marketing\nFY2025-Q4,1\n2025-11,2\n", "spend.csv:3: period: covers months already given on line 2"),
        ("month,cost\n2025-10,1\n", "no spend column"),
    ],
)  # fmt: skip
def test_bad_spend_is_a_clear_error(
    runner: CliRunner, in_tmp: Path, text: str, expected: str
) -> None:
    (in_tmp / "spend.csv").write_text(text)
    out = runner.invoke(
        app, ["economics", TINY_MOVES, "--spend", "spend.csv", "--grain", "quarter"]
    )
    assert out.exit_code == 2
    assert expected in out.stderr
    assert "Traceback" not in out.stderr


def test_quarterly_spend_at_month_grain_is_refused(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "spend.csv").write_text("period,sales_marketing\nFY2025-Q4,3000\n")
    out = runner.invoke(app, ["economics", TINY_MOVES, "--spend", "spend.csv"])
    assert out.exit_code == 2
    assert "spend.csv:2: period: covers more than one month" in out.stderr
    assert "coarser --grain" in out.stderr


# ----------------------------------------------------------------------------- report
def test_report_json_has_a_key_per_section(runner: CliRunner) -> None:
    args = ["report", str(EXAMPLES / "saas_movements.csv"), "--spend", str(EXAMPLES / "spend.csv")]
    out = runner.invoke(app, [*args, "--grain", "quarter", "-f", "json"])
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    for key in ("bridge", "retention", "churn", "mix", "cohorts", "economics"):
        assert isinstance(doc[key], list), key
        assert doc[key], key
    # the report's sections equal the single commands' periods
    single = runner.invoke(app, ["mix", args[1], "--grain", "quarter", "-f", "json"])
    assert json.loads(single.stdout)["periods"] == doc["mix"]
    table = runner.invoke(app, [*args, "--grain", "quarter"])
    for title in ("ARR bridge", "Net and gross revenue retention", "Growth mix",
                  "Acquisition cohorts", "Unit economics"):  # fmt: skip
        assert title in table.stdout


def test_report_without_spend_notes_economics_left_out(runner: CliRunner) -> None:
    out = runner.invoke(app, ["report", TINY_MOVES, "-f", "json"])
    doc = json.loads(out.stdout)
    assert "economics" not in doc
    assert any(n.startswith("economics left out") for n in doc["notes"])
    csv = runner.invoke(app, ["report", TINY_MOVES, "-f", "csv"])
    assert csv.stdout.splitlines()[0] == "section,period,start,end,metric,value"
    assert "mix,2026-01,2026-01-01,2026-01-31,retained_arr,3800.00" in csv.stdout


def test_cohorts_from_to_selects_acquisition_periods(runner: CliRunner) -> None:
    out = runner.invoke(
        app, ["cohorts", TINY_MOVES, "--grain", "quarter", "--from", "FY2025-Q3", "-f", "csv"]
    )
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    # E (FY2025-Q3) and F (FY2026-Q1); ages no listed cohort reached are not columns
    assert [x.split(",")[0] for x in lines[1:]] == ["FY2025-Q3", "FY2026-Q1"]
    assert lines[0].endswith("quarter_0,quarter_1,quarter_2")
    assert lines[1] == "FY2025-Q3,2025-07-01,2025-09-30,1,3000.00,1.0,1.0,1.0"


def test_wide_tables_are_never_squeezed(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    out = runner.invoke(app, ["mix", TINY_MOVES, "--by", "segment"])
    assert out.exit_code == 0
    assert "…" not in out.stdout
    assert "Enterprise" in out.stdout


# ----------------------------------------------------------------------------- calendar
def test_calendar_lists_fiscal_periods(runner: CliRunner) -> None:
    feb = str(EXAMPLES.parent / "configs" / "fiscal-feb.yaml")
    out = runner.invoke(app, ["calendar", "--year", "FY2027", "-c", feb, "-f", "csv"])
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "period,start,end,fiscal_year,quarter,days"
    assert lines[1] == "2026-02,2026-02-01,2026-02-28,FY2027,Q1,28"  # FY2027 starts Feb 2026
    assert lines[12] == "2027-01,2027-01-01,2027-01-31,FY2027,Q4,31"
    q = runner.invoke(app, ["calendar", "--year", "2024", "--grain", "quarter", "-f", "json"])
    periods = json.loads(q.stdout)["periods"]
    # 2024 is a leap year: Q1 = 31 + 29 + 31 days
    assert periods[0] == {
        "period": "FY2024-Q1", "start": "2024-01-01", "end": "2024-03-31",
        "fiscal_year": "FY2024", "quarter": "Q1", "days": 91,
    }  # fmt: skip
    bad = runner.invoke(app, ["calendar", "--year", "next"])
    assert bad.exit_code == 2
    assert "--year: 'next' is not a fiscal year" in bad.stderr


# ----------------------------------------------------------------------------- explain
def test_explain_nrr_lists_the_cohort_by_hand(runner: CliRunner) -> None:
    out = runner.invoke(app, ["explain", TINY_MOVES, "--period", "2026-01", "-f", "json"])
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    rows = {r["account_id"]: r for r in doc["periods"]}
    # the cohort at 2025-01: A 1000 -> 1500, B 2000 -> 1500, C 1000 -> 0 -> 800, D 500 -> 0
    assert {
        k: (r["class"], r["arr_at_window_start"], r["arr_at_end"]) for k, r in rows.items()
    } == {
        "A": ("expanded", 1000.0, 1500.0),
        "B": ("contracted", 2000.0, 1500.0),
        "C": ("churned_and_returned", 1000.0, 800.0),
        "D": ("churned", 500.0, 0.0),
    }
    assert rows["A"]["segment"] == "SMB"
    # 1500 + 1500 + 800 + 0 = 3800 over 4500: the headline NRR
    assert doc["notes"] == [
        "4 cohort accounts add up to NRR = 3,800.00 / 4,500.00 = 84.4%, exactly the headline figure"
    ]


def test_explain_grr_bridge_and_segment(runner: CliRunner) -> None:
    out = runner.invoke(
        app, ["explain", TINY_MOVES, "--period", "FY2025-Q4", "--grain", "quarter",
              "--metric", "bridge", "-f", "csv"],
    )  # fmt: skip
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == (
        "period,start,end,account_id,segment,class,start_arr,new_arr,reactivation_arr,"
        "expansion_arr,contraction_arr,churned_arr,end_arr"
    )
    # C returns at 800, D churns 500; A, B and E are flat
    assert (
        "FY2025-Q4,2025-10-01,2025-12-31,C,SMB,reactivation,0.00,0.00,800.00,0.00,0.00,0.00,800.00"
        in lines
    )
    assert (
        "FY2025-Q4,2025-10-01,2025-12-31,D,SMB,churn,500.00,0.00,0.00,0.00,0.00,500.00,0.00"
        in lines
    )
    grr = runner.invoke(
        app, ["explain", TINY_MOVES, "--period", "2026-01", "--metric", "grr", "--by", "segment=SMB",
              "-f", "json"],
    )  # fmt: skip
    doc = json.loads(grr.stdout)
    # SMB cohort A, C, D: min(1500,1000) + min(800,1000) + 0 = 1800 over 2500
    assert sum(r["numerator_arr"] for r in doc["periods"]) == 1800.0
    assert "GRR = 1,800.00 / 2,500.00 = 72.0%" in doc["notes"][0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--period", "2030-01"], "--period: no month '2030-01' in the data (it covers 2025-01 to 2026-01)"),
        (["--period", "2025-06"], "window starts before the data"),
        (["--period", "2026-01", "--metric", "ltv"], "--metric: 'ltv' cannot be explained"),
        (["--period", "2026-01", "--by", "tier=gold"], "--by: no dimension column 'tier'"),
        (["--period", "2026-01", "--by", "segment"], "--by: 'segment' is not COL=VALUE"),
    ],
)  # fmt: skip
def test_explain_errors(runner: CliRunner, args: list[str], expected: str) -> None:
    out = runner.invoke(app, ["explain", TINY_MOVES, *args])
    assert out.exit_code == 2
    assert expected in out.stderr


def test_economics_by_segment_with_segment_spend(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "spend.csv").write_text(
        "period,segment,sales_marketing,gross_margin\n"
        "FY2025-Q3,Enterprise,5000,0.8\n"
        "FY2025-Q3,SMB,1000,0.7\n"
    )
    args = ["economics", TINY_MOVES, "--spend", "spend.csv", "--grain", "quarter", "-f", "json"]
    doc = json.loads(runner.invoke(app, [*args, "--by", "segment"]).stdout)
    q3 = {r["segment"]: r for r in doc["periods"] if r["period"] == "FY2025-Q3"}
    assert q3[None]["sales_marketing"] == 6000.0  # 5000 + 1000
    assert q3[None]["cac"] == 6000.0  # 6000 / 1 new logo (E)
    assert q3[None]["gross_margin"] == pytest.approx(0.75)  # mean of the rows
    assert q3["Enterprise"]["cac"] == 5000.0  # E is Enterprise: 5000 / 1
    assert q3["SMB"]["cac"] is None  # no SMB logo won in Q3
    assert q3["Enterprise"]["cac_payback_months"] == pytest.approx(5000 / (3000 * 0.8) * 12)
    flat = json.loads(runner.invoke(app, args).stdout)
    assert "spend rows are added up over 'segment' (--by segment splits by it)" in flat["notes"]
    (in_tmp / "plain.csv").write_text("period,sales_marketing\nFY2025-Q3,6000\n")
    plain = runner.invoke(app, [*args[:2], "--spend", "plain.csv", *args[4:], "--by", "segment"])
    doc = json.loads(plain.stdout)
    q3 = {r["segment"]: r for r in doc["periods"] if r["period"] == "FY2025-Q3"}
    assert q3[None]["cac"] == 6000.0
    assert q3["Enterprise"]["cac"] is None
    assert any(n.startswith("segment rows have no spend metrics") for n in doc["notes"])


# ----------------------------------------------------------------------------- policies
def _snapshots(values: dict[str, dict[str, int]], **policies: object) -> rc.Ledger:
    rows = [(day, acc, str(v)) for acc, path in values.items() for day, v in path.items() if v]
    frame = pl.DataFrame(rows, schema=["date", "account_id", "arr"], orient="row")
    config = rc.Config(policies=rc.Policies(**policies))
    return rc.ledger_from_frame(frame, shape="snapshots", config=config)


# A: 100 in Jan and Feb, missing Mar and Apr (2 months), back in May at 120.
# B: 50 in Jan, missing Feb-Apr (3 months), back in May at 50.
PATHS = {
    "A": {"2025-01-31": 100, "2025-02-28": 100, "2025-05-31": 120},
    "B": {"2025-01-31": 50, "2025-05-31": 50},
    "Z": {"2025-01-31": 1, "2025-02-28": 1, "2025-03-31": 1, "2025-04-30": 1, "2025-05-31": 1},
}


def test_churn_grace_carries_a_short_gap() -> None:
    plain = rc.bridge(_snapshots(PATHS))
    graced = rc.bridge(_snapshots(PATHS, churn_grace=2))
    # without grace: A churns 100 in March and reactivates at 120 in May
    assert row(plain, "2025-03")["churned_arr"] == 100_00
    assert row(plain, "2025-05")["reactivation_arr"] == (120 + 50) * 100
    # grace 2: A's 2-month gap is bridged (no churn, no return; +20 expansion in May);
    # B's 3-month gap is longer than the grace: churn in February, reactivation in May
    assert row(graced, "2025-03")["churned_arr"] == 0
    may = row(graced, "2025-05")
    assert (may["reactivation_arr"], may["expansion_arr"]) == (50_00, 20_00)
    assert row(graced, "2025-02")["churned_arr"] == 50_00
    # the ledger itself carries A's 100 through March and April
    nrr = row(rc.retention(_snapshots(PATHS, churn_grace=2), window=3), "2025-04")
    assert nrr["_cohort_end_arr"] == 100_00 + 1_00  # A carried, B gone, Z flat (cohort at Jan)


def test_reactivation_window_turns_late_returns_into_new() -> None:
    b = rc.bridge(_snapshots(PATHS, reactivation_window=2))
    may = row(b, "2025-05")
    # A was at zero for 2 months (within the window): reactivation 120;
    # B for 3 months (more than 2): new 50, a new logo
    assert (may["reactivation_arr"], may["new_arr"]) == (120_00, 50_00)
    assert (may["reactivated_logos"], may["new_logos"]) == (1, 1)


def test_policies_are_named_in_every_output(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "p.yaml").write_text("policies: {churn_grace: 1, reactivation_window: 6}\n")
    out = runner.invoke(app, ["bridge", TINY_MOVES, "-c", "p.yaml", "-f", "json"])
    doc = json.loads(out.stdout)
    assert doc["definitions"]["policies"] == {
        "reactivation": "reactivation", "reactivation_window": 6, "churn_grace": 1,
    }  # fmt: skip
    table = runner.invoke(app, ["bridge", TINY_MOVES, "-c", "p.yaml"])
    caption = " ".join(table.stdout.split())
    assert "within 6 month(s) of churn, else as new" in caption
    assert "gaps of up to 1 month(s) bridged (churn_grace)" in caption


def test_variants_each_differ_on_a_history_built_for_it(runner: CliRunner, in_tmp: Path) -> None:
    # window 3 at 2025-05: the cohort is who has ARR at the end of February
    #   X: 1000 in Feb, cut to 500 in Mar, back to 1000 in Apr   (bridge GRR sees the cut)
    #   Y: 1000 in Feb, gone in Mar, back at 1000 in Apr         (returns excluded: lost)
    #   W: 500 in Jan, gone in Feb, back at 800 in Mar           (grace 1: W never left)
    rows = ["date,account_id,arr"]
    paths = {
        "X": {2: 1000, 3: 500, 4: 1000, 5: 1000},
        "Y": {2: 1000, 4: 1000, 5: 1000},
        "W": {1: 500, 3: 800, 4: 800, 5: 800},
    }
    ends = {1: "01-31", 2: "02-28", 3: "03-31", 4: "04-30", 5: "05-31"}
    rows += [f"2025-{ends[m]},{a},{v}" for a, p in paths.items() for m, v in p.items()]
    (in_tmp / "s.csv").write_text("\n".join(rows) + "\n")
    out = runner.invoke(app, ["nrr", "s.csv", "--variants", "--window", "3", "-f", "json", "-q"])
    assert out.exit_code == 0, out.stderr
    got = {r["variant"]: (r["nrr"], r["grr"]) for r in json.loads(out.stdout)["periods"]}
    assert got == {
        # cohort X + Y = 2000 at Feb; 1000 + 1000 at May
        "as configured": (1.0, 1.0),
        # (2000 - 500 cut - 1000 churn) / 2000; NRR the same
        "bridge method": (1.0, 0.25),
        # Y was at zero in March: counts 0 -> 1000 / 2000
        "returns excluded": (0.5, 0.5),
        # W carried through February (500) joins the cohort: (1000 + 1000 + 800) / 2500,
        # GRR (1000 + 1000 + min(800, 500)) / 2500
        "churn_grace 1": (2800 / 2500, 1.0),
    }


def test_burn_multiple_follows_the_formula_when_arr_shrinks(tmp_path: Path) -> None:
    # FY2025-Q2: end of March 4500 -> end of June 4000 (C churned 1000, A +500): net new -500
    e = _economics(tmp_path, "period,net_burn\nFY2025-Q2,100\nFY2025-Q3,0\n")
    assert row(e, "FY2025-Q2")["burn_multiple"] == pytest.approx(100 / -500)  # -0.2
    assert row(e, "FY2025-Q3")["burn_multiple"] == 0.0  # no burn, net new 2500
