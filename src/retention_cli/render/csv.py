"""CSV output: one row per period (and segment), the same keys as JSON."""

from __future__ import annotations

import polars as pl

import retention_cli
from retention_cli.keys import Kind, spec_for
from retention_cli.money import cents_text
from retention_cli.render.values import safe_text, visible
from retention_cli.result import Report, Result

TOTAL_SEGMENT = "(total)"
"""The segment cells of a total row in CSV and XLSX output (JSON keeps ``null``)."""


def to_csv(result: Result | Report, *, meta: bool = False) -> str:
    """CSV text; money with exactly two decimals, ratios unrounded, empty = null,
    input text escaped against formula injection.

    A report becomes one long table ``section, period, start, end, [by...],
    metric, value`` so that every section fits one CSV. ``meta`` puts
    :func:`meta_lines` before the header (off by default: spreadsheets read
    comment lines as data).
    """
    head = meta_lines(result) if meta else ""
    if isinstance(result, Report):
        return head + _report_csv(result)
    return head + _frame(result).write_csv(line_terminator="\n")


def meta_lines(result: Result | Report) -> str:
    """``# key: value`` comment lines: the version, command, input file and its
    sha256, the definitions sha256 and (with ``--stamp``) the time of the run."""
    info = result.input or {}
    pairs = [
        ("generated_by", f"retention {retention_cli.__version__}"),
        ("command", result.command),
    ]
    pairs += [(f"input_{k}", str(info[k])) for k in ("path", "sha256") if info.get(k) is not None]
    pairs.append(("definitions_sha256", result.definitions_sha256))
    if result.stamp:
        pairs.append(("generated_at", result.stamp))
    return "".join(f"# {k}: {visible(v)}\n" for k, v in pairs)


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
    if result.by:  # a pivot over the segment column must not count the total row twice
        total = pl.all_horizontal(pl.col(d).is_null() for d in result.by)
        frame = frame.with_columns(
            pl.when(total).then(pl.lit(TOTAL_SEGMENT)).otherwise(pl.col(d)).alias(d)
            for d in result.by
        )
    return frame.select(exprs)


ROW_LABELS = ("credit",)
"""Text columns that name a row within its period and segment (``mix --credit``)."""


def _report_csv(report: Report) -> str:
    parts = []
    by = list(next(iter(report.sections.values())).by) if report.sections else []
    # a row label (the credit section's team) stays a column, so a pivot can group by it
    labels = [c for c in ROW_LABELS if any(c in s.columns for s in report.sections.values())]
    for name, section in report.sections.items():
        frame = _frame(section)
        frame = frame.with_columns(
            pl.lit(None, pl.String).alias(c) for c in labels if c not in frame.columns
        )
        head = ["period", "start", "end", *by, *labels]
        frame = frame.with_columns(pl.exclude(head).cast(pl.String)).with_row_index("_row")
        parts.append(
            frame.unpivot(index=["_row", *head], variable_name="metric", value_name="value")
            .sort("_row", maintain_order=True)
            .select(pl.lit(name).alias("section"), *head, "metric", "value")
        )
    return pl.concat(parts).write_csv(line_terminator="\n")
