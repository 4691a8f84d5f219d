"""Segment transfers: how a segmented bridge rolls forward (SPEC §4).

An account whose segment (its ``--by`` values) differs between the start and the
end of a step, and that had ARR at the start, leaves the old segment as
``transfer_out`` (its ARR at the start, one logo) and enters the new one as
``transfer_in`` (the same amount); its movement in the step (new, expansion,
churn, ...) is then counted in the new segment. So, per segment,
``start + new + reactivation + expansion - contraction - churn + transfer_in -
transfer_out = end``, each segment's start is its previous end, and the
transfers of a period sum to zero over its segments. The total row has none.

A step is one fiscal month (the month grain, and each month of a ``--bridge
gross`` quarter or year) or a whole reported period (``--bridge net`` above
month grain: the segment at the period's start against the one at its end).
An account with no ARR at the step's start transfers nothing: a new account or
a return lands straight in its segment at the step's end.
"""

from __future__ import annotations

import polars as pl

from retention_cli.metrics.frames import NONE_SEGMENT

TRANSFER_KEYS = (
    "transfer_in_arr",
    "transfer_out_arr",
    "transfer_in_logos",
    "transfer_out_logos",
)
"""The bridge keys a segmented bridge adds (SPEC §12.1), in their order."""

TRANSFER_CLASSES = {"transfer_in_arr": "transfer_in", "transfer_out_arr": "transfer_out"}
"""Transfer key → the class ``explain`` gives an account with that transfer."""


def was(column: str) -> str:
    """The name of the column holding ``column``'s value at a step's start."""
    return f"_was_{column}"


def moved(by: list[str]) -> pl.Expr:
    """True for a step whose account had ARR at its start (``_a``) and changed segment.

    A missing value counts as the segment ``(none)``, as in the segment rows.
    """
    changed = pl.any_horizontal(
        pl.col(was(d)).fill_null(NONE_SEGMENT) != pl.col(d).fill_null(NONE_SEGMENT) for d in by
    )
    return (pl.col("_a") > 0) & changed


def segment_rows(steps: pl.LazyFrame, by: list[str], keys: tuple[str, ...]) -> pl.LazyFrame:
    """Per-account steps seen from the segments.

    An account that changed segment gives two rows, one in its old segment and
    one in its new.

    ``steps`` has the ``by`` columns (values at the step's end), their ``was``
    columns (values at its start), ``_a`` (ARR at the start) and the bridge
    ``keys`` (``start_arr``/``start_logos`` zero where the step is not the first
    of its period, as in a gross bridge). Every other column rides along.

    Returns the rows with ``keys`` and :data:`TRANSFER_KEYS`: in the new segment
    (the step's own row) the start moves to ``transfer_in``; in the old one a
    row with only the start and ``transfer_out``.
    """
    move = moved(by)
    zero = pl.lit(0, dtype=pl.Int64)
    starts = ("start_arr", "start_logos")
    into = steps.with_columns(
        *(pl.when(move).then(zero).otherwise(pl.col(k)).alias(k) for k in starts),
        transfer_in_arr=pl.when(move).then(pl.col("_a")).otherwise(zero),
        transfer_out_arr=zero,
        transfer_in_logos=move.cast(pl.Int64),
        transfer_out_logos=zero,
    )
    out_of = (
        steps.filter(move)
        .with_columns(
            *(zero.alias(k) for k in keys if k not in starts),
            *(pl.col(was(d)).alias(d) for d in by),
            transfer_in_arr=zero,
            transfer_out_arr=pl.col("_a"),
            transfer_in_logos=zero,
            transfer_out_logos=pl.lit(1, dtype=pl.Int64),
        )
        .select(into.collect_schema().names())
    )
    return pl.concat([into, out_of])


def segment_sums(
    steps: pl.LazyFrame, by: list[str], key: str, keys: tuple[str, ...]
) -> pl.LazyFrame:
    """The segment rows of a bridge, summed per period and segment.

    Columns ``key``, the ``by`` columns (a missing value as ``(none)``),
    ``keys`` and :data:`TRANSFER_KEYS`.
    """
    rows = segment_rows(steps, by, keys).with_columns(pl.col(d).fill_null(NONE_SEGMENT) for d in by)
    return rows.group_by(key, *by).agg(pl.col(k).sum() for k in (*keys, *TRANSFER_KEYS))


__all__ = ["TRANSFER_CLASSES", "TRANSFER_KEYS", "moved", "segment_rows", "segment_sums", "was"]
