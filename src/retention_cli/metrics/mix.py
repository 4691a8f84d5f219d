"""Growth mix: where new ARR came from, and retained versus acquired ARR (SPEC §7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from retention_cli.ledger import Ledger
from retention_cli.metrics.bridge import BRIDGE_KEYS, bridge, reporting_periods
from retention_cli.metrics.frames import divide_cents, is_total, order_rows, per_month, ratio
from retention_cli.metrics.retention import retention
from retention_cli.options import BridgeMode, Grain, Method

if TYPE_CHECKING:
    from retention_cli.config import Policies

MIX_KEYS = (
    "gross_new_arr",
    "expansion_share",
    "acquisition_share",
    "reactivation_share",
    "net_new_arr",
    "quick_ratio",
    "retained_arr",
    "acquired_arr",
    "retention_to_acquisition",
    "arpa",
    "new_logo_acv",
    "top1_share",
    "top10_share",
    "top20_share",
)
TOP_N = (1, 10, 20)


def acquired(
    ledger: Ledger,
    *,
    grain: Grain = Grain.month,
    window: int = 12,
    by: list[str] | None = None,
) -> pl.DataFrame:
    """End ARR of accounts outside the window's starting cohort, per period (and segment).

    Columns ``period, [by...], acquired_arr, acquired_logos`` (cents, counts); an
    account counts in the segment it is in at the period end. Null where the
    window starts before the data (the cohort is unknown).
    """
    by = list(by or [])
    periods = reporting_periods(ledger, grain)
    pairs = periods.select(
        pl.col("period").alias("_key"),
        (pl.col("_last") - window).alias("_s"),
        pl.col("_last").alias("_e"),
    )
    ends = {int(e): k for e, k in zip(pairs["_e"], pairs["_key"], strict=True)}
    # the ledger is dense and sorted: ``window`` rows back in the same account is ``_s``
    same = pl.col("account_id").shift(window) == pl.col("account_id")
    in_cohort = (same & (pl.col("arr").shift(window) > 0)).fill_null(False)
    outside = (
        ledger.frame.with_columns(_in=in_cohort)
        .filter((pl.col("arr") > 0) & ~pl.col("_in"))
        .select("period", "arr", *by)
    )
    agg = per_month(
        outside,
        ends,
        by,
        [
            pl.col("arr").sum().alias("acquired_arr"),
            pl.len().cast(pl.Int64).alias("acquired_logos"),
        ],
    )
    base = periods.select("period", (pl.col("_last") - window).alias("_s"))
    out = base.join(agg.rename({"_key": "period"}), on="period", how="left")
    if by:  # every period has a total row even when nothing was acquired
        total = out.filter(is_total(by))
        missing = base.join(total.select("period"), on="period", how="anti")
        out = pl.concat([out, missing.with_columns(pl.lit(None, pl.String).alias(d) for d in by)],
                        how="diagonal")  # fmt: skip
    unknown = pl.col("_s") < ledger.first_period
    return out.with_columns(
        pl.when(unknown).then(None).otherwise(pl.col(c).fill_null(0)).alias(c)
        for c in ("acquired_arr", "acquired_logos")
    ).select("period", *by, "acquired_arr", "acquired_logos")


def concentration(
    ledger: Ledger,
    *,
    grain: Grain = Grain.month,
    by: list[str] | None = None,
    totals: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Share of end ARR held by the largest 1, 10 and 20 accounts, per period (and segment).

    Columns ``period, [by...], top1_share, top10_share, top20_share``; null when
    there is no ARR at the period end. Segments use the values at the period end.
    ``totals``: the bridge of this ledger and grain without ``by`` (``period``,
    ``end_arr``), whose end ARR is each share's denominator (not summed again).
    """
    by = list(by or [])
    periods = reporting_periods(ledger, grain)
    ends = {int(e): k for e, k in zip(periods["_last"], periods["period"], strict=True)}
    # the largest accounts once per group (top_k is not ordered), summed from the list
    top = pl.col("arr").top_k(max(TOP_N)).sort(descending=True).alias("_top")
    total = pl.col("arr").sum().alias("_total")
    if by or not ends:
        rows = ledger.frame.filter(pl.col("arr") > 0).select("period", "arr", *by)
        agg = per_month(rows, ends, by, [total, top])
    else:
        agg = _largest(ledger.frame, ends, total, top, totals)
    agg = agg.rename({"_key": "period"}).with_columns(
        pl.col("_top").list.head(n).list.sum().alias(f"_top{n}") for n in TOP_N
    )
    return agg.with_columns(
        ratio(f"_top{n}", "_total").alias(f"top{n}_share") for n in TOP_N
    ).select("period", *by, *(f"top{n}_share" for n in TOP_N))


def _largest(
    frame: pl.LazyFrame,
    ends: dict[int, str],
    total: pl.Expr,
    top: pl.Expr,
    totals: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """``total`` and ``top`` over the rows with ARR of each month in ``ends`` (``_key``: its label).

    The largest accounts of a month are found among its rows with ARR at or above a
    bound that at least :data:`TOP_N`'s largest number of them reach in every month
    (read off a sixteenth of the accounts), not among all its rows: a tenth of the
    time on 13M rows. Without such a bound (a month with fewer accounts) it is 1.
    ``totals`` (a bridge's ``period``, ``end_arr``) gives the totals.
    """
    months = list(ends)
    n = max(TOP_N)
    lf = frame.filter(pl.col("period").is_in(months)).select("period", "arr")
    sample = (
        frame.head(frame.select(pl.len()).collect().item() // 16)
        .filter(pl.col("period").is_in(months) & (pl.col("arr") > 0))
        .group_by("period")
        .agg(pl.col("arr").top_k(n).min().alias("_low"), pl.len().alias("_n"))
        .collect()
    )
    full = sample.height == len(months) and bool((sample["_n"] >= n).all())
    bound = max(int(sample["_low"].min()), 1) if full else 1  # type: ignore[arg-type]
    label = pl.col("period").replace_strict(ends, return_dtype=pl.String).alias("_key")
    tops = lf.filter(pl.col("arr") >= bound).group_by("period").agg(top)
    if totals is None:
        # positive ARR sums to the month's total (the ledger has no negative ARR)
        found = pl.collect_all([lf.group_by("period").agg(total), tops])
        sums, largest = found[0].select(label, "_total"), found[1]
    else:
        sums = totals.select(pl.col("period").alias("_key"), pl.col("end_arr").alias("_total"))
        largest = tops.collect()
    largest = largest.select(label, "_top")
    return sums.filter(pl.col("_total") > 0).join(largest, on="_key", how="left")


def acquired_from(bridge_frame: pl.DataFrame, retention_frame: pl.DataFrame) -> pl.DataFrame:
    """:func:`acquired` without ``by``, from the bridge and retention frames of the same run.

    The accounts with ARR at the period end that are outside the window's cohort
    hold the end ARR less the cohort's: ``end_arr - _cohort_end_arr`` and
    ``end_logos - _retained_logos`` (null where the cohort is unknown). No pass
    over the ledger.
    """
    cohort = retention_frame.select("period", "_cohort_end_arr", "_retained_logos")
    return (
        bridge_frame.select("period", "end_arr", "end_logos")
        .join(cohort, on="period", how="left")
        .select(
            "period",
            acquired_arr=pl.col("end_arr") - pl.col("_cohort_end_arr"),
            acquired_logos=pl.col("end_logos") - pl.col("_retained_logos"),
        )
    )


def mix_from(
    bridge_frame: pl.DataFrame,
    retention_frame: pl.DataFrame,
    acquired_frame: pl.DataFrame,
    *,
    by: list[str] | None = None,
    concentration_frame: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The growth mix from an already computed bridge, retention and :func:`acquired`.

    Lets a caller that has the bridge and retention frames (``report``) avoid
    computing them twice; :func:`mix` is the one-call form.
    """
    by = list(by or [])
    keys = ["period", *by]
    dates = bridge_frame.select("period", "start", "end").unique("period", maintain_order=True)
    # a segment can hold cohort ARR (window-start segment) and no account at the
    # period end, so join in full and read a missing bridge side as zero
    frame = (
        bridge_frame.drop("start", "end")
        .with_columns(_bridged=pl.lit(True))
        .join(
            retention_frame.select(*keys, pl.col("_cohort_end_arr").alias("retained_arr")),
            on=keys,
            how="full",
            coalesce=True,
            nulls_equal=True,
        )
        .join(acquired_frame, on=keys, how="left", nulls_equal=True)
        .join(
            concentration_frame
            if concentration_frame is not None
            else acquired_frame.select(keys).with_columns(
                pl.lit(None, pl.Float64).alias(f"top{n}_share") for n in TOP_N
            ),
            on=keys,
            how="left",
            nulls_equal=True,
        )
        .with_columns(
            pl.when(pl.col("_bridged").is_null()).then(0).otherwise(pl.col(k)).alias(k)
            for k in BRIDGE_KEYS
        )
        .join(dates, on="period", how="left")
        .with_columns(_g=pl.col("new_arr") + pl.col("reactivation_arr") + pl.col("expansion_arr"))
        .with_columns(_lost=pl.col("contraction_arr") + pl.col("churned_arr"))
    )
    g = pl.col("_g")
    out = frame.with_columns(
        gross_new_arr=g,
        expansion_share=ratio("expansion_arr", g),
        acquisition_share=ratio("new_arr", g),
        reactivation_share=ratio("reactivation_arr", g),
        net_new_arr=g - pl.col("_lost"),
        quick_ratio=ratio(g, "_lost"),
        retention_to_acquisition=ratio("retained_arr", "acquired_arr"),
        arpa=divide_cents(pl.col("end_arr"), pl.col("end_logos")),
        new_logo_acv=divide_cents(pl.col("new_arr"), pl.col("new_logos")),
        _why_quick_ratio=pl.when((pl.col("_lost") == 0) & g.is_not_null()).then(
            pl.lit("no contraction or churn in the period (nothing lost: the ratio is unbounded)")
        ),
    )
    return out.select(
        "period", "start", "end", *by, *MIX_KEYS, "_why_quick_ratio", "end_arr", "end_logos"
    )


def mix(
    ledger: Ledger,
    *,
    grain: Grain = Grain.month,
    window: int = 12,
    mode: BridgeMode = BridgeMode.net,
    method: Method = Method.cohort,
    by: list[str] | None = None,
    policies: Policies | None = None,
) -> pl.DataFrame:
    """Growth mix per reported period (and segment).

    Returns
    -------
    DataFrame
        ``period, start, end, [by...]`` then the SPEC §7 keys (money in integer
        cents, shares and ratios as fractions) and the hidden ``_why_quick_ratio``
        (why the quick ratio is null: nothing was lost), ``end_arr`` and
        ``end_logos``.

    Notes
    -----
    With G = new + reactivation + expansion from the bridge: expansion,
    acquisition and reactivation shares are each over G (null when G = 0); net
    new ARR = G - contraction - churn; quick ratio = G / (contraction + churn),
    null when nothing was lost (never infinity). Retained ARR is the window
    cohort's ARR at the period end (NRR × cohort start ARR) and acquired ARR the
    end ARR of every other account, so on the total row retained + acquired =
    end ARR. ARPA = end ARR / end logos and new-logo ACV = new ARR / new logos,
    rounded half away from zero to the cent. With ``by``, retained ARR follows
    the cohort's segment at the window start (as NRR does); everything else the
    segment at the period end (as the bridge does). ``top1_share``,
    ``top10_share`` and ``top20_share`` are the share of end ARR held by the
    largest 1, 10 and 20 accounts (a due-diligence staple).

    Examples
    --------
    >>> import polars as pl
    >>> from retention_cli import ledger_from_frame
    >>> moves = pl.DataFrame({
    ...     "account_id": ["a", "b", "a", "c"],
    ...     "date": ["2025-01-10", "2025-01-20", "2026-01-05", "2026-01-15"],
    ...     "type": ["new", "new", "expansion", "new"],
    ...     "amount": ["1000", "500", "200", "300"],
    ... })
    >>> m = mix(ledger_from_frame(moves), window=12)
    >>> m.filter(pl.col("period") == "2026-01").select(
    ...     "gross_new_arr", "expansion_share", "quick_ratio", "retained_arr", "acquired_arr"
    ... ).row(0)
    (50000, 0.4, None, 170000, 30000)

    In 2026-01, G = 300 new + 200 expansion = 500 (expansion share 200/500);
    nothing was lost, so the quick ratio is null; the cohort (a, b) holds
    1,200 + 500 = 1,700 and c, acquired since, holds 300 (values in cents).

    On the bundled tiny example, FY2025-Q3 wins E (3,000.00) and loses 500.00
    of B:

    >>> from retention_cli import Grain, build_ledger, load
    >>> q = mix(build_ledger(load("examples/tiny_movements.csv")), grain=Grain.quarter)
    >>> q.filter(pl.col("period") == "FY2025-Q3").select(
    ...     "gross_new_arr", "net_new_arr", "quick_ratio", "arpa"
    ... ).row(0)
    (300000, 250000, 6.0, 162500)
    """
    by = list(by or [])
    policies = policies or ledger.policies
    b = bridge(ledger, grain=grain, mode=mode, by=by, policies=policies)
    r = retention(ledger, grain=grain, window=window, method=method, by=by)
    a = acquired(ledger, grain=grain, window=window, by=by)
    c = concentration(ledger, grain=grain, by=by)
    return order_rows(
        mix_from(b, r, a, by=by, concentration_frame=c), reporting_periods(ledger, grain), by
    )
