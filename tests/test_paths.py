"""Every path through the movement classifier agrees with the others (Hypothesis).

The bridge has several ways to reach the per-account steps it classifies: the
monthly sums straight from the dense ledger, the per-account steps without joins
(one step per month), the join path (quarters, years, several steps per
period) and ``explain``'s per-account rows. They share one classifier; these
tests pit them against each other on random histories.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import as_movements, as_snapshots, histories, ledger_of, month_day

from retention_cli.config import Config, Policies
from retention_cli.inputs import load_frame
from retention_cli.metrics import BRIDGE_KEYS, bridge, reporting_periods
from retention_cli.metrics.bridge import account_steps
from retention_cli.metrics.explain import explain
from retention_cli.metrics.retention import retention
from retention_cli.metrics.transfers import was
from retention_cli.options import BridgeMode, Grain
from retention_cli.service import RunOptions, grace_ledger, prepare

MOVES = [k for k in BRIDGE_KEYS if k not in ("start_arr", "end_arr", "start_logos", "end_logos")]
HUGE = Policies(reactivation_window=100_000)
SHAPES = {"movements": as_movements, "snapshots": as_snapshots}
# few examples each: the slow property tests cover the metrics at length
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _ledgers(h: dict) -> list:
    return [ledger_of(make(h), shape) for shape, make in SHAPES.items()]


@SETTINGS
@given(histories())
def test_a_huge_reactivation_window_is_no_window(h: dict) -> None:
    for led in _ledgers(h):
        for grain, mode in (
            (Grain.month, BridgeMode.net),
            *((g, m) for g in (Grain.quarter, Grain.year) for m in BridgeMode),
        ):
            unset = bridge(led, grain=grain, mode=mode, by=["segment"])
            huge = bridge(led, grain=grain, mode=mode, by=["segment"], policies=HUGE)
            assert unset.equals(huge), (grain, mode)


@SETTINGS
@given(histories())
def test_monthly_path_sums_to_the_join_path(h: dict) -> None:
    """A gross quarter (join path) is the sum of its months (monthly sums path);
    an account's segment never changes in these histories, so segments agree too."""
    led = ledger_of(as_movements(h), "movements")
    months = bridge(led, grain=Grain.month, by=["segment"])
    quarters = bridge(led, grain=Grain.quarter, mode=BridgeMode.gross, by=["segment"])
    cal = led.calendar
    label = {
        cal.label(p, Grain.month): cal.label(p, Grain.quarter)
        for p in range(led.first_period, led.last_period + 1)
    }
    seg = pl.col("segment")
    summed = (
        months.with_columns(quarter=pl.col("period").replace_strict(label), _seg=seg.fill_null(""))
        .group_by("quarter", "_seg", maintain_order=True)
        .agg(
            *(pl.col(k).sum() for k in MOVES),
            pl.col("start_arr", "start_logos").first(),
            pl.col("end_arr", "end_logos").last(),
        )
        .rename({"quarter": "period"})
    )
    joined = quarters.with_columns(_seg=seg.fill_null("")).join(
        summed, on=["period", "_seg"], how="full", suffix="_m"
    )
    assert joined.height == quarters.height == summed.height
    for k in BRIDGE_KEYS:
        assert (joined[k] == joined[f"{k}_m"]).all(), k


@SETTINGS
@given(histories())
def test_steps_without_joins_match_the_join_path(h: dict) -> None:
    """Per account and month: the join-free steps and the join path give the same
    amounts (listing every month twice forces the join path)."""
    for led in _ledgers(h):
        for policies in (led.policies, Policies(reactivation_window=1)):
            periods = reporting_periods(led, Grain.month).filter(
                pl.col("_prev") >= (led.first_period if led.opening_balance else -(2**31))
            )
            pairs = periods.select(
                pl.col("period").alias("_key"),
                pl.col("_prev").alias("_from"),
                pl.col("_last").alias("_to"),
                pl.col("_last").alias("_dim_at"),
            )
            twice = pl.concat([pairs, pairs.with_columns(pl.col("_key") + "*")])
            cols = ["_key", "account_id", "segment", "_a", "_b", *BRIDGE_KEYS]
            fast = account_steps(led, pairs, ["segment"], policies).select(cols).collect()
            slow = (
                account_steps(led, twice, ["segment"], policies)
                .filter(~pl.col("_key").str.ends_with("*"))
                .select(cols)
                .collect()
            )
            # the join path also lists accounts not yet started (zero before and after)
            slow = slow.filter((pl.col("_a") > 0) | (pl.col("_b") > 0))
            fast = fast.filter((pl.col("_a") > 0) | (pl.col("_b") > 0))
            assert fast.sort("_key", "account_id").equals(slow.sort("_key", "account_id"))


@SETTINGS
@given(histories())
def test_quarter_and_year_steps_without_joins_match_the_join_path(h: dict) -> None:
    """Per account and quarter (year): the positional steps of several months give
    the same amounts, prior segments and late returns as the join path."""
    for led in _ledgers(h):
        for policies in (led.policies, Policies(reactivation_window=1)):
            for grain in (Grain.quarter, Grain.year):
                periods = reporting_periods(led, grain).filter(
                    pl.col("_prev") >= (led.first_period if led.opening_balance else -(2**31))
                )
                pairs = periods.select(
                    pl.col("period").alias("_key"),
                    pl.col("_prev").alias("_from"),
                    pl.col("_last").alias("_to"),
                    pl.col("_last").alias("_dim_at"),
                )
                twice = pl.concat([pairs, pairs.with_columns(pl.col("_key") + "*")])
                cols = ["_key", "_from", "_to", "account_id", "segment", "_segment_was",
                        "_a", "_b", "_had", *BRIDGE_KEYS]  # fmt: skip
                steps = account_steps(led, pairs, ["segment"], policies, prior=["segment"])
                fast = steps.rename({was("segment"): "_segment_was"}).select(cols).collect()
                slow = (
                    account_steps(led, twice, ["segment"], policies, prior=["segment"])
                    .rename({was("segment"): "_segment_was"})
                    .filter(~pl.col("_key").str.ends_with("*"))
                    .select(cols)
                    .collect()
                )
                key = ["_key", "account_id"]
                assert fast.sort(key).equals(slow.sort(key)), (grain, policies)


@SETTINGS
@given(histories())
def test_explain_rows_sum_to_the_bridge(h: dict) -> None:
    """Each account's movements in ``explain`` sum to the bridge row, and its class
    names exactly the movements it has."""
    led = ledger_of(as_movements(h), "movements")
    for grain, mode in ((Grain.month, BridgeMode.net), (Grain.quarter, BridgeMode.gross)):
        b = bridge(led, grain=grain, mode=mode)
        for row in b.iter_rows(named=True):
            rows = explain(led, period=row["period"], metric="bridge", grain=grain, mode=mode)
            for k in ("start_arr", "new_arr", "reactivation_arr", "expansion_arr",
                      "contraction_arr", "churned_arr", "end_arr"):  # fmt: skip
                assert rows[k].sum() == row[k], (row["period"], k)
            named = rows.select(
                has_new=pl.col("class").str.contains("new"),
                new=pl.col("new_arr") > 0,
                has_churn=pl.col("class").str.contains("churn"),
                churn=pl.col("churned_arr") > 0,
            )
            assert (named["has_new"] == named["new"]).all()
            assert (named["has_churn"] == named["churn"]).all()


@SETTINGS
@given(histories())
def test_returns_excluded_without_per_account_windows_matches_the_join_path(h: dict) -> None:
    """``count_returns=False`` (a rolling minimum over the whole sorted ledger) gives,
    per period and segment, the cohort end ARR, kept ARR and logos that an explicit
    per-account join over the window's months gives."""
    for led in _ledgers(h):
        df = led.collect()
        for grain, window in ((Grain.month, 1), (Grain.month, 3), (Grain.month, 12),
                              (Grain.quarter, 2), (Grain.year, 5)):  # fmt: skip
            for by in ([], ["segment"]):
                got = retention(led, grain=grain, window=window, by=by, count_returns=False)
                periods = reporting_periods(led, grain)
                for row in got.filter(pl.col("cohort_logos").is_not_null()).iter_rows(named=True):
                    e = periods.filter(pl.col("period") == row["period"])["_last"].item()
                    s = e - window
                    cohort = df.filter((pl.col("period") == s) & (pl.col("arr") > 0)).select(
                        "account_id", pl.col("arr").alias("a"), "segment"
                    )
                    if by and row["segment"] is not None:
                        cohort = cohort.filter(pl.col("segment") == row["segment"])
                    inside = (
                        df.filter((pl.col("period") > s) & (pl.col("period") <= e))
                        .group_by("account_id")
                        .agg(
                            low=pl.col("arr").min(),
                            b=pl.col("arr").filter(pl.col("period") == e).first(),
                        )
                    )
                    joined = cohort.join(inside, on="account_id", how="left").with_columns(
                        b=pl.when(pl.col("low").fill_null(0) == 0).then(0).otherwise("b")
                    )
                    want = (
                        joined.height,
                        joined["a"].sum(),
                        joined["b"].sum(),
                        joined.select(pl.min_horizontal("a", "b")).to_series().sum(),
                        int((joined["b"] > 0).sum()),
                    )
                    have = tuple(row[k] for k in ("cohort_logos", "cohort_start_arr",
                                 "_cohort_end_arr", "_cohort_min_arr", "_retained_logos"))  # fmt: skip
                    assert have == want, (grain, window, by, row["period"], row.get("segment"))


HAND_MADE = (
    {  # 16 months: new, expansion, contraction, churn, a return within and after a year
        "acc0": ("SMB", [100, 100, 250, 0, 0, 1_000, 1_001, 1_001, 0, 0, 0, 0, 0, 0, 5_000, 100]),
        "acc1": ("ENT", [0, 0, 0, 5_000, 123_456, 123_456, 250, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        "acc2": ("=cmd", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 999]),
        "acc3": ("SMB", [1_000, 0, 1_000, 0, 1_000, 0, 100, 100, 100, 250, 250, 0, 0, 0, 0, 0]),
    },
    {"acc0": ("ENT", [250, 250, 0, 100])},  # one account, under a quarter of history
)
"""Histories the quick suite pits the paths against each other on (the properties
above run on random ones in the full suite)."""


@pytest.mark.parametrize(
    "prop",
    [
        test_a_huge_reactivation_window_is_no_window,
        test_monthly_path_sums_to_the_join_path,
        test_steps_without_joins_match_the_join_path,
        test_quarter_and_year_steps_without_joins_match_the_join_path,
        test_explain_rows_sum_to_the_bridge,
        test_returns_excluded_without_per_account_windows_matches_the_join_path,
    ],
    ids=lambda prop: prop.__name__.removeprefix("test_"),
)  # one case per property: about 3 s each, so pytest-xdist spreads them over its workers
def test_the_paths_agree_on_hand_made_histories(prop: Any) -> None:
    for h in HAND_MADE:
        prop.hypothesis.inner_test(h)


@st.composite
def subscriptions(draw: st.DrawFn) -> list[tuple[str, dt.date, dt.date | None, int, str]]:
    """Overlapping subscriptions: some end in their start month, some never, segments vary."""
    out = []
    n = draw(st.integers(1, 12))
    amounts = draw(st.lists(st.integers(1, 10**6), min_size=n, max_size=n, unique=True))
    for amount in amounts:  # distinct amounts: no two lines repeat (a duplicate is refused)
        start = month_day(draw(st.integers(0, 14)), draw(st.integers(1, 28)))
        days = draw(st.none() | st.integers(1, 500))  # some end inside their start month
        end = None if days is None else start + dt.timedelta(days=days)
        out.append((draw(st.sampled_from(["a", "b", "c"])), start, end, amount,
                    draw(st.sampled_from(["SMB", "ENT"]))))  # fmt: skip
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subscriptions())
def test_subscription_ledger_matches_month_by_month_expansion(subs: list) -> None:
    """The subscriptions ledger (+ARR at the start month, -ARR at the end month, a running
    sum) equals summing each subscription over the month ends it is active on, with the
    segment of the account's latest start so far."""
    frame = pl.DataFrame(
        [(a, s.isoformat(), "" if e is None else e.isoformat(), f"{v / 100:.2f}", g)
         for a, s, e, v, g in subs],
        schema=["account_id", "start_date", "end_date", "arr", "segment"], orient="row",
    )  # fmt: skip
    if frame.filter(pl.col("end_date") == "").height == 0 and all(
        (e.year, e.month) == (s.year, s.month) for _, s, e, _, _ in subs
    ):
        return  # no ARR at any month end: nothing to compare
    led = ledger_of(frame, "subscriptions")
    cal, last = led.calendar, led.last_period
    got = (
        led.collect()
        .join(led.accounts, on="account_id")
        .select("account", "period", "arr", "segment")
        .sort("account", "period")
    )
    want = []
    for acc in sorted({a for a, *_ in subs}):
        mine = [(i, s) for i, s in enumerate(subs) if s[0] == acc]
        first = min(cal.period_of(s[1]) for _, s in mine)
        segment = None
        for p in range(first, last + 1):
            arr = sum(v for _, (_, s, e, v, _) in mine
                      if cal.period_of(s) <= p and (e is None or p < cal.period_of(e)))  # fmt: skip
            started = sorted((s[1], i, s[4]) for i, s in mine if cal.period_of(s[1]) == p)
            segment = started[-1][2] if started else segment
            want.append((acc, p, arr, segment))
    assert got.rows() == want


@SETTINGS
@given(histories(), st.integers(1, 3))
def test_variants_grace_ledger_from_the_built_one_matches_a_fresh_build(
    h: dict, grace: int
) -> None:
    """``nrr --variants``' churn_grace ledger, bridged on the ledger already built,
    equals building it afresh under that grace (frame, segments and span)."""
    for shape, make in SHAPES.items():
        loaded = load_frame(make(h), shape=shape)
        config = Config()
        alt = config.model_copy(
            update={"policies": config.policies.model_copy(update={"churn_grace": grace})}
        )
        for opts in (RunOptions(), RunOptions(by=("segment",))):
            led = prepare(loaded, config, opts)
            fast = grace_ledger(led, loaded, alt, opts)
            slow = prepare(loaded, alt, opts)
            assert fast.collect().equals(slow.collect()), (shape, opts.by)
            assert (fast.first_period, fast.last_period, fast.dimensions, fast.policies) == (
                slow.first_period, slow.last_period, slow.dimensions, slow.policies
            )  # fmt: skip


def test_the_ledgers_agree_on_hand_made_cases() -> None:
    """The quick suite's run of the two properties above (random cases in the full suite)."""
    day = dt.date
    subs = [  # overlaps, an end inside its start month, an open end, a segment change
        ("a", day(2024, 1, 5), day(2024, 4, 2), 100, "SMB"),
        ("a", day(2024, 2, 9), None, 250, "ENT"),
        ("a", day(2024, 2, 20), day(2024, 2, 25), 7, "SMB"),
        ("b", day(2024, 3, 1), day(2024, 3, 30), 9, "=cmd"),
        ("c", day(2024, 1, 31), day(2024, 6, 1), 1_000, "ENT"),
        ("c", day(2024, 7, 15), None, 500, "SMB"),
    ]
    test_subscription_ledger_matches_month_by_month_expansion.hypothesis.inner_test(subs)  # type: ignore[attr-defined]
    for h in HAND_MADE:
        for grace in (1, 2):
            test_variants_grace_ledger_from_the_built_one_matches_a_fresh_build.hypothesis.inner_test(
                h, grace
            )  # type: ignore[attr-defined]
