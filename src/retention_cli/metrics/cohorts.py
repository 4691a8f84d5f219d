"""Acquisition cohorts: how each cohort's ARR and logos develop with age (SPEC §9)."""

from __future__ import annotations

from enum import Enum

import polars as pl

from retention_cli.ledger import Ledger, first_row
from retention_cli.metrics.frames import NONE_SEGMENT, is_total, kept_arr, ratio
from retention_cli.options import Grain

COHORT_SIZE_KEYS = ("cohort_logos", "cohort_start_arr")


class CohortMetric(str, Enum):
    """What a cohort matrix cell shows (SPEC §9)."""

    nrr = "nrr"
    grr = "grr"
    logos = "logos"


def age_key(grain: Grain, age: int) -> str:
    """Column name of the cell ``age`` periods after acquisition, e.g. ``quarter_2``."""
    return f"{grain.value}_{age}"


def cohorts(
    ledger: Ledger,
    *,
    grain: Grain = Grain.month,
    metric: CohortMetric | str = CohortMetric.nrr,
    by: list[str] | None = None,
) -> pl.DataFrame:
    """The cohort matrix: one row per acquisition cohort (and segment), one column per age.

    Returns
    -------
    DataFrame
        ``period, start, end`` (the acquisition period), ``[by...]``,
        ``cohort_logos`` (accounts whose first ARR > 0 is in the period),
        ``cohort_start_arr`` (their ARR at the end of it, cents), then
        ``{grain}_0, {grain}_1, ...``: the cell ``age`` periods later, null
        where the data does not reach. A total row (dimensions null) comes
        first in each cohort; an account stays in its segment at acquisition.

    Notes
    -----
    With ARR(k) an account's ARR at the end of the k-th period after its
    acquisition period (the data's last month for an incomplete final period):
    ``nrr`` = Σ ARR(k) / Σ ARR(0); ``grr`` = Σ min(ARR(k), ARR(0)) / Σ ARR(0);
    ``logos`` = accounts with ARR(k) > 0 / cohort logos. At quarter or year
    grain an account acquired and lost inside its first period counts in
    ``cohort_logos`` with ARR(0) = 0.

    Examples
    --------
    >>> import polars as pl
    >>> from retention_cli import ledger_from_frame
    >>> moves = pl.DataFrame({
    ...     "account_id": ["a", "b", "a", "b"],
    ...     "date": ["2026-01-05", "2026-01-09", "2026-02-03", "2026-03-01"],
    ...     "type": ["new", "new", "expansion", "churn"],
    ...     "amount": ["100", "300", "100", "300"],
    ... })
    >>> cohorts(ledger_from_frame(moves)).rows()[0][3:]
    (2, 40000, 1.0, 1.25, 0.5)

    The 2026-01 cohort starts at 100 + 300 = 400; in February it holds 200 +
    300 = 500 (125%), in March 200 once b has churned (50%).

    On the bundled tiny example, by quarter: of the four accounts won in
    FY2025-Q1, C leaves in Q2 (and returns in Q4) and D leaves in Q4.

    >>> from retention_cli import Grain, build_ledger, load
    >>> ledger = build_ledger(load("examples/tiny_movements.csv"))
    >>> q = cohorts(ledger, grain=Grain.quarter, metric="logos")
    >>> q.select("period", "cohort_logos", "quarter_0", "quarter_1", "quarter_4").row(0)
    ('FY2025-Q1', 4, 1.0, 0.75, 0.75)
    """
    by = list(by or [])
    metric = CohortMetric(metric)
    cal = ledger.calendar
    step = grain.months
    span = ledger.last_period
    # the ledger is dense and sorted by account and period: keep each account's rows
    # from its first month with ARR on, then the months that close an age (and the
    # data's last month, which closes an incomplete last period)
    closes = cal.grain_last_expr(pl.col("period"), grain)
    # an account has started once a month so far (this one included) ends with ARR > 0:
    # the latest such row, on rows sorted by account, is then the account's own
    account = pl.col("account_id")
    started = pl.when(pl.col("arr") > 0).then(account).forward_fill() == account

    def at_first(expr: pl.Expr) -> pl.Expr:
        """``expr`` on the account's first row, carried down its rows (a forward fill)."""
        return pl.when(first_row()).then(expr).forward_fill()

    cells = (
        ledger.frame.select("account_id", "period", "arr", *by)
        .filter(started)
        .with_columns(_p0=cal.grain_last_expr(at_first(pl.col("period")), grain))
    )
    if step > 1:  # at month grain every month closes an age
        cells = cells.filter(
            ((pl.col("period") >= pl.col("_p0")) & (closes == pl.col("period")))
            | (pl.col("period") == span)
        )
    # an account's first cell is age 0: its ARR (and segment) at acquisition
    cells = cells.with_columns(at_first(pl.col(d).fill_null(NONE_SEGMENT)).alias(d) for d in by)
    aggs = [pl.len().cast(pl.Int64).alias("_n"), pl.col("arr").sum().alias("_e")]
    if metric is CohortMetric.grr:  # the cap needs each account's first ARR on every row
        cells = cells.with_columns(_arr0=at_first(pl.col("arr")))
        aggs.append(kept_arr("arr", "_arr0").sum().alias("_m"))
    if metric is CohortMetric.logos:
        aggs.append((pl.col("arr") > 0).sum().cast(pl.Int64).alias("_alive"))
    # grouped by the cell's month (one age of the cohort: an account has one cell an age)
    groups = [cells.group_by("_p0", "period").agg(aggs)]
    if by:
        groups[0] = groups[0].with_columns(pl.lit(None, pl.String).alias(d) for d in by)
        groups.append(cells.group_by("_p0", "period", *by).agg(aggs))
    names = [a.meta.output_name() for a in aggs]
    long = pl.concat([g.select("_p0", *by, "period", *names) for g in groups]).collect()
    long = long.with_columns(_age=((closes - pl.col("_p0")) // step).cast(pl.Int32)).drop("period")
    # every account of a cohort runs to the data's end, so has a cell at each age the
    # cohort reached: the sums at acquisition are the cohort's size at every age
    size = long.filter(pl.col("_age") == 0).select(
        "_p0", *by, pl.col("_n").alias("cohort_logos"), pl.col("_e").alias("cohort_start_arr")
    )
    long = long.join(size, on=["_p0", *by], how="left", nulls_equal=True)
    if long.filter(pl.col("_n") != pl.col("cohort_logos")).height:
        msg = "cohorts: a cohort's account is missing a month (the ledger is not dense)"
        raise RuntimeError(msg)
    long = long.with_columns(_s=pl.col("cohort_start_arr"))
    value = {
        CohortMetric.nrr: ratio("_e", "_s"),
        CohortMetric.grr: ratio("_m", "_s"),
        CohortMetric.logos: ratio("_alive", "_n"),
    }[metric]
    long = long.with_columns(_value=value)
    n_ages = int(long.select(pl.col("_age").max()).item()) + 1 if long.height else 0
    keys = [age_key(grain, k) for k in range(n_ages)]
    wide = size
    if n_ages:
        matrix = long.select(
            "_p0",
            *by,
            pl.format("{}_{}", pl.lit(grain.value), pl.col("_age")).alias("_col"),
            "_value",
        ).pivot(on="_col", index=["_p0", *by], values="_value")
        wide = size.join(matrix, on=["_p0", *by], how="left", nulls_equal=True)
    wide = wide.with_columns(
        pl.lit(None, pl.Float64).alias(k) for k in keys if k not in wide.columns
    )
    labels = {
        p: (cal.label(p, grain), *cal.bounds(p, grain)) for p in wide["_p0"].unique().to_list()
    }
    wide = wide.with_columns(
        period=pl.col("_p0").replace_strict({p: v[0] for p, v in labels.items()}),
        start=pl.col("_p0").replace_strict({p: v[1] for p, v in labels.items()}, return_dtype=pl.Date),
        end=pl.col("_p0").replace_strict({p: v[2] for p, v in labels.items()}, return_dtype=pl.Date),
    )  # fmt: skip
    order: list[str | pl.Expr] = ["_p0"]
    if by:
        wide = wide.with_columns(_seg=~is_total(by))
        order = ["_p0", "_seg", *by]
    wide = wide.sort(order, nulls_last=False)
    return wide.select("period", "start", "end", *by, *COHORT_SIZE_KEYS, *keys)
