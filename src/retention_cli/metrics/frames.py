"""Frame helpers every metric shares.

Ratios, the GRR cap, per-period grouping with segment totals, and the order
of result rows.

A metric frame has one row per reported period and segment: a total row (the
segment columns null) first in each period, then one row per segment (a missing
value shown as ``(none)``).
"""

from __future__ import annotations

import polars as pl

from retention_cli.ledger import Ledger

NONE_SEGMENT = "(none)"
"""The segment value of an account whose dimension is missing."""


def ratio(num: str | pl.Expr, den: str | pl.Expr) -> pl.Expr:
    """``num / den`` as a float fraction; null when ``den`` is not positive."""
    n = pl.col(num) if isinstance(num, str) else num
    d = pl.col(den) if isinstance(den, str) else den
    return pl.when(d > 0).then(n.cast(pl.Float64) / d.cast(pl.Float64)).otherwise(None)


def divide_cents(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """``num / den`` in whole cents, rounded half away from zero; null when ``den`` is 0.

    Integer arithmetic only, so 100.00 / 3 is exactly 33.33 and 0.05 / 2 is 0.03.
    """
    n, d = num.cast(pl.Int64), den.cast(pl.Int64)
    q = (2 * n.abs() + d) // (2 * d)
    return pl.when(d > 0).then(pl.when(n < 0).then(-q).otherwise(q)).otherwise(None)


def kept_arr(start: str | pl.Expr, end: str | pl.Expr) -> pl.Expr:
    """The GRR cap: the part of an account's ``start`` ARR it still has at ``end``.

    That is ``min(start, end)``, so expansion never lifts gross retention above 1.
    """
    return pl.min_horizontal(start, end)


def is_total(by: list[str]) -> pl.Expr:
    """True on a total row: every segment column null."""
    return pl.all_horizontal(pl.col(d).is_null() for d in by)


def per_month(
    lf: pl.LazyFrame, months: dict[int, str], by: list[str], aggs: list[pl.Expr]
) -> pl.DataFrame:
    """Aggregate ledger rows by fiscal month index ``period``, over the months in ``months``.

    ``months`` maps a month index to its reported period label. Columns:
    ``_key``, the segment columns, the aggregates. A total row (segment columns
    null) plus one per segment.

    Grouping by the integer month and labelling the few result rows afterwards is
    far cheaper than labelling every row.
    """
    lf = lf.filter(pl.col("period").is_in(list(months)))
    groups = [lf.group_by("period").agg(aggs)]
    if by:
        segs = lf.with_columns(pl.col(d).fill_null(NONE_SEGMENT) for d in by)
        groups.append(segs.group_by("period", *by).agg(aggs))
    parts = pl.collect_all(groups, engine="streaming")
    parts[0] = parts[0].with_columns(pl.lit(None, pl.String).alias(d) for d in by)
    cols = ["period", *by]
    out = pl.concat([p.select(*cols, pl.exclude(cols)) for p in parts])
    # (polars leaves the column as it is for an empty mapping)
    label = (
        pl.col("period").replace_strict(months, return_dtype=pl.String)
        if months
        else pl.lit(None, pl.String)
    )
    return out.select(label.alias("_key"), pl.exclude("period"))


def aggregate(lf: pl.LazyFrame, by: list[str], aggs: list[pl.Expr]) -> pl.LazyFrame:
    """Group by period (``_key``), with a total row (by-columns null) plus one per segment."""
    total = lf.group_by("_key").agg(aggs)
    if not by:
        return total
    total = total.with_columns(pl.lit(None, dtype=pl.String).alias(d) for d in by)
    seg = (
        lf.with_columns(pl.col(d).fill_null(NONE_SEGMENT) for d in by)
        .group_by("_key", *by)
        .agg(aggs)
    )
    cols = ["_key", *by]
    return pl.concat([total.select(*cols, pl.exclude(cols)), seg.select(*cols, pl.exclude(cols))])


def with_every_segment(result: pl.DataFrame, ledger: Ledger, by: list[str]) -> pl.DataFrame:
    """Add a row (its figures null) for every segment the data has but a period lacks.

    Each period then lists the same segments; the caller fills the figures.
    """
    if not by:
        return result
    segs = ledger.frame.select(pl.col(d).fill_null(NONE_SEGMENT) for d in by).unique().collect()
    heads = [c for c in ("period", "start", "end", "_s") if c in result.columns]
    skeleton = result.select(heads).unique("period").join(segs, how="cross")
    missing = skeleton.join(result.select("period", *by), on=["period", *by], how="anti")
    return pl.concat([result, missing], how="diagonal_relaxed")


def order_rows(result: pl.DataFrame, periods: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Rows in the order of ``periods``, each period's total row first, then its segments sorted.

    Columns ``period, start, end, [by...]`` come first.
    """
    order = periods.select("period").with_row_index("_order")
    out = result.join(order, on="period", how="left")
    keys: list[str | pl.Expr] = ["_order"]
    if by:
        out = out.with_columns(_total=is_total(by))
        keys = ["_order", pl.col("_total").not_(), *by]
    out = out.sort(keys, nulls_last=False)
    head = ["period", "start", "end", *by]
    return out.select(*head, pl.exclude([*head, "_order", "_total"]))
