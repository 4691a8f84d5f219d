"""Invariants on random histories (Hypothesis).

A history is each account's ARR (cents) at the end of each month; from it we
write the same history as a movement log, as snapshots and as subscriptions.
"""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import retention_cli as rc
from retention_cli.config import Policies
from retention_cli.metrics import BRIDGE_KEYS, reporting_periods

BASE = dt.date(2024, 11, 1)
AMOUNTS = st.sampled_from([0, 0, 100, 250, 1_000, 1_001, 5_000, 123_456])
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def month_day(m: int, day: int = 15) -> dt.date:
    y, mo = divmod(BASE.month - 1 + m, 12)
    return dt.date(BASE.year + y, mo + 1, day)


@st.composite
def histories(draw: st.DrawFn) -> dict[str, tuple[str, list[int]]]:
    months = draw(st.integers(1, 16))
    n = draw(st.integers(1, 6))
    out = {}
    for i in range(n):
        start = draw(st.integers(0, months - 1))
        values = [0] * start + draw(
            st.lists(AMOUNTS, min_size=months - start, max_size=months - start)
        )
        out[f"acc{i}"] = (draw(st.sampled_from(["SMB", "ENT", "=cmd"])), values)
    # the data must have at least one movement / snapshot
    if all(v == 0 for _, vals in out.values() for v in vals):
        out["acc0"] = (out["acc0"][0], [*out["acc0"][1][:-1], 999])
    return out


def as_movements(h: dict, scale: int = 1) -> pl.DataFrame:
    rows = []
    for acc, (seg, vals) in h.items():
        prev, ever = 0, False
        for m, v in enumerate(vals):
            v *= scale
            if v == prev:
                continue
            if prev == 0:
                kind, amount = ("reactivation" if ever else "new"), v
            elif v == 0:
                kind, amount = "churn", prev  # positive magnitude: accepted and subtracted
            elif v > prev:
                kind, amount = "expansion", v - prev
            else:
                kind, amount = "contraction", -(prev - v)  # signed form
            ever = True
            rows.append((month_day(m).isoformat(), acc, kind, f"{amount / 100:.2f}", seg))
            prev = v
    return pl.DataFrame(
        rows, schema=["date", "account_id", "type", "amount", "segment"], orient="row"
    )


def as_snapshots(h: dict) -> pl.DataFrame:
    rows = [
        (month_day(m, 28).isoformat(), acc, f"{v / 100:.2f}", seg)
        for acc, (seg, vals) in h.items()
        for m, v in enumerate(vals)
        if v > 0
    ]
    return pl.DataFrame(rows, schema=["date", "account_id", "arr", "segment"], orient="row")


def as_subscriptions(h: dict) -> pl.DataFrame:
    rows = []
    for acc, (seg, vals) in h.items():
        prev = 0
        for m, v in enumerate(vals):
            if v != prev:
                if prev > 0:
                    rows[-1][2] = month_day(m, 1).isoformat()
                if v > 0:
                    rows.append([acc, month_day(m, 1).isoformat(), "", f"{v / 100:.2f}", seg])
                prev = v
    return pl.DataFrame(
        rows, schema=["account_id", "start_date", "end_date", "arr", "segment"], orient="row"
    )


def ledger_of(frame: pl.DataFrame, shape: str) -> rc.Ledger:
    return rc.ledger_from_frame(frame, shape=shape)


def check_identity(b: pl.DataFrame) -> None:
    known = b.filter(pl.col("start_arr").is_not_null())
    lhs = (
        known["start_arr"]
        + known["new_arr"]
        + known["reactivation_arr"]
        + known["expansion_arr"]
        - known["contraction_arr"]
        - known["churned_arr"]
    )
    assert (lhs == known["end_arr"]).all()
    logos = (
        known["start_logos"]
        + known["new_logos"]
        + known["reactivated_logos"]
        - known["churned_logos"]
    )
    assert (logos == known["end_logos"]).all()
    for k in BRIDGE_KEYS:
        vals = known[k]
        assert (vals >= 0).all(), k


def assert_segments_sum_to_total(frame: pl.DataFrame, keys: tuple[str, ...]) -> None:
    """Per period, the ``segment`` rows of each additive key add up to the total row
    (a segment with no row counts 0; a key unknown on the total row is skipped)."""
    total = frame.filter(pl.col("segment").is_null()).drop("segment")
    segs = (
        frame.filter(pl.col("segment").is_not_null())
        .group_by("period", maintain_order=True)
        .agg(pl.col(k).sum() for k in keys)
    )
    joined = total.join(segs, on="period", how="left", suffix="_seg")
    for k in keys:
        known = joined.filter(pl.col(k).is_not_null())
        assert (known[k] == known[f"{k}_seg"].fill_null(0)).all(), k


@pytest.mark.slow
@SETTINGS
@given(
    h=histories(),
    grain=st.sampled_from(list(rc.Grain)),
    mode=st.sampled_from(list(rc.BridgeMode)),
    as_new=st.booleans(),
    grace=st.integers(0, 2),
    window=st.one_of(st.none(), st.integers(0, 3)),
)
def test_bridge_identity_and_segment_sums(
    h: dict, grain: rc.Grain, mode: rc.BridgeMode, as_new: bool, grace: int, window: int | None
) -> None:
    policies = Policies(
        reactivation="as_new" if as_new else "reactivation",
        churn_grace=grace,
        reactivation_window=window,
    )
    config = rc.Config(policies=policies)
    for frame, shape in ((as_movements(h), "movements"), (as_snapshots(h), "snapshots")):
        if frame.height == 0:
            continue
        L = rc.ledger_from_frame(frame, shape=shape, config=config)
        b = rc.bridge(L, grain=grain, mode=mode, by=["segment"], policies=policies)
        check_identity(b)
        assert_segments_sum_to_total(b, BRIDGE_KEYS)


@pytest.mark.slow
@SETTINGS
@given(
    h=histories(),
    window=st.integers(1, 13),
    grain=st.sampled_from(list(rc.Grain)),
    method=st.sampled_from(list(rc.Method)),
)
def test_grr_bounds(h: dict, window: int, grain: rc.Grain, method: rc.Method) -> None:
    r = rc.retention(
        ledger_of(as_movements(h), "movements"),
        window=window,
        grain=grain,
        method=method,
        by=["segment"],
    )
    known = r.filter(pl.col("nrr").is_not_null())
    assert (known["grr"] <= 1 + 1e-12).all()
    assert (known["grr"] <= known["nrr"] + 1e-12).all()
    assert (known["logo_retention"] <= 1).all()
    if method is rc.Method.cohort:
        assert (known["grr"] >= 0).all()
    # a null ratio only where the cohort is empty or unknown
    assert r.filter(pl.col("nrr").is_null() & (pl.col("cohort_start_arr") > 0)).height == 0


@pytest.mark.slow
@SETTINGS
@given(h=histories(), seed=st.integers(0, 2**32 - 1))
def test_row_order_does_not_matter(h: dict, seed: int) -> None:
    frame = as_movements(h)
    order = list(range(frame.height))
    random.Random(seed).shuffle(order)
    shuffled = frame[order]
    for grain in (rc.Grain.month, rc.Grain.quarter):
        a, b = ledger_of(frame, "movements"), ledger_of(shuffled, "movements")
        assert rc.bridge(a, grain=grain, by=["segment"]).equals(
            rc.bridge(b, grain=grain, by=["segment"])
        )
        assert rc.retention(a, grain=grain).equals(rc.retention(b, grain=grain))


@pytest.mark.slow
@SETTINGS
@given(h=histories(), k=st.integers(2, 10_000))
def test_scaling_money_leaves_ratios_unchanged(h: dict, k: int) -> None:
    ratios = ["nrr", "grr", "logo_retention"]
    a = rc.retention(ledger_of(as_movements(h), "movements"), window=3)
    b = rc.retention(ledger_of(as_movements(h, scale=k), "movements"), window=3)
    assert a.select(ratios).equals(b.select(ratios))
    assert (b["cohort_start_arr"] == a["cohort_start_arr"] * k).fill_null(True).all()


@pytest.mark.slow
@SETTINGS
@given(h=histories(), window=st.integers(1, 13), grain=st.sampled_from(list(rc.Grain)))
def test_three_shapes_agree(h: dict, window: int, grain: rc.Grain) -> None:
    snaps = as_snapshots(h)
    if snaps.height == 0:
        return
    frames = {
        "movements": ledger_of(as_movements(h), "movements"),
        "snapshots": ledger_of(snaps, "snapshots"),
        "subscriptions": ledger_of(as_subscriptions(h), "subscriptions"),
    }
    # snapshots cannot say "everyone left in the last month": compare the months all shapes cover
    last = min(L.last_period for L in frames.values())
    first = frames["snapshots"].first_period
    ledgers = {
        k: L.collect().filter(pl.col("period").is_between(first, last)) for k, L in frames.items()
    }
    for L in ledgers.values():  # the ledger is in (account, period) order, as documented
        assert L.equals(L.sort("account_id", "period"))
    assert ledgers["movements"].equals(ledgers["snapshots"])
    assert ledgers["movements"].equals(ledgers["subscriptions"])
    if all(L.last_period == last for L in frames.values()):
        results = {
            k: rc.retention(L, window=window, grain=grain, by=["segment"])
            for k, L in frames.items()
        }
        assert results["movements"].equals(results["snapshots"])
        assert results["movements"].equals(results["subscriptions"])
        bridges = {k: rc.bridge(L, grain=grain) for k, L in frames.items()}
        assert bridges["movements"].equals(bridges["subscriptions"])
        # the snapshot file's opening period has no movements; every later one matches
        opening = bridges["snapshots"].filter(pl.col("start_arr").is_null()).height
        assert bridges["snapshots"].slice(opening).equals(bridges["movements"].slice(opening))
        cohort_frames = {k: rc.cohorts(L, grain=grain, by=["segment"]) for k, L in frames.items()}
        assert cohort_frames["movements"].equals(cohort_frames["snapshots"])
        assert cohort_frames["movements"].equals(cohort_frames["subscriptions"])
        mixes = {k: rc.mix(L, grain=grain, window=window) for k, L in frames.items()}
        assert mixes["movements"].equals(mixes["subscriptions"])


@pytest.mark.slow
@SETTINGS
@given(
    h=histories(),
    window=st.integers(1, 13),
    grain=st.sampled_from(list(rc.Grain)),
    mode=st.sampled_from(list(rc.BridgeMode)),
)
def test_mix_invariants_and_segment_sums(
    h: dict, window: int, grain: rc.Grain, mode: rc.BridgeMode
) -> None:
    L = ledger_of(as_movements(h), "movements")
    m = rc.mix(L, grain=grain, window=window, mode=mode, by=["segment"])
    b = rc.bridge(L, grain=grain, mode=mode)
    total = m.filter(pl.col("segment").is_null())
    assert total["period"].to_list() == b["period"].to_list()
    # net new ARR is the bridge's end minus start, to the cent
    assert (total["net_new_arr"] == b["end_arr"] - b["start_arr"]).all()
    # retained + acquired = end ARR wherever the cohort is known
    known = total.filter(pl.col("retained_arr").is_not_null())
    assert (known["retained_arr"] + known["acquired_arr"] == known["end_arr"]).all()
    # the three shares of gross new ARR add up to 1; a quick ratio is never infinite
    g = total.filter(pl.col("gross_new_arr") > 0)
    shares = g["expansion_share"] + g["acquisition_share"] + g["reactivation_share"]
    assert ((shares - 1).abs() < 1e-12).all()
    assert total["quick_ratio"].is_infinite().fill_null(False).sum() == 0
    assert_segments_sum_to_total(
        m, ("gross_new_arr", "net_new_arr", "retained_arr", "acquired_arr")
    )


@pytest.mark.slow
@SETTINGS
@given(h=histories(), grain=st.sampled_from(list(rc.Grain)))
def test_cohort_invariants(h: dict, grain: rc.Grain) -> None:
    L = ledger_of(as_movements(h), "movements")
    ever = sum(any(v > 0 for v in vals) for _, vals in h.values())
    frames = {
        metric: rc.cohorts(L, grain=grain, metric=metric) for metric in ("nrr", "grr", "logos")
    }
    nrr, grr, logos = frames["nrr"], frames["grr"], frames["logos"]
    assert nrr["cohort_logos"].sum() == ever  # every account is in exactly one cohort
    ages = [c for c in nrr.columns if c.startswith(f"{grain.value}_")]
    started = nrr.filter(pl.col("cohort_start_arr") > 0)
    assert (started[ages[0]] == 1.0).all()  # age 0 is the cohort's own start
    for age in ages:
        pair = pl.DataFrame({"n": nrr[age], "g": grr[age], "l": logos[age]}).drop_nulls()
        assert (pair["g"] <= 1 + 1e-12).all()
        assert (pair["g"] <= pair["n"] + 1e-12).all()
        assert ((pair["l"] >= 0) & (pair["l"] <= 1)).all()


@pytest.mark.slow
@SETTINGS
@given(
    h=histories(),
    window=st.integers(1, 6),
    grain=st.sampled_from(list(rc.Grain)),
    method=st.sampled_from(list(rc.Method)),
    mode=st.sampled_from(list(rc.BridgeMode)),
)
def test_explain_adds_up_to_every_headline(
    h: dict, window: int, grain: rc.Grain, method: rc.Method, mode: rc.BridgeMode
) -> None:
    from retention_cli.config import Config
    from retention_cli.errors import UsageError
    from retention_cli.service import RunOptions, explain_result

    loaded = rc.load_frame(as_movements(h))
    opts = RunOptions(grain=grain, window=window, method=method, bridge=mode)
    L = rc.build_ledger(loaded)
    for p in reporting_periods(L, grain).iter_rows(named=True):
        for metric in ("nrr", "grr", "bridge", "churn"):
            # explain_result raises RuntimeError unless the accounts add up to the headline exactly
            if metric in ("nrr", "grr") and p["_last"] - window < L.first_period:
                with pytest.raises(UsageError, match="window starts before the data"):
                    explain_result(loaded, Config(), opts, period=p["period"], metric=metric)
                continue
            explain_result(loaded, Config(), opts, period=p["period"], metric=metric)
