"""Terminal tables (Rich): the one module that imports Rich."""

from __future__ import annotations

import os
import sys
from typing import IO, Any

from retention_cli.render.values import is_money, is_ratio
from retention_cli.result import Result

DASH = "—"

LABELS: dict[str, str] = {
    "period": "Period",
    "window_start": "Window start",
    "cohort_logos": "Cohort logos",
    "cohort_start_arr": "Cohort start ARR",
    "nrr": "NRR",
    "grr": "GRR",
    "logo_retention": "Logo retention",
    "logo_churn_rate": "Logo churn (window)",
    "gross_revenue_churn": "Gross rev. churn (window)",
    "net_revenue_churn": "Net rev. churn (window)",
    "start_arr": "Start ARR",
    "new_arr": "+ New",
    "reactivation_arr": "+ Reactivation",
    "expansion_arr": "+ Expansion",
    "contraction_arr": "− Contraction",
    "churned_arr": "− Churn",
    "end_arr": "End ARR",
    "start_logos": "Start logos",
    "new_logos": "+ New logos",
    "reactivated_logos": "+ Reactivated",
    "churned_logos": "− Churned logos",
    "end_logos": "End logos",
    "period_logo_churn_rate": "Logo churn (period)",
    "period_gross_revenue_churn": "Gross rev. churn (period)",
    "period_net_revenue_churn": "Net rev. churn (period)",
}

TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "nrr": ("window_start", "cohort_logos", "cohort_start_arr", "nrr", "grr", "logo_retention"),
    "churn": (
        "churned_logos",
        "period_logo_churn_rate",
        "period_gross_revenue_churn",
        "period_net_revenue_churn",
        "logo_churn_rate",
        "gross_revenue_churn",
        "net_revenue_churn",
    ),
}
"""Columns shown in the terminal when they differ from the full key list (JSON has all)."""


def fmt_money(cents: int | None) -> str:
    """``1,234,567.50`` from integer cents; ``—`` for null."""
    if cents is None:
        return DASH
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{frac:02d}"


def fmt_ratio(value: float | None) -> str:
    """``108.3%`` from a fraction; ``—`` for null."""
    if value is None:
        return DASH
    text = f"{value * 100:.1f}%"
    return "0.0%" if text == "-0.0%" else text


def fmt_value(key: str, value: Any) -> str:
    """Display text of one cell."""
    if value is None:
        return DASH
    if is_money(key):
        return fmt_money(value)
    if is_ratio(key):
        return fmt_ratio(value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def display_columns(result: Result) -> list[tuple[str, str, str]]:
    """``(key, label, kind)`` for each displayed column; kind is ``text`` or ``number``."""
    keys = TABLE_KEYS.get(result.command, result.keys)
    cols = [("period", "Period", "text")]
    cols += [(d, d, "text") for d in result.by]
    cols += [(k, LABELS.get(k, k), "text" if k == "window_start" else "number") for k in keys]
    return cols


def cells(result: Result, cols: list[tuple[str, str, str]]) -> list[list[str]]:
    """Formatted cell text, row by row; a total row shows ``Total`` in its segment cells."""
    out = []
    for row in result.frame.iter_rows(named=True):
        is_total = bool(result.by) and all(row[d] is None for d in result.by)
        line = []
        for key, _, _ in cols:
            if key in result.by:
                line.append("Total" if is_total else str(row[key]))
            else:
                line.append(fmt_value(key, row[key]))
        out.append(line)
    return out


def make_console(file: IO[str] | None = None, *, no_color: bool = False):  # type: ignore[no-untyped-def]
    """A Console that is plain when not a terminal or when ``NO_COLOR`` is set.

    Off a terminal the width is ``COLUMNS`` when set, else 200, so piped tables
    do not wrap.
    """
    from rich.console import Console

    stream = file or sys.stdout
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    width = None
    if not is_tty:
        try:
            width = int(os.environ.get("COLUMNS", "200"))
        except ValueError:
            width = 200
    return Console(
        file=stream,
        width=width,
        no_color=no_color or bool(os.environ.get("NO_COLOR")) or not is_tty,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )


def render_table(result: Result, console: Any) -> None:
    """Print ``result`` as a Rich table with its definitions in the caption."""
    from rich import box
    from rich.table import Table

    cols = display_columns(result)
    table = Table(
        title=result.title,
        caption=result.caption,
        box=box.SIMPLE_HEAVY,
        title_justify="left",
        caption_justify="left",
    )
    for _, label, kind in cols:
        table.add_column(label, justify="left" if kind == "text" else "right", no_wrap=True)
    for row, line in zip(result.frame.iter_rows(named=True), cells(result, cols), strict=True):
        total = bool(result.by) and all(row[d] is None for d in result.by)
        table.add_row(*line, style="bold" if total else None)
    console.print(table)
