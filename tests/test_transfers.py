"""Segmented bridges roll forward: transfers between segments (SPEC §4, issue 15 item 1).

The hazard: an account that moves from SMB to Enterprise used to land in
Enterprise with its whole start ARR, so Enterprise's start differed from its
previous end with no line explaining it.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import retention_cli as rc
from retention_cli.config import Config
from retention_cli.metrics import BRIDGE_KEYS
from retention_cli.metrics.transfers import TRANSFER_KEYS
from retention_cli.service import RunOptions, explain_result

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# A (SMB, 1,000) and B (Enterprise, 2,000) from January 2025; in July A moves to
# Enterprise and expands by 500.
HAND = pl.DataFrame(
    {
        "date": ["2025-01-10", "2025-01-12", "2025-07-15"],
        "account_id": ["A", "B", "A"],
        "type": ["new", "new", "expansion"],
        "amount": ["1000.00", "2000.00", "500.00"],
        "segment": ["SMB", "Enterprise", "Enterprise"],
    }
)


def row(frame: pl.DataFrame, period: str, segment: str | None) -> dict:
    seg = pl.col("segment").is_null() if segment is None else pl.col("segment") == segment
    return frame.filter((pl.col("period") == period) & seg).row(0, named=True)


@pytest.mark.parametrize("mode", list(rc.BridgeMode))
def test_hand_example_smb_to_enterprise(mode: rc.BridgeMode) -> None:
    b = rc.bridge(rc.ledger_from_frame(HAND), grain=rc.Grain.quarter, mode=mode, by=["segment"])
    ent_q2, ent_q3 = row(b, "FY2025-Q2", "Enterprise"), row(b, "FY2025-Q3", "Enterprise")
    smb_q3 = row(b, "FY2025-Q3", "SMB")
    # Enterprise ends Q2 at 2,000 (B) and starts Q3 at 2,000, not 3,000:
    assert ent_q2["end_arr"] == ent_q3["start_arr"] == 200_000
    # A enters with its Q2-end ARR (1,000) as a transfer, then expands inside Enterprise:
    # 2,000 start + 1,000 transfer in + 500 expansion = 3,500 end
    assert (ent_q3["transfer_in_arr"], ent_q3["transfer_in_logos"]) == (100_000, 1)
    assert ent_q3["expansion_arr"] == 50_000
    assert ent_q3["end_arr"] == 350_000
    # SMB: 1,000 start - 1,000 transfer out = 0 end; no churn
    assert (smb_q3["start_arr"], smb_q3["transfer_out_arr"], smb_q3["end_arr"]) == (
        100_000,
        100_000,
        0,
    )
    assert (smb_q3["churned_arr"], smb_q3["transfer_out_logos"]) == (0, 1)
    # the total row has no transfers and is the unsegmented bridge
    total = row(b, "FY2025-Q3", None)
    assert all(total[k] is None for k in TRANSFER_KEYS)
    plain = rc.bridge(rc.ledger_from_frame(HAND), grain=rc.Grain.quarter, mode=mode)
    assert {k: total[k] for k in BRIDGE_KEYS} == {
        k: plain.filter(pl.col("period") == "FY2025-Q3").row(0, named=True)[k] for k in BRIDGE_KEYS
    }


def test_explain_lists_transfers_as_their_own_class() -> None:
    loaded = rc.load_frame(HAND)
    opts = RunOptions(grain=rc.Grain.quarter)
    out = explain_result(
        loaded, Config(), opts, period="FY2025-Q3", metric="bridge", where={"segment": "SMB"}
    ).frame
    assert out.select("account_id", "class", "transfer_out_arr").rows() == [
        ("A", "transfer_out", 100_000)
    ]
    out = explain_result(
        loaded, Config(), opts, period="FY2025-Q3", metric="bridge", where={"segment": "Enterprise"}
    ).frame
    a = out.filter(pl.col("account_id") == "A").row(0, named=True)
    assert (a["class"], a["transfer_in_arr"], a["expansion_arr"]) == (
        "transfer_in+expansion",
        100_000,
        50_000,
    )


def test_without_by_no_transfer_columns() -> None:
    b = rc.bridge(rc.ledger_from_frame(HAND), grain=rc.Grain.quarter)
    assert not set(TRANSFER_KEYS) & set(b.columns)


# ----------------------------------------------------------------------------- properties
SEGMENTS = ("SMB", "ENT", "MID")
AMOUNTS = st.sampled_from([0, 0, 100, 250, 1_000, 5_000, 123_456])


@st.composite
def histories(draw: st.DrawFn) -> dict[str, tuple[int, list[tuple[int, str, str]]]]:
    """Per account: its first month, then (ARR cents, segment, region) at each month end."""
    months = draw(st.integers(1, 15))
    out = {}
    for i in range(draw(st.integers(1, 5))):
        start = draw(st.integers(0, months - 1))
        seg, reg, rows = draw(st.sampled_from(SEGMENTS)), "EU", []
        for _ in range(months - start):
            if draw(st.integers(0, 3)) == 0:  # a segment change now and then
                seg = draw(st.sampled_from(SEGMENTS))
            if draw(st.integers(0, 5)) == 0:
                reg = draw(st.sampled_from(["EU", "US"]))
            rows.append((draw(AMOUNTS), seg, reg))
        out[f"acc{i}"] = (start, rows)
    if all(v == 0 for _, rows in out.values() for v, _, _ in rows):
        rows = out["acc0"][1]
        rows[-1] = (999, *rows[-1][1:])
    return out


def _month(m: int, day: int) -> str:
    y, mo = divmod(m, 12)
    return dt.date(2024 + y, mo + 1, day).isoformat()


def as_snapshots(h: dict) -> pl.DataFrame:
    """Every month of every account (zero ARR too, so a segment can change as it churns)."""
    rows = [
        (_month(start + m, 28), acc, f"{v / 100:.2f}", seg, reg)
        for acc, (start, vals) in h.items()
        for m, (v, seg, reg) in enumerate(vals)
    ]
    return pl.DataFrame(
        rows, schema=["date", "account_id", "arr", "segment", "region"], orient="row"
    )


def as_movements(h: dict) -> pl.DataFrame:
    """One row per ARR change, tagged with the segment of that month (a change of
    segment alone has no row, so it shows with the next movement)."""
    rows = []
    for acc, (start, vals) in h.items():
        prev, ever = 0, False
        for m, (v, seg, reg) in enumerate(vals):
            if v == prev:
                continue
            if prev == 0:
                kind, amount = ("reactivation" if ever else "new"), v
            elif v == 0:
                kind, amount = "churn", prev
            else:
                kind, amount = ("expansion", v - prev) if v > prev else ("contraction", prev - v)
            ever, prev = True, v
            date = _month(start + m, 15)
            rows.append((date, acc, kind, f"{amount / 100:.2f}", seg, reg))
    return pl.DataFrame(
        rows, schema=["date", "account_id", "type", "amount", "segment", "region"], orient="row"
    )


def check_rolls_forward(b: pl.DataFrame, by: list[str]) -> None:
    total = pl.all_horizontal(pl.col(d).is_null() for d in by)
    segs = b.filter(~total)
    known = segs.filter(pl.col("start_arr").is_not_null())
    # per segment: start + movements + transfers = end, exact to the cent, and for logos
    arr = (
        known["start_arr"] + known["new_arr"] + known["reactivation_arr"] + known["expansion_arr"]
        - known["contraction_arr"] - known["churned_arr"]
        + known["transfer_in_arr"] - known["transfer_out_arr"]
    )  # fmt: skip
    assert (arr == known["end_arr"]).all()
    logos = (
        known["start_logos"] + known["new_logos"] + known["reactivated_logos"]
        - known["churned_logos"] + known["transfer_in_logos"] - known["transfer_out_logos"]
    )  # fmt: skip
    assert (logos == known["end_logos"]).all()
    for k in (*BRIDGE_KEYS, *TRANSFER_KEYS):
        assert (known[k] >= 0).all(), k
    # each segment's start is its previous end
    ordered = segs.with_columns(
        _prev_end=pl.col("end_arr").shift(1).over(by, order_by="start"),
        _prev_logos=pl.col("end_logos").shift(1).over(by, order_by="start"),
    ).filter(pl.col("_prev_end").is_not_null() & pl.col("start_arr").is_not_null())
    assert (ordered["start_arr"] == ordered["_prev_end"]).all()
    assert (ordered["start_logos"] == ordered["_prev_logos"]).all()
    # transfers sum to zero over the segments of a period; the total row has none
    sums = known.group_by("period").agg(
        (pl.col("transfer_in_arr").sum() - pl.col("transfer_out_arr").sum()).alias("arr"),
        (pl.col("transfer_in_logos").sum() - pl.col("transfer_out_logos").sum()).alias("logos"),
    )
    assert (sums["arr"] == 0).all()
    assert (sums["logos"] == 0).all()
    assert b.filter(total).select(pl.col(k).is_null().all() for k in TRANSFER_KEYS).row(0) == (
        True,
    ) * len(TRANSFER_KEYS)
    # the segments add up to the total row for every bridge key
    tot = b.filter(total).select("period", *BRIDGE_KEYS)
    added = segs.group_by("period").agg(pl.col(k).sum() for k in BRIDGE_KEYS)
    joined = tot.join(added, on="period", suffix="_seg").filter(pl.col("start_arr").is_not_null())
    for k in BRIDGE_KEYS:
        assert (joined[k] == joined[f"{k}_seg"]).all(), k


@pytest.mark.slow
@SETTINGS
@given(
    h=histories(),
    grain=st.sampled_from(list(rc.Grain)),
    mode=st.sampled_from(list(rc.BridgeMode)),
    two=st.booleans(),
)
def test_segments_roll_forward(h: dict, grain: rc.Grain, mode: rc.BridgeMode, two: bool) -> None:
    by = ["segment", "region"] if two else ["segment"]
    for frame, shape in ((as_snapshots(h), "snapshots"), (as_movements(h), "movements")):
        if frame.height == 0:
            continue
        L = rc.ledger_from_frame(frame, shape=shape)
        b = rc.bridge(L, grain=grain, mode=mode, by=by)
        check_rolls_forward(b, by)
        # the total row is the unsegmented bridge, unchanged
        plain = rc.bridge(L, grain=grain, mode=mode)
        total = b.filter(pl.col("segment").is_null()).select("period", *BRIDGE_KEYS)
        assert total.equals(plain.select("period", *BRIDGE_KEYS))


@pytest.mark.slow
@SETTINGS
@given(
    h=histories(), grain=st.sampled_from(list(rc.Grain)), mode=st.sampled_from(list(rc.BridgeMode))
)
def test_a_segments_explain_adds_up_to_its_bridge_row(
    h: dict, grain: rc.Grain, mode: rc.BridgeMode
) -> None:
    loaded = rc.load_frame(as_movements(h))
    opts = RunOptions(grain=grain, bridge=mode)
    L = rc.build_ledger(loaded)
    segments = L.frame.select(pl.col("segment").unique()).collect()["segment"].to_list()
    for p in rc.bridge(L, grain=grain).filter(pl.col("start_arr").is_not_null())["period"].unique():
        for seg in segments:
            for metric in ("bridge", "churn"):
                # raises RuntimeError unless the accounts add up to the segment's row exactly
                explain_result(
                    loaded, Config(), opts, period=p, metric=metric, where={"segment": seg}
                )
