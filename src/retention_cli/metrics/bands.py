"""Computed dimensions: an account's ACV band and the company's ARR stage.

``--by acv_band`` and ``--by arr_stage`` split any metric like a dimension
column of the file, but the values are computed from the ledger, here and
nowhere else:

- ``acv_band``: the band of the account's ARR at the end of each fiscal month.
  A metric that takes an account's segment at the window start (NRR, GRR)
  therefore groups by the band at the window start. A month at zero ARR keeps
  the band the account last had (so a churn lands in the band it left), and
  the months before its first ARR take its first band.
- ``arr_stage``: the band of the company's total ARR at the end of each fiscal
  month, the same for every account in that month.

Each band includes its lower edge and excludes its upper one: with the default
edges an account at exactly 12,000 is in ``12k-25k``, one at 11,999.99 in
``<12k``. Edges come from the config's ``bands:`` (:class:`~retention_cli.config.Bands`).

Band segments are listed by their lower edge (``<12k``, ``12k-25k``, ...,
``250k+``), not as text (:func:`order_bands`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import polars as pl

from retention_cli.defaults import band_labels
from retention_cli.ledger import Ledger

if TYPE_CHECKING:
    from retention_cli.config import Bands

COMPUTED_DIMENSIONS = ("acv_band", "arr_stage")
"""Dimension names the tool computes when the file has no column of that name."""


def band_of(cents: pl.Expr, edges: list[int]) -> pl.Expr:
    """The label of the band an amount in cents falls in.

    Labels as :func:`~retention_cli.config.band_labels`; lower edges are
    inclusive, upper ones exclusive.
    """
    labels = band_labels(edges)
    if not edges:
        return pl.lit(labels[0], pl.String)
    above = pl.sum_horizontal((cents >= edge * 100).cast(pl.Int32) for edge in edges)
    return above.replace_strict(dict(enumerate(labels)), return_dtype=pl.String)


def band_rank(dimension: str, bands: Bands) -> dict[str, int]:
    """Each label of a computed dimension mapped to its position by lower edge (0 first)."""
    edges = bands.acv if dimension == "acv_band" else bands.arr_stage
    return {label: i for i, label in enumerate(band_labels(edges))}


def order_bands(
    frame: pl.DataFrame, by: list[str], computed: list[str], bands: Bands
) -> pl.DataFrame:
    """``frame`` with the segments of each period in band order.

    ``frame`` is a metric frame (rows of one ``period`` together, its total row
    first, then the segments sorted on the ``by`` columns as text). The rows of
    each period are re-sorted with each computed dimension in ``computed`` keyed
    by its band's lower edge instead of its label; a value that is no band
    (``(none)``) goes after the bands. Other columns keep their text order, and
    nothing but the order of rows changes.
    """
    dims = [d for d in by if d in computed]
    if not dims or frame.height < 2 or not {"period", *by} <= set(frame.columns):
        return frame
    if frame.select(pl.all_horizontal(pl.col(d).is_null() for d in dims).all()).item():
        return frame  # no segment rows (e.g. the credit split): nothing to order
    keys: list[pl.Expr] = [
        pl.col("_first").min().over("period"),  # the periods stay in their order
        pl.any_horizontal(pl.col(d).is_not_null() for d in by),  # total row first
    ]
    for d in by:
        if d in dims:
            rank = band_rank(d, bands)
            keys.append(pl.col(d).replace_strict(rank, default=len(rank), return_dtype=pl.Int64))
        else:
            keys.append(pl.col(d))
    return (
        frame.with_row_index("_first")
        .sort(keys, nulls_last=False, maintain_order=True)
        .drop("_first")
    )


def with_bands(ledger: Ledger, wanted: list[str], bands: Bands, order: list[str]) -> Ledger:
    """``ledger`` with the computed dimensions ``wanted`` added as String columns.

    Its ``dimensions`` follow the order of ``order`` (the ``by`` order).
    """
    if not wanted:
        return ledger
    lf = ledger.frame
    cols = []
    if "acv_band" in wanted:
        own = pl.when(pl.col("arr") > 0).then(band_of(pl.col("arr"), bands.acv))
        cols.append(
            own.forward_fill()
            .backward_fill()
            .over("account_id", order_by="period")
            .alias("acv_band")
        )
    if "arr_stage" in wanted:
        total = pl.col("arr").sum().over("period")
        cols.append(band_of(total, bands.arr_stage).alias("arr_stage"))
    lf = lf.with_columns(cols)
    dims = tuple(d for d in order if d in (*ledger.dimensions, *wanted))
    return replace(ledger, frame=lf, dimensions=dims)


__all__ = ["COMPUTED_DIMENSIONS", "band_of", "band_rank", "order_bands", "with_bands"]
