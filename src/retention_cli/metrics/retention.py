"""Trailing-window revenue and logo retention: NRR, GRR and friends (SPEC §5)."""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from retention_cli.batches import account_batches, add_batches
from retention_cli.bounds import check_window
from retention_cli.ledger import Ledger, previous_arr, running_sum
from retention_cli.metrics.bridge import reporting_periods
from retention_cli.metrics.frames import (
    is_total,
    kept_arr,
    order_rows,
    per_month,
    ratio,
    with_every_segment,
)
from retention_cli.options import Grain, Method

RETENTION_KEYS = (
    "window_start",
    "cohort_logos",
    "cohort_start_arr",
    "nrr",
    "grr",
    "logo_retention",
    "logo_churn_rate",
    "gross_revenue_churn",
    "net_revenue_churn",
)


def retention(
    ledger: Ledger,
    *,
    grain: Grain = Grain.month,
    window: int = 12,
    method: Method = Method.cohort,
    by: list[str] | None = None,
    count_returns: bool = True,
) -> pl.DataFrame:
    """NRR, GRR and logo retention over a trailing window, per reported period.

    Parameters
    ----------
    ledger
        From :func:`retention_cli.ledger.build_ledger`.
    grain
        Report at the end of each ``month``, ``quarter`` or ``year``.
    window
        Window length in fiscal months (12 = the annual NRR board decks quote).
    method
        ``cohort`` or ``bridge`` (see Notes).
    by
        Dimension columns; an account belongs to the segment it was in at the
        window start. A total row (dimensions null) comes first in each period.
    count_returns
        False: a cohort account that was at zero ARR at any month end inside
        the window counts as lost even if it came back (a definition variant
        some tools use; the default counts its ARR at the end).

    Returns
    -------
    DataFrame
        ``period, start, end, [by...], window_start, cohort_logos,
        cohort_start_arr, nrr, grr, logo_retention, logo_churn_rate,
        gross_revenue_churn, net_revenue_churn`` plus ``_cohort_end_arr``,
        ``_cohort_min_arr`` and ``_retained_logos`` (cents and counts behind
        the ratios). Ratios are fractions; null when the cohort is empty or the
        window starts before a snapshot file's data.

    Notes
    -----
    With ``s`` the end of the fiscal month before the window and ``e`` the
    period end, the cohort ``C`` is the accounts with ARR > 0 at ``s``.
    ``cohort`` method: NRR = Σ ARR(e) / Σ ARR(s); GRR = Σ min(ARR(e), ARR(s)) /
    Σ ARR(s), never above 1. ``bridge`` method: NRR = (S + expansion -
    contraction - churn) / S and GRR = (S - contraction - churn) / S with the
    cohort's fiscal-month movements summed over the window (a cohort account's
    reactivation counts as expansion); so a contraction later won back lowers
    bridge GRR but not cohort GRR. NRR is equal under both methods. Logo
    retention = cohort accounts with ARR > 0 at ``e`` / |C| under both.
    ``window_start`` is the first day of the window (the day after ``s``).

    Examples
    --------
    The README's hand-checked example: at 2026-01 the 12-month cohort is A, B,
    C and D, with 4,500.00 at the end of 2025-01; they end with 3,800.00.

    >>> import polars as pl
    >>> from retention_cli import build_ledger, load
    >>> ledger = build_ledger(load("examples/tiny_movements.csv"))
    >>> r = retention(ledger, window=12)
    >>> r.filter(pl.col("period") == "2026-01").select(
    ...     "cohort_logos", "cohort_start_arr", "nrr", "grr", "logo_retention"
    ... ).row(0)
    (4, 450000, 0.8444444444444444, 0.7333333333333333, 0.75)

    NRR = 3,800 / 4,500; GRR caps A at its 1,000 start: 3,300 / 4,500; three
    of the four still pay (C came back).
    """
    check_window(window)
    by = list(by or [])
    periods = reporting_periods(ledger, grain)
    sums = add_batches(
        [
            retention_sums(part, periods, window=window, method=method, by=by,
                           count_returns=count_returns)
            for part in account_batches(ledger, ["account_id", "period", "arr", *by])
        ],
        ["period", *by],
    )  # fmt: skip
    return retention_finish(sums, ledger, periods, window=window, by=by)


RETENTION_SUMS = (
    "cohort_logos",
    "cohort_start_arr",
    "_cohort_end_arr",
    "_cohort_min_arr",
    "_retained_logos",
)
"""The integer sums behind the ratios: additive over accounts, so a run in account
batches adds its batches' sums (see :func:`retention_cli.batches.add_batches`)."""


def retention_sums(
    frame: pl.LazyFrame,
    periods: pl.DataFrame,
    *,
    window: int,
    method: Method,
    by: list[str],
    count_returns: bool = True,
) -> pl.DataFrame:
    """The additive step of :func:`retention`: :data:`RETENTION_SUMS` per reported period.

    ``frame`` is ledger rows (``account_id, period, arr, [by...]``) of whole accounts,
    sorted by account and period (all of them, or one batch of accounts);
    ``periods`` is :func:`~retention_cli.metrics.bridge.reporting_periods` of the
    whole ledger. Columns ``period`` (label), the ``by`` columns (null on the total
    row), the sums; only periods and segments with a cohort account have a row.
    """
    pairs = periods.select(
        pl.col("period").alias("_key"),
        (pl.col("_last") - window).alias("_s"),
    )
    lf = frame
    if method is Method.bridge:
        lf = lf.with_columns(
            _cum_loss=running_sum((previous_arr() - pl.col("arr")).clip(lower_bound=0))
        )
    else:
        lf = lf.with_columns(_cum_loss=pl.lit(0, dtype=pl.Int64))
    if count_returns:
        lf = lf.with_columns(_end_arr=pl.col("arr"))
    else:  # ARR at the window end, or 0 if the account was at zero at any month end inside it
        # over the whole sorted column, no per-account window: a cohort reads this on its
        # account's row at e = s + window, whose last ``window`` rows (s, e] are all that
        # account's (dense from its first month, present at s); other rows are not read
        low = pl.col("arr").rolling_min(window_size=window, min_samples=1)
        lf = lf.with_columns(
            _end_arr=pl.when(low == 0).then(pl.lit(0, pl.Int64)).otherwise(pl.col("arr"))
        )
    # the ledger is dense and sorted: the account's row ``window`` rows after one at
    # ``_s`` is the same account at ``_e = _s + window`` (every account runs to the end)
    starts = {int(s_): k for s_, k in zip(pairs["_s"], pairs["_key"], strict=True)}
    cohort = (
        lf.with_columns(
            _arr_e=pl.col("_end_arr").shift(-window), _loss_e=pl.col("_cum_loss").shift(-window)
        )
        .filter(pl.col("arr") > 0)
        .select(
            "period",
            pl.col("arr").alias("_arr_s"),
            pl.col("_cum_loss").alias("_loss_s"),
            "_arr_e",
            "_loss_e",
            *by,
        )
    )
    if method is Method.bridge:
        kept = pl.col("_arr_s") - (pl.col("_loss_e") - pl.col("_loss_s"))
    else:
        kept = kept_arr("_arr_s", "_arr_e")
    aggs = [
        pl.len().cast(pl.Int64).alias("cohort_logos"),
        pl.col("_arr_s").sum().alias("cohort_start_arr"),
        pl.col("_arr_e").sum().alias("_cohort_end_arr"),
        kept.sum().alias("_cohort_min_arr"),
        (pl.col("_arr_e") > 0).sum().cast(pl.Int64).alias("_retained_logos"),
    ]
    return per_month(cohort, starts, by, aggs).rename({"_key": "period"})


def retention_finish(
    sums: pl.DataFrame,
    ledger: Ledger,
    periods: pl.DataFrame,
    *,
    window: int,
    by: list[str],
    segments: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The finishing step of :func:`retention`: the ratios from the summed counts.

    ``sums`` is :func:`retention_sums` over every account (one batch, or the
    batches added); ``ledger`` supplies the first period, the calendar and the
    segment list (all of the whole ledger). ``segments``: the ``by`` values the
    ledger has (default: read from ``ledger.frame``), for a ledger built in parts.
    """
    cal = ledger.calendar
    agg = sums
    base = periods.select(
        "period",
        "start",
        "end",
        pl.col("_last").sub(window).alias("_s"),
    )
    # every period gets a total row even when its cohort is empty
    totals = base.join(
        agg.filter(is_total(by)) if by else agg,
        on="period",
        how="left",
    )
    if by:
        segs = base.join(agg.filter(~is_total(by)), on="period")
        listed = ledger if segments is None else replace(ledger, frame=segments.lazy())
        result = with_every_segment(pl.concat([totals.select(segs.columns), segs]), listed, by)
    else:
        result = totals
    counts = list(RETENTION_SUMS)
    # a window that starts before the data has no cohort, for every shape, so
    # the shapes of one history agree (a snapshot file cannot know it)
    unknown = pl.col("_s") < ledger.first_period
    result = result.with_columns(
        pl.when(unknown).then(None).otherwise(pl.col(c).fill_null(0)).alias(c) for c in counts
    )
    starts = {s: cal.month_start(s + 1) for s in result["_s"].unique().to_list()}
    result = result.with_columns(
        window_start=pl.col("_s").replace_strict(starts, return_dtype=pl.Date),
        nrr=ratio("_cohort_end_arr", "cohort_start_arr"),
        grr=ratio("_cohort_min_arr", "cohort_start_arr"),
        logo_retention=ratio("_retained_logos", "cohort_logos"),
        # complements from exact integer numerators: 6/40 = 0.15, not 1 - 0.85
        logo_churn_rate=ratio(pl.col("cohort_logos") - pl.col("_retained_logos"), "cohort_logos"),
        gross_revenue_churn=ratio(
            pl.col("cohort_start_arr") - pl.col("_cohort_min_arr"), "cohort_start_arr"
        ),
        net_revenue_churn=ratio(
            pl.col("cohort_start_arr") - pl.col("_cohort_end_arr"), "cohort_start_arr"
        ),
    )
    cols = ["period", "start", "end", *by, *RETENTION_KEYS, *counts[2:]]
    return order_rows(result.select(*cols), periods, by)
