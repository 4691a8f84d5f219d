"""Small histories whose every number is worked out by hand beside the assertion.

The tiny data set (examples/tiny_movements.csv), ARR at each month end:

    month     A      B      C      D      E      F     total  logos
    2025-01   1000   2000   1000   500    .      .     4500   4     A,B,C,D new
    2025-04   1000   2000   0      500    .      .     3500   3     C churns
    2025-06   1500   2000   0      500    .      .     4000   3     A +500
    2025-07   1500   2000   0      500    3000   .     7000   4     E new
    2025-09   1500   1500   0      500    3000   .     6500   4     B -500
    2025-10   1500   1500   800    500    3000   .     7300   5     C returns at 800
    2025-11   1500   1500   800    0      3000   .     6800   4     D churns
    2026-01   1500   1500   800    0      3000   700   7500   5     F new
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import retention_cli as rc
from retention_cli.calendar import FiscalCalendar
from retention_cli.config import Config, FiscalYear, Policies
from tests.conftest import EXAMPLES

TINY_MOVES = str(EXAMPLES / "tiny_movements.csv")
TINY_SNAPS = str(EXAMPLES / "tiny_snapshots.csv")


def ledger(path: str, config: Config | None = None) -> rc.Ledger:
    config = config or Config()
    return rc.build_ledger(rc.load(path), FiscalCalendar(config.fiscal_year), config=config)


def row(frame: pl.DataFrame, period: str, **by: str | None) -> dict:
    f = frame.filter(pl.col("period") == period)
    for k, v in by.items():
        f = f.filter(pl.col(k).is_null() if v is None else pl.col(k) == v)
    assert f.height == 1, f
    return f.row(0, named=True)


@pytest.mark.parametrize("path", [TINY_MOVES, TINY_SNAPS])
def test_annual_nrr_grr_by_hand(path: str) -> None:
    r = row(rc.retention(ledger(path), window=12), "2026-01")
    # cohort = accounts with ARR at the end of 2025-01: A 1000, B 2000, C 1000, D 500
    assert r["window_start"] == dt.date(2025, 2, 1)
    assert r["cohort_logos"] == 4
    assert r["cohort_start_arr"] == 4500_00
    # NRR = (A 1500 + B 1500 + C 800 + D 0) / 4500 = 3800 / 4500
    assert r["nrr"] == pytest.approx(3800 / 4500, abs=1e-12)
    # GRR = (min(1500,1000) + min(1500,2000) + min(800,1000) + min(0,500)) / 4500 = 3300 / 4500
    assert r["grr"] == pytest.approx(3300 / 4500, abs=1e-12)
    # logos still paying: A, B, C (returned) of 4
    assert r["logo_retention"] == pytest.approx(0.75)
    assert r["logo_churn_rate"] == pytest.approx(0.25)
    assert r["gross_revenue_churn"] == pytest.approx(1 - 3300 / 4500)
    assert r["net_revenue_churn"] == pytest.approx(1 - 3800 / 4500)


def test_window_before_data_has_no_ratio() -> None:
    r = row(rc.retention(ledger(TINY_MOVES), window=12), "2025-12")
    # window starts after 2024-12, before the first movement (2025-01): no cohort, no ratio
    assert r["cohort_logos"] is None
    assert r["nrr"] is None
    assert r["grr"] is None


def test_quarterly_bridge_by_hand() -> None:
    b = rc.bridge(ledger(TINY_MOVES), grain=rc.Grain.quarter)
    assert b["period"].to_list() == [
        "FY2025-Q1",
        "FY2025-Q2",
        "FY2025-Q3",
        "FY2025-Q4",
        "FY2026-Q1",
    ]
    q1 = row(b, "FY2025-Q1")
    assert (q1["start_arr"], q1["new_arr"], q1["end_arr"]) == (0, 4500_00, 4500_00)  # A+B+C+D
    assert (q1["new_logos"], q1["end_logos"]) == (4, 4)
    q2 = row(b, "FY2025-Q2")
    # 4500 - C 1000 churn + A 500 expansion = 4000
    assert (q2["start_arr"], q2["churned_arr"], q2["expansion_arr"], q2["end_arr"]) == (
        4500_00,
        1000_00,
        500_00,
        4000_00,
    )
    assert (q2["start_logos"], q2["churned_logos"], q2["end_logos"]) == (4, 1, 3)
    q3 = row(b, "FY2025-Q3")
    # 4000 + E 3000 new - B 500 contraction = 6500
    assert (q3["new_arr"], q3["contraction_arr"], q3["end_arr"]) == (3000_00, 500_00, 6500_00)
    q4 = row(b, "FY2025-Q4")
    # 6500 + C 800 reactivation - D 500 churn = 6800; logos 4 + 1 - 1 = 4
    assert (q4["reactivation_arr"], q4["churned_arr"], q4["end_arr"]) == (800_00, 500_00, 6800_00)
    assert (q4["reactivated_logos"], q4["churned_logos"], q4["end_logos"]) == (1, 1, 4)
    q5 = row(b, "FY2026-Q1")  # incomplete: data ends 2026-01
    assert (q5["start_arr"], q5["new_arr"], q5["end_arr"]) == (6800_00, 700_00, 7500_00)


def test_monthly_churn_rates_by_hand() -> None:
    L = ledger(TINY_MOVES)
    c = rc.churn(rc.bridge(L), rc.retention(L), by=[])
    nov = row(c, "2025-11")
    # start of Nov: A 1500 B 1500 C 800 D 500 E 3000 = 7300, 5 logos; D (500) churns
    assert nov["start_arr"] == 7300_00
    assert nov["period_logo_churn_rate"] == pytest.approx(1 / 5)
    assert nov["period_gross_revenue_churn"] == pytest.approx(500 / 7300)
    assert nov["period_net_revenue_churn"] == pytest.approx(500 / 7300)
    oct_ = row(c, "2025-10")
    # C returns with 800 on a 6500 start: net churn = (0 - 800) / 6500
    assert oct_["period_net_revenue_churn"] == pytest.approx(-800 / 6500)
    assert oct_["period_gross_revenue_churn"] == 0


def test_snapshot_first_period_is_an_opening_balance() -> None:
    b = rc.bridge(ledger(TINY_SNAPS), grain=rc.Grain.quarter)
    q1 = row(b, "FY2025-Q1")
    assert q1["start_arr"] is None
    assert q1["new_arr"] is None
    assert (q1["end_arr"], q1["end_logos"]) == (4500_00, 4)
    # later quarters are identical to the movement log's
    moves = rc.bridge(ledger(TINY_MOVES), grain=rc.Grain.quarter)
    assert b.slice(1).equals(moves.slice(1))


def test_reactivation_as_new_policy() -> None:
    policies = Policies(reactivation="as_new")
    q4 = row(rc.bridge(ledger(TINY_MOVES), grain=rc.Grain.quarter, policies=policies), "FY2025-Q4")
    # C's return (800) is new business under as_new
    assert (q4["new_arr"], q4["reactivation_arr"], q4["new_logos"], q4["reactivated_logos"]) == (
        800_00,
        0,
        1,
        0,
    )


def _one_account(values: dict[str, int]) -> rc.Ledger:
    snaps = pl.DataFrame(
        {
            "date": list(values),
            "account_id": ["X"] * len(values),
            "arr": [str(v) for v in values.values()],
        }
    )
    return rc.ledger_from_frame(snaps, shape="snapshots")


def test_bridge_method_differs_from_cohort_on_contraction_then_expansion() -> None:
    # X: 1000 at 2025-01, cut to 500 in 2025-04, back to 1000 in 2025-08, 1000 at 2026-01
    months = {f"2025-{m:02d}": (500 if 4 <= m <= 7 else 1000) for m in range(1, 13)}
    months["2026-01"] = 1000
    L = _one_account(months)
    cohort = row(rc.retention(L, method=rc.Method.cohort), "2026-01")
    bridge = row(rc.retention(L, method=rc.Method.bridge), "2026-01")
    # cohort GRR = min(1000, 1000) / 1000 = 1.0; bridge GRR = (1000 - 500 contraction) / 1000 = 0.5
    assert cohort["grr"] == 1.0
    assert bridge["grr"] == 0.5
    # NRR = 1000 / 1000 under both (the 500 won back is expansion in the bridge)
    assert cohort["nrr"] == bridge["nrr"] == 1.0


def test_churn_and_return_inside_window_counts_end_arr() -> None:
    # Y: 1000 at 2025-01, gone 2025-03..05, back at 600 from 2025-06
    months = {
        f"2025-{m:02d}": (0 if 3 <= m <= 5 else (1000 if m < 3 else 600)) for m in range(1, 13)
    }
    months["2026-01"] = 600
    r = row(rc.retention(_one_account(months)), "2026-01")
    assert r["nrr"] == pytest.approx(0.6)  # 600 / 1000
    assert r["grr"] == pytest.approx(0.6)  # min(600, 1000) / 1000
    assert r["logo_retention"] == 1.0  # still a customer at the window end


def test_empty_cohort_gives_null_not_error() -> None:
    # Z arrives in 2025-06: a 1-month window at 2025-06 starts with nobody
    L = _one_account({"2025-05": 0, "2025-06": 100})
    r = row(rc.retention(L, window=1), "2025-06")
    assert r["cohort_logos"] == 0
    assert r["nrr"] is None
    assert r["grr"] is None


def test_fiscal_year_starting_february_labels() -> None:
    cal = FiscalCalendar(FiscalYear(start_month=2, label="end"))
    feb26 = cal.period_of(dt.date(2026, 2, 10))
    # FY2027 runs Feb 2026 - Jan 2027 (named by the year it ends in)
    assert cal.label(cal.grain_last(feb26, rc.Grain.quarter), rc.Grain.quarter) == "FY2027-Q1"
    assert cal.bounds(cal.grain_last(feb26, rc.Grain.quarter), rc.Grain.quarter) == (
        dt.date(2026, 2, 1),
        dt.date(2026, 4, 30),
    )
    jan27 = cal.period_of(dt.date(2027, 1, 31))
    assert cal.label(jan27, rc.Grain.quarter) == "FY2027-Q4"
    assert cal.label(jan27, rc.Grain.year) == "FY2027"
    assert cal.label(jan27, rc.Grain.month) == "2027-01"
    assert cal.resolve("FY2027") == (dt.date(2026, 2, 1), dt.date(2027, 1, 31))
    assert cal.resolve("FY2027-Q2") == (dt.date(2026, 5, 1), dt.date(2026, 7, 31))
    start_label = FiscalCalendar(FiscalYear(start_month=2, label="start"))
    assert start_label.label(jan27, rc.Grain.year) == "FY2026"
    # a January fiscal year is the calendar year under either label style
    cal_jan = FiscalCalendar(FiscalYear(start_month=1, label="end"))
    assert cal_jan.label(cal_jan.period_of(dt.date(2026, 12, 1)), rc.Grain.year) == "FY2026"


def test_segments_use_values_at_period_end_and_sum_to_total() -> None:
    b = rc.bridge(ledger(TINY_MOVES), grain=rc.Grain.quarter, by=["segment"])
    total = row(b, "FY2025-Q3", segment=None)
    ent = row(b, "FY2025-Q3", segment="Enterprise")
    smb = row(b, "FY2025-Q3", segment="SMB")
    # Enterprise: B 2000 -> 1500 (contraction 500), E new 3000; SMB: A 1500 and D 500 flat
    assert (ent["start_arr"], ent["new_arr"], ent["contraction_arr"], ent["end_arr"]) == (
        2000_00,
        3000_00,
        500_00,
        4500_00,
    )
    assert (smb["start_arr"], smb["end_arr"]) == (2000_00, 2000_00)
    for key in rc.metrics.BRIDGE_KEYS:
        assert total[key] == ent[key] + smb[key]
