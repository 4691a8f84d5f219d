"""CSV output: one row per period (and segment), the same keys as JSON."""

from __future__ import annotations

import polars as pl

from retention_cli.inputs import cents_text
from retention_cli.render.values import is_money, safe_text
from retention_cli.result import Result


def to_csv(result: Result) -> str:
    """CSV text; money with exactly two decimals, ratios unrounded, empty = null,
    input text escaped against formula injection."""
    exprs = []
    frame = result.frame
    for col in result.columns:
        dtype = frame.schema[col]
        if is_money(col):
            exprs.append(cents_text(pl.col(col)).alias(col))
        elif dtype == pl.Date:
            exprs.append(pl.col(col).dt.to_string("%Y-%m-%d").alias(col))
        elif dtype == pl.String:
            exprs.append(safe_text(pl.col(col)).alias(col))
        else:
            exprs.append(pl.col(col))
    return frame.select(exprs).write_csv(line_terminator="\n")
