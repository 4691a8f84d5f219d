"""The report's shortcuts agree with the plain computations they replace.

The month bridge sums movement codes, the largest accounts come from the rows
above a sampled bound, acquired ARR follows from the bridge and retention, and
cohort sizes are read at age 0: each is checked here against the direct
computation, on ledgers large enough to take the shortcut (the golden files
mostly see small ones, where the bound is never found).
"""

from __future__ import annotations

import calendar
import datetime as dt
import random

import polars as pl
import pytest

import retention_cli as rc
from retention_cli.config import Config, Policies
from retention_cli.ledger import Ledger, had_arr_before, previous_arr
from retention_cli.metrics.bridge import BRIDGE_KEYS, classify, reporting_periods
from retention_cli.metrics.cohorts import CohortMetric, cohorts
from retention_cli.metrics.frames import kept_arr, ratio
from retention_cli.metrics.mix import TOP_N, acquired, acquired_from, concentration


def history(seed: int, accounts: int = 1500, months: int = 14) -> pl.DataFrame:
    """Month-end snapshots: late starts, churn, returns, flat months and zero rows."""
    rng = random.Random(seed)
    rows = []
    for i in range(accounts):
        arr = rng.choice([0, rng.randint(1, 10**6)])
        start = 0 if rng.random() < 0.8 else rng.randrange(months)
        for m in range(start, months):
            move = rng.random()
            if move < 0.08:
                arr = 0
            elif move < 0.3:
                arr = rng.randint(1, 10**6)
            if arr or rng.random() < 0.3:  # a missing month is zero ARR too
                y, mo = 2024 + m // 12, m % 12 + 1
                day = dt.date(y, mo, calendar.monthrange(y, mo)[1]).isoformat()
                rows.append((f"a{i:05d}", day, f"{arr / 100:.2f}", rng.choice("xyz")))
    return pl.DataFrame(rows, schema=["account_id", "date", "arr", "segment"], orient="row")


@pytest.fixture(scope="module", params=[1, 2])
def ledger(request: pytest.FixtureRequest) -> Ledger:
    return rc.ledger_from_frame(history(request.param), shape="snapshots")


@pytest.mark.parametrize(
    "policies",
    [Policies(), Policies(reactivation="as_new"), Policies(reactivation_window=2)],
    ids=["default", "as_new", "window"],
)
def test_month_bridge_codes_sum_as_the_classifier(ledger: Ledger, policies: Policies) -> None:
    got = rc.bridge(ledger, policies=policies).drop("start", "end")
    frame = ledger.frame.with_columns(_a=previous_arr(), _had=had_arr_before())
    if policies.reactivation_window is not None:
        late = rc.bridge(ledger, grain=rc.Grain.month, policies=policies, by=["segment"])
        assert (
            late.filter(pl.col("segment").is_null())
            .drop("start", "end", "segment")
            .select("period", *BRIDGE_KEYS)
            .equals(got.select("period", *BRIDGE_KEYS))
        )
        return
    moves = classify(pl.col("_a"), pl.col("arr"), had_arr_before=pl.col("_had"), policies=policies)
    want = (
        frame.group_by("period")
        .agg(moves[k].sum().alias(k) for k in BRIDGE_KEYS)
        .collect()
        .join(reporting_periods(ledger, rc.Grain.month).select("_last", "period"),
              left_on="period", right_on="_last", suffix="_label")
        .filter(pl.col("period") > ledger.first_period)  # the opening balance has no movements
        .select(pl.col("period_label").alias("period"), *BRIDGE_KEYS)
    )  # fmt: skip
    moved = got.filter(pl.col("start_arr").is_not_null()).select("period", *BRIDGE_KEYS)
    assert moved.sort("period").equals(want.sort("period"))


@pytest.mark.parametrize("grain", [rc.Grain.month, rc.Grain.quarter])
def test_largest_accounts_as_a_full_sort(ledger: Ledger, grain: rc.Grain) -> None:
    got = concentration(ledger, grain=grain).sort("period")
    # the totals read from the bridge (as the report does) are the same
    from_bridge = concentration(ledger, grain=grain, totals=rc.bridge(ledger, grain=grain))
    assert from_bridge.sort("period").equals(got)
    labels = reporting_periods(ledger, grain).select("_last", "period")
    ranked = (
        ledger.collect()
        .filter(pl.col("arr") > 0)
        .sort("period", "arr", descending=[False, True])
        .with_columns(_rank=pl.int_range(pl.len()).over("period"))
    )
    want = (
        ranked.group_by("period")
        .agg(
            pl.col("arr").sum().alias("_total"),
            *(pl.col("arr").filter(pl.col("_rank") < n).sum().alias(f"_top{n}") for n in TOP_N),
        )
        .join(labels, left_on="period", right_on="_last", suffix="_label")
        .select(
            pl.col("period_label").alias("period"),
            *(ratio(f"_top{n}", "_total").alias(f"top{n}_share") for n in TOP_N),
        )
        .sort("period")
    )
    assert got.equals(want)
    # the ledger is large enough for the sampled bound (every month has 20 in the sample)
    sample = ledger.collect().head(ledger.collect().height // 16).filter(pl.col("arr") > 0)
    assert sample.group_by("period").len()["len"].min() >= max(TOP_N)  # type: ignore[operator]


@pytest.mark.parametrize("window", [1, 3, 12])
@pytest.mark.parametrize("grain", [rc.Grain.month, rc.Grain.quarter])
def test_acquired_from_bridge_and_retention(ledger: Ledger, window: int, grain: rc.Grain) -> None:
    b = rc.bridge(ledger, grain=grain)
    r = rc.retention(ledger, grain=grain, window=window)
    want = acquired(ledger, grain=grain, window=window).sort("period")
    assert acquired_from(b, r).sort("period").equals(want)


@pytest.mark.parametrize("metric", list(CohortMetric))
@pytest.mark.parametrize("grain", list(rc.Grain))
@pytest.mark.parametrize("by", [[], ["segment"]])
def test_cohorts_as_each_accounts_cells(
    ledger: Ledger, metric: CohortMetric, grain: rc.Grain, by: list[str]
) -> None:
    """Each account's cells straight from its rows (a join on its first cell)."""
    got = cohorts(ledger, grain=grain, metric=metric, by=by)
    cal = ledger.calendar
    rows = ledger.collect().with_columns(_close=cal.grain_last_expr(pl.col("period"), grain))
    first = rows.filter(pl.col("arr") > 0).group_by("account_id").agg(pl.col("period").min())
    cells = (
        rows.join(first.select("account_id", _p0=cal.grain_last_expr(pl.col("period"), grain)),
                  on="account_id")
        .filter(((pl.col("period") >= pl.col("_p0")) & (pl.col("_close") == pl.col("period")))
                | (pl.col("period") == ledger.last_period))
        .with_columns(_age=(pl.col("_close") - pl.col("_p0")) // grain.months)
    )  # fmt: skip
    age0 = cells.filter(pl.col("_age") == 0).select(
        "account_id", _arr0="arr", **{d: pl.col(d).fill_null("(none)") for d in by}
    )
    cells = cells.drop(by).join(age0, on="account_id")
    value = {
        CohortMetric.nrr: ratio(pl.col("arr").sum(), pl.col("_arr0").sum()),
        CohortMetric.grr: ratio(kept_arr("arr", "_arr0").sum(), pl.col("_arr0").sum()),
        CohortMetric.logos: ratio((pl.col("arr") > 0).sum(), pl.len()),
    }[metric]
    cols = [c for c in got.columns if c.startswith(f"{grain.value}_")]
    total = pl.all_horizontal(pl.col(d).is_null() for d in by) if by else pl.lit(True)
    for keys, rows_ in (([], got.filter(total)), (by, got.filter(~total) if by else None)):
        if rows_ is None:
            continue
        want = cells.group_by("_p0", *keys, "_age").agg(value.alias("v"), pl.len().alias("n"))
        sizes = want.filter(pl.col("_age") == 0)["n"]
        want = want.drop_nulls("v")  # (a cohort with no ARR at acquisition has no ratio)
        long = rows_.unpivot(index=["period", *keys], on=cols).drop_nulls("value")
        assert long.height == want.height
        assert sorted(rows_["cohort_logos"].to_list()) == sorted(sizes.to_list())
        assert sorted(long["value"].to_list()) == pytest.approx(sorted(want["v"].to_list()))


def test_report_sections_whole_run() -> None:
    """``compute_report`` on the larger history: sections as the separate commands."""
    from retention_cli.inputs import load_frame
    from retention_cli.service import RunOptions, compute, compute_report

    data = history(3)
    config, opts = Config(), RunOptions()
    report = compute_report(load_frame(data, shape="snapshots"), config, opts)
    for name, section in report.sections.items():
        if name == "summary":
            continue
        command = "nrr" if name == "retention" else name
        alone = compute(command, load_frame(data, shape="snapshots"), config, opts)
        assert section.frame.equals(alone.frame), name
