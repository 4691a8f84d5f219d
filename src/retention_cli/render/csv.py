"""CSV output: one row per period (and segment), the same keys as JSON."""

from __future__ import annotations

import polars as pl

from retention_cli.inputs import cents_text
from retention_cli.keys import Kind, spec_for
from retention_cli.render.values import safe_text
from retention_cli.result import Report, Result


def to_csv(result: Result | Report) -> str:
    """CSV text; money with exactly two decimals, ratios unrounded, empty = null,
    input text escaped against formula injection.

    A report becomes one long table ``section, period, start, end, [by...],
    metric, value`` so that every section fits one CSV.
    """
    if isinstance(result, Report):
        return _report_csv(result)
    return _frame(result).write_csv(line_terminator="\n")


def _frame(result: Result) -> pl.DataFrame:
    exprs = []
    frame = result.frame
    for col in result.columns:
        dtype = frame.schema[col]
        if spec_for(col).kind is Kind.money:
            exprs.append(cents_text(pl.col(col)).alias(col))
        elif dtype == pl.Date:
            exprs.append(pl.col(col).dt.to_string("%Y-%m-%d").alias(col))
        elif dtype == pl.String:
            exprs.append(safe_text(pl.col(col)).alias(col))
        else:
            exprs.append(pl.col(col))
    return frame.select(exprs)


def _report_csv(report: Report) -> str:
    parts = []
    by = list(next(iter(report.sections.values())).by) if report.sections else []
    for name, section in report.sections.items():
        frame = _frame(section)
        head = ["period", "start", "end", *by]
        frame = frame.with_columns(pl.exclude(head).cast(pl.String)).with_row_index("_row")
        parts.append(
            frame.unpivot(index=["_row", *head], variable_name="metric", value_name="value")
            .sort("_row", maintain_order=True)
            .select(pl.lit(name).alias("section"), *head, "metric", "value")
        )
    return pl.concat(parts).write_csv(line_terminator="\n")
