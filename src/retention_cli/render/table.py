"""Terminal tables (Rich): the one module that imports Rich."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import IO, Any

import polars as pl

from retention_cli.render.values import heat_rgb, is_factor, is_money, is_ratio
from retention_cli.result import AGE_KEY, Report, Result

DASH = "—"

LABELS: dict[str, str] = {
    "period": "Period",
    "start": "Start",
    "end": "End",
    "fiscal_year": "Fiscal year",
    "quarter": "Quarter",
    "days": "Days",
    "account_id": "Account",
    "class": "Class",
    "arr_at_window_start": "ARR at window start",
    "arr_at_end": "ARR at end",
    "numerator_arr": "Numerator",
    "denominator_arr": "Denominator",
    "metric": "Metric",
    "variant": "Definition",
    "nrr_change": "Δ NRR",
    "grr_change": "Δ GRR",
    "what": "What differs",
    "check": "Against",
    "baseline": "Baseline",
    "now": "Now",
    "change": "Change",
    "limit": "Limit",
    "status": "Status",
    "reason": "Why",
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
    "gross_new_arr": "Gross new ARR",
    "expansion_share": "Expansion share",
    "acquisition_share": "Acquisition share",
    "reactivation_share": "Reactivation share",
    "net_new_arr": "Net new ARR",
    "quick_ratio": "Quick ratio",
    "retained_arr": "Retained ARR",
    "acquired_arr": "Acquired ARR",
    "retention_to_acquisition": "Retained per acquired",
    "arpa": "ARPA",
    "new_logo_acv": "New-logo ACV",
    "top1_share": "Top 1",
    "top10_share": "Top 10",
    "top20_share": "Top 20",
    "sales_marketing": "S&M spend",
    "customer_success": "CS spend",
    "gross_margin": "Gross margin",
    "net_burn": "Net burn",
    "cac": "CAC",
    "cac_payback_months": "CAC payback (mo)",
    "ltv": "LTV",
    "ltv_to_cac": "LTV:CAC",
    "magic_number": "Magic number",
    "burn_multiple": "Burn multiple",
    "cs_efficiency": "CS efficiency",
}

PP_KEYS = frozenset({"nrr_change", "grr_change"})
"""Differences of two ratios, shown in percentage points."""

COMMAND_LABELS = {
    ("check", "segment"): "Segment",
    ("validate", "check"): "Check",
    ("validate", "severity"): "Severity",
    ("validate", "column"): "Column",
    ("validate", "rows"): "Rows",
    ("validate", "examples"): "First rows",
}
"""Headers that depend on the command (a key that is also a data column elsewhere)."""

TEXT_KEYS = frozenset(
    {"window_start", "start", "end", "fiscal_year", "quarter", "account_id", "class"}
)
"""Left-aligned columns."""

TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "calendar": ("start", "end", "fiscal_year", "quarter", "days"),
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

TABLE_HIDDEN: dict[str, frozenset[str]] = {
    "economics": frozenset({"customer_success", "gross_margin", "net_burn", "new_arr", "arpa"}),
}
"""Columns left out of the terminal table (not of JSON/CSV) so that it fits a screen."""


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
    if key in PP_KEYS:
        text = f"{value * 100:+.1f}pp"
        return "0.0pp" if text in ("+0.0pp", "-0.0pp") else text
    if key == "cac_payback_months":
        return f"{value:,.1f}"
    if is_factor(key):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def display_columns(result: Result) -> list[tuple[str, str, str]]:
    """``(key, label, kind)`` for each displayed column; kind is ``text`` or ``number``."""
    hidden = TABLE_HIDDEN.get(result.command, frozenset())
    keys = [k for k in TABLE_KEYS.get(result.command, result.keys) if k not in hidden]
    first = "Cohort" if result.command == "cohorts" else "Period"
    # explain names its period in the title; validate's rows are not about a period
    show = "period" in result.head and result.command != "explain"
    cols = [("period", first, "text")] if show else []
    cols += [(d, d, "text") for d in result.by]
    schema = result.frame.schema
    cols += [
        (
            k,
            COMMAND_LABELS.get((result.command, k)) or _label(k),
            "text" if k in TEXT_KEYS or schema[k] == pl.String else "number",
        )
        for k in keys
    ]
    return cols


def _label(key: str) -> str:
    if AGE_KEY.match(key):
        return key.rsplit("_", 1)[1]
    return LABELS.get(key, key)


def cells(result: Result, cols: list[tuple[str, str, str]]) -> list[list[str]]:
    """Formatted cell text, row by row; a total row shows ``Total`` in its segment cells."""
    out = []
    if result.command == "check":
        from retention_cli.render.check import check_cells

        for row in result.frame.iter_rows(named=True):
            text = {"period": row["period"], **check_cells(row)}
            out.append([text[key] for key, _, _ in cols])
        return out
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


@contextmanager
def busy(message: str, *, enabled: bool, delay: float = 1.0) -> Iterator[None]:
    """A spinner on stderr while the block runs, shown only once it has taken
    ``delay`` seconds, and only when stderr is a terminal and ``enabled``."""
    if not enabled or not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    status = Console(stderr=True).status(message)
    timer = threading.Timer(delay, status.start)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        status.stop()


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


BAR_WIDTH = 16
SPARKS = "▁▂▃▄▅▆▇█"


def movement_bars(result: Result) -> list[tuple[int, int]]:
    """Per bridge row: lengths of the gained (new + reactivation + expansion) and lost
    (contraction + churn) bars, scaled so the largest movement fills the width."""
    rows = result.frame.to_dicts()

    def amounts(r: dict[str, Any]) -> tuple[int, int]:
        if r["new_arr"] is None:  # a snapshot file's opening balance
            return 0, 0
        return (r["new_arr"] + r["reactivation_arr"] + r["expansion_arr"],
                r["contraction_arr"] + r["churned_arr"])  # fmt: skip

    pairs = [amounts(r) for r in rows]
    top = max((max(g, lo) for g, lo in pairs), default=0)
    if top <= 0:
        return [(0, 0)] * len(rows)

    def size(v: int) -> int:
        return 0 if v <= 0 else max(1, round(v / top * BAR_WIDTH))

    return [(size(g), size(lo)) for g, lo in pairs]


def sparkline(result: Result, key: str) -> str:
    """``NRR ▃▅▆▇▆▅ 90.7% (FY2026-Q2)``: the trend of a ratio over the total rows."""
    rows = result.frame.to_dicts()
    if result.by:
        rows = [r for r in rows if all(r[d] is None for d in result.by)]
    values = [(r["period"], r[key]) for r in rows if r[key] is not None]
    if len(values) < 2:
        return ""
    nums = [v for _, v in values]
    lo, hi = min(nums), max(nums)
    span = hi - lo or 1.0
    marks = "".join(SPARKS[min(int((v - lo) / span * (len(SPARKS) - 1) + 0.5), 7)] for v in nums)
    return (
        f"{LABELS.get(key, key)} trend {marks} {fmt_ratio(nums[-1])} ({values[-1][0]}; "
        f"low {fmt_ratio(lo)}, high {fmt_ratio(hi)})"
    )


def heat_style(value: float | None) -> str:
    """Rich style of a cohort cell: white on :func:`~retention_cli.render.values.heat_rgb`."""
    if value is None:
        return ""
    r, g, b = heat_rgb(value)
    return f"bold white on rgb({r},{g},{b})"


def render_table(result: Result | Report, console: Any) -> None:
    """Print ``result`` as a Rich table with its definitions in the caption, then its
    notes; a report prints each section in turn."""
    if isinstance(result, Report):
        for section in result.sections.values():
            render_table(section, console)
            console.print()
        for note in result.notes:
            console.print(f"note: {note}", markup=False)
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

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
    bars = movement_bars(result) if result.command == "bridge" else None
    if bars is not None:
        table.add_column("Movement (+ gained, − lost)", no_wrap=True)
    heat = result.command == "cohorts"
    shown = result
    if result.table_limit is not None and result.frame.height > result.table_limit:
        shown = replace(result, frame=result.frame.head(result.table_limit))
    for i, (row, line) in enumerate(
        zip(shown.frame.iter_rows(named=True), cells(shown, cols), strict=True)
    ):
        total = bool(result.by) and all(row[d] is None for d in result.by)
        styled: list[Any] = list(line)
        if heat:
            styled = [
                Text(text, style=heat_style(row[key])) if AGE_KEY.match(key) else text
                for (key, _, _), text in zip(cols, line, strict=True)
            ]
        if result.command == "check":
            total = row["status"] == "fail"
        if bars is not None:
            gain, loss = bars[i]
            bar = Text()
            if gain:
                bar.append("+" + "█" * gain, "green")
            if loss:
                bar.append((" " if gain else "") + "−" + "█" * loss, "red")
            styled.append(bar)
        table.add_row(*styled, style="bold" if total else None)
    # never squeeze a column into "1,006,7…": a table wider than the screen prints whole
    from rich.measure import Measurement

    needed = Measurement.get(console, console.options.update_width(100_000), table).maximum
    width = console.width
    console.width = max(width, needed)
    try:
        console.print(table)
    finally:
        console.width = width
    if shown is not result:
        more = result.frame.height - shown.frame.height
        console.print(
            f"… and {more:,} more rows (--top changes how many; -f csv lists all)", markup=False
        )
    if result.command == "nrr":
        for key in ("nrr", "grr"):
            line = sparkline(result, key)
            if line:
                console.print(line, markup=False)
    for note in result.notes:
        console.print(f"note: {note}", markup=False)
