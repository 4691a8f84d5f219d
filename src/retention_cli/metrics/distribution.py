"""Distribution, not just the aggregate: account-level NRR and small-cohort intervals.

Per reported period (and segment), over the same trailing-window cohort as
:func:`~retention_cli.metrics.retention.retention` (accounts with ARR > 0 at the
window start ``s``; ``e`` the period end):

- account NRR = ARR(e) / ARR(s) of each cohort account; its 25th, 50th and 75th
  percentiles (linear interpolation between the ordered values, as
  ``numpy.percentile``'s default) and its minimum and maximum;
- the share of the cohort's start ARR held by accounts that grew (ARR(e) >
  ARR(s)), held steady (=), shrank (0 < ARR(e) < ARR(s)) or left (ARR(e) = 0);
  the four add up to 1;
- with ``by``, every segment of the data has a row in every period: one with no
  cohort account there has ``cohort_logos`` 0 (null before the data) and null
  figures, as in :func:`~retention_cli.metrics.retention.retention`;
- for a cohort of fewer than ``min_accounts`` accounts, a percentile bootstrap
  interval on NRR and GRR: ``resamples`` resamples of the cohort's accounts
  drawn with replacement, each giving Σ ARR(e) / Σ ARR(s) and Σ min(ARR(e),
  ARR(s)) / Σ ARR(s); the interval is their ``(1 - level) / 2`` and ``(1 + level)
  / 2`` percentiles. Draws come from Python's ``random.Random`` seeded with
  ``seed``, the period and the segment, so the same input gives the same bytes
  on every machine.

GRR here compares each account's end ARR with its start (the cohort method).
"""

from __future__ import annotations

import random

import polars as pl

from retention_cli.ledger import Ledger
from retention_cli.metrics.bridge import reporting_periods
from retention_cli.metrics.frames import (
    NONE_SEGMENT,
    is_total,
    order_rows,
    per_month,
    ratio,
    with_every_segment,
)
from retention_cli.options import Grain

DISTRIBUTION_KEYS = (
    "window_start",
    "cohort_logos",
    "cohort_start_arr",
    "nrr",
    "nrr_low",
    "nrr_high",
    "grr",
    "grr_low",
    "grr_high",
    "account_nrr_min",
    "account_nrr_p25",
    "account_nrr_median",
    "account_nrr_p75",
    "account_nrr_max",
    "grew_share",
    "steady_share",
    "shrank_share",
    "left_share",
)
"""The keys of ``nrr --distribution``."""


def _cohort(ledger: Ledger, window: int, by: list[str]) -> pl.LazyFrame:
    """One row per cohort account and window-start month: ``_s_arr``, ``_e_arr``."""
    return (
        ledger.frame.with_columns(_e_arr=pl.col("arr").shift(-window))
        .filter(pl.col("arr") > 0)
        .select("period", pl.col("arr").alias("_s_arr"), "_e_arr", *by)
    )


def _quantiles(values: pl.Series, probs: tuple[float, float]) -> tuple[float, float]:
    return (
        float(values.quantile(probs[0], "linear")),  # type: ignore[arg-type]
        float(values.quantile(probs[1], "linear")),  # type: ignore[arg-type]
    )


def bootstrap(
    start: pl.Series,
    end: pl.Series,
    *,
    resamples: int,
    level: float,
    seed: str,
) -> tuple[float, float, float, float]:
    """Percentile bootstrap interval ``(nrr_low, nrr_high, grr_low, grr_high)``.

    Over the cohort ``start``/``end`` (cents, one value per account); the same
    ``seed`` gives the same interval.
    """
    n = start.len()
    draws = random.Random(seed).choices(range(n), k=resamples * n)
    picked = pl.DataFrame(
        {"_r": pl.int_range(resamples * n, eager=True) // n, "_i": draws},
        schema={"_r": pl.Int64, "_i": pl.Int64},
    ).with_columns(_s=start.gather(pl.Series(draws)), _e=end.gather(pl.Series(draws)))
    sums = picked.group_by("_r").agg(
        pl.col("_s").sum(), pl.col("_e").sum(), pl.min_horizontal("_s", "_e").sum().alias("_k")
    )
    lo, hi = (1 - level) / 2, (1 + level) / 2
    nrr = sums["_e"] / sums["_s"]
    grr = sums["_k"] / sums["_s"]
    return (*_quantiles(nrr, (lo, hi)), *_quantiles(grr, (lo, hi)))


def distribution(
    ledger: Ledger,
    *,
    grain: Grain = Grain.month,
    window: int = 12,
    by: list[str] | None = None,
    min_accounts: int = 30,
    level: float = 0.9,
    resamples: int = 1000,
    seed: int = 0,
) -> pl.DataFrame:
    """Account-level NRR percentiles, ARR shares and small-cohort intervals.

    Per reported period; see the module notes for the definitions.

    Parameters
    ----------
    ledger
        From :func:`retention_cli.ledger.build_ledger`.
    grain, window, by
        As for :func:`~retention_cli.metrics.retention.retention` (an account is in
        the segment it was in at the window start).
    min_accounts
        A cohort with fewer accounts gets an interval; larger ones get null
        (a ``_why_`` column says so).
    level, resamples, seed
        Coverage of the interval, resamples drawn, and the seed of the draws.

    Returns
    -------
    DataFrame
        ``period, start, end, [by...]`` and :data:`DISTRIBUTION_KEYS`; ratios are
        fractions, null for an empty cohort or a window before the data.
    """
    by = list(by or [])
    periods = reporting_periods(ledger, grain)
    cal = ledger.calendar
    starts = {
        int(last) - window: key
        for key, last in zip(periods["period"], periods["_last"], strict=True)
    }
    cohort = _cohort(ledger, window, by)
    acc = pl.col("_e_arr") / pl.col("_s_arr")
    s_arr = pl.col("_s_arr")
    share = {
        "grew_share": pl.col("_e_arr") > s_arr,
        "steady_share": pl.col("_e_arr") == s_arr,
        "shrank_share": (pl.col("_e_arr") > 0) & (pl.col("_e_arr") < s_arr),
        "left_share": pl.col("_e_arr") == 0,
    }
    aggs = [
        pl.len().cast(pl.Int64).alias("cohort_logos"),
        s_arr.sum().alias("cohort_start_arr"),
        pl.col("_e_arr").sum().alias("_end"),
        pl.min_horizontal(s_arr, "_e_arr").sum().alias("_kept"),
        acc.min().alias("account_nrr_min"),
        acc.quantile(0.25, "linear").alias("account_nrr_p25"),
        acc.quantile(0.5, "linear").alias("account_nrr_median"),
        acc.quantile(0.75, "linear").alias("account_nrr_p75"),
        acc.max().alias("account_nrr_max"),
        *(s_arr.filter(cond).sum().alias(f"_{k}") for k, cond in share.items()),
    ]
    agg = per_month(cohort, starts, by, aggs).rename({"_key": "period"})
    base = periods.select("period", "start", "end", (pl.col("_last") - window).alias("_s"))
    out = base.join(agg.filter(is_total(by)) if by else agg, on="period", how="left")
    if by:  # every period has a total row, and a row for every segment of the data
        segs = base.join(agg.filter(~is_total(by)), on="period")
        out = with_every_segment(pl.concat([out.select(segs.columns), segs]), ledger, by)
    out = out.with_columns(pl.col("cohort_logos", "cohort_start_arr", "_end", "_kept").fill_null(0))
    unknown = pl.col("_s") < ledger.first_period
    out = out.with_columns(
        pl.when(unknown).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("cohort_logos", "cohort_start_arr", "_end", "_kept")
    )
    out = out.with_columns(
        nrr=ratio("_end", "cohort_start_arr"),
        grr=ratio("_kept", "cohort_start_arr"),
        **{k: ratio(f"_{k}", "cohort_start_arr") for k in share},
    )
    out = out.with_columns(
        window_start=pl.col("_s").replace_strict(
            {s: cal.month_start(s + 1) for s in out["_s"].unique().to_list()}, return_dtype=pl.Date
        )
    )
    out = _with_intervals(out, cohort, starts, by, min_accounts, level, resamples, seed)
    cols = ["period", "start", "end", *by, *DISTRIBUTION_KEYS]
    whys = [c for c in out.columns if c.startswith("_why_")]
    return order_rows(out.select(*cols, *whys), periods, by)


def _with_intervals(
    out: pl.DataFrame,
    cohort: pl.LazyFrame,
    starts: dict[int, str],
    by: list[str],
    min_accounts: int,
    level: float,
    resamples: int,
    seed: int,
) -> pl.DataFrame:
    """Add ``nrr_low/high`` and ``grr_low/high`` for cohorts below ``min_accounts``."""
    small = out.filter(
        pl.col("cohort_logos").is_not_null()
        & (pl.col("cohort_logos") > 0)
        & (pl.col("cohort_logos") < min_accounts)
    ).select("period", *by)
    found: list[dict[str, object]] = []
    if small.height:
        label = pl.col("period").replace_strict(starts, return_dtype=pl.String, default=None)
        rows = (
            cohort.filter(pl.col("period").is_in(list(starts)))
            .with_columns(label.alias("period"))
            .collect()
        )
        # one group per small cohort (a total row takes every account of the period);
        # the loop is over cohorts, each resampled at once
        for group in small.iter_rows(named=True):
            keep = pl.col("period") == group["period"]
            for d in by:
                if group[d] is not None:
                    keep &= pl.col(d).fill_null(NONE_SEGMENT) == group[d]
            accounts = rows.filter(keep)
            # a total row is seeded as without --by, so it shows the same interval
            total = all(group[d] is None for d in by)
            tag = "" if total else "/".join(str(group[d]) for d in by)
            nl, nh, gl, gh = bootstrap(
                accounts["_s_arr"], accounts["_e_arr"], resamples=resamples, level=level,
                seed=f"{seed}:{group['period']}:{tag}",
            )  # fmt: skip
            found.append({**group, "nrr_low": nl, "nrr_high": nh, "grr_low": gl, "grr_high": gh})
    schema: list[tuple[str, type[pl.DataType]]] = [("period", pl.String)]
    schema += [(d, pl.String) for d in by]
    schema += [(k, pl.Float64) for k in ("nrr_low", "nrr_high", "grr_low", "grr_high")]
    intervals = pl.DataFrame(found, schema=schema, orient="row")
    out = out.join(intervals, on=["period", *by], how="left", nulls_equal=True)
    why = (
        pl.when(pl.col("cohort_logos").is_null() | (pl.col("cohort_logos") == 0))
        .then(pl.lit("no cohort"))
        .when(pl.col("cohort_logos") >= min_accounts)
        .then(pl.lit(f"the cohort has {min_accounts} accounts or more: no interval needed"))
    )
    return out.with_columns(_why_nrr_low=why, _why_grr_low=why)


__all__ = ["DISTRIBUTION_KEYS", "bootstrap", "distribution"]
