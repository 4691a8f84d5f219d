"""Terminal tables (Rich): the one module that imports Rich.

Data text never goes through Rich's markup parser: cells, titles and captions
are :class:`rich.text.Text` objects, and control characters in them are shown
as visible escapes (:func:`~retention_cli.render.values.visible`).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import IO, Any

import polars as pl

from retention_cli.commands import display_spec
from retention_cli.keys import Kind, spec_for
from retention_cli.render.check import fmt_metric_value
from retention_cli.render.values import heat_rgb, visible, visible_frame
from retention_cli.result import Report, Result

DASH = "—"


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


def is_code(currency: str) -> bool:
    """True for a currency code (``USD``: shown after a number), False for a symbol
    (``$``: shown before it)."""
    return currency.isascii() and currency.isalpha()


def with_currency(text: str, currency: str | None) -> str:
    """A money figure standing alone (a chart label, a card) with its currency:
    ``$8.1M``, ``-$120.5k``, ``8.1M USD``; unchanged without a currency.

    Examples
    --------
    >>> with_currency("-120.5k", "$"), with_currency("8.1M", "USD"), with_currency("8.1M", None)
    ('-$120.5k', '8.1M USD', '8.1M')
    """
    if not currency or text == DASH:
        return text
    if is_code(currency):
        return f"{text} {currency}"
    sign, digits = ("-", text[1:]) if text.startswith(("-", "−")) else ("", text)
    return f"{sign}{currency}{digits}"


def money_label(label: str, currency: str | None) -> str:
    """A money column's header with its currency: ``Start ARR ($)``."""
    return f"{label} ({currency})" if currency else label


def caption_line(result: Result | Report) -> str:
    """The caption with the short definitions hash: equal hashes, comparable numbers."""
    tag = f"definitions {result.short_hash}"
    return f"{result.caption} · {tag}" if getattr(result, "caption", "") else tag


def fmt_value(
    key: str, value: Any, *, kind: Kind | None = None, row: dict[str, Any] | None = None
) -> str:
    """Display text of one cell, by its key's kind (or ``kind``); a ``measured`` or
    ``change`` cell is in the unit of the metric its ``row`` names."""
    if value is None:
        return DASH
    spec = spec_for(key)
    kind = kind or spec.kind
    if kind is Kind.money:
        return fmt_money(value)
    if kind is Kind.ratio:
        return fmt_ratio(value)
    if kind is Kind.pp:
        text = f"{value * 100:+.1f}pp"
        return "0.0pp" if text in ("+0.0pp", "-0.0pp") else text
    if kind is Kind.factor:
        return f"{value:,.1f}" if spec.unit == "months" else f"{value:,.2f}"
    if kind in (Kind.measured, Kind.change) and row is not None:
        return fmt_metric_value(row["metric"], value, change=kind is Kind.change)
    if kind is Kind.flag:
        return str(value).upper()
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def display_columns(result: Result) -> list[tuple[str, str, str]]:
    """``(key, label, kind)`` for each displayed column; kind is ``text`` or ``number``.

    The command's table keys, or exactly the keys chosen with ``--columns``.

    A label that is a data column's name shows its control characters escaped.
    """
    spec = display_spec(result.command)
    if result.chosen:  # --columns: exactly these
        keys = list(result.keys)
    else:
        shown = spec.table_keys if spec.table_keys is not None else result.keys
        keys = [
            k
            for k in shown
            if k not in spec.hidden and (k in result.keys or k in result.frame.columns)
        ]
    # validate's rows are not about a period
    show = "period" in result.head and spec.period_column
    cols = [("period", spec.first_column, "text")] if show else []
    cols += [(d, visible(d), "text") for d in result.by]
    schema = result.frame.schema
    money = {k for k in keys if spec.kinds.get(k, spec_for(k).kind) is Kind.money}
    cols += [
        (
            k,
            money_label(
                spec.labels.get(k) or spec_for(k).label, result.currency if k in money else None
            ),
            "text" if spec_for(k).kind in TEXT_KINDS or schema[k] == pl.String else "number",
        )
        for k in keys
    ]
    return cols


TEXT_KINDS = (Kind.text, Kind.date)
"""Kinds shown left-aligned whatever the column's type."""


def cells(result: Result, cols: list[tuple[str, str, str]]) -> list[list[str]]:
    """Formatted cell text, row by row; a total row shows ``Total`` in its segment cells.

    Text from the data shows its control characters as visible escapes.
    """
    out = []
    kinds = display_spec(result.command).kinds
    for row in visible_frame(result.frame).iter_rows(named=True):
        is_total = bool(result.by) and all(row[d] is None for d in result.by)
        line = []
        for key, _, _ in cols:
            if key in result.by:
                line.append("Total" if is_total else str(row[key]))
            else:
                line.append(fmt_value(key, row[key], kind=kinds.get(key), row=row))
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
    from rich.text import Text

    status = Console(stderr=True).status(Text(visible(message)))
    timer = threading.Timer(delay, status.start)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        status.stop()


def make_console(file: IO[str] | None = None, *, no_color: bool = False):  # type: ignore[no-untyped-def]
    """A Console that is plain (no colour, bold or dim: no escape codes at all) with
    ``no_color``, when ``NO_COLOR`` is set, or off a terminal unless ``FORCE_COLOR``
    is set.

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
    forced = bool(os.environ.get("FORCE_COLOR"))  # Rich's contract: colour off a terminal too
    plain = no_color or bool(os.environ.get("NO_COLOR")) or not (is_tty or forced)
    return Console(
        file=stream,
        markup=False,
        width=width,
        no_color=plain,
        color_system=None if plain else "auto",
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
        f"{spec_for(key).label} trend {marks} {fmt_ratio(nums[-1])} ({values[-1][0]}; "
        f"low {fmt_ratio(lo)}, high {fmt_ratio(hi)})"
    )


def heat_style(value: float | None) -> str:
    """Rich style of a cohort cell: white on :func:`~retention_cli.render.values.heat_rgb`."""
    if value is None:
        return ""
    r, g, b = heat_rgb(value)
    return f"bold white on rgb({r},{g},{b})"


def starts_at_value(result: Result) -> tuple[Result, str | None]:
    """``result`` from its first period with a value in the command's
    ``starts_at_value`` keys (unless ``--from`` was given), and a note saying
    what was left out; ``(result, None)`` when nothing is."""
    keys = [k for k in display_spec(result.command).starts_at_value if k in result.frame.columns]
    frame = result.frame
    if not keys or result.options.get("from") or "period" not in frame.columns:
        return result, None
    valued = frame.filter(pl.any_horizontal(pl.col(keys).is_not_null()))
    if valued.is_empty():
        return result, None
    first = (frame["period"] == valued["period"][0]).arg_true()[0]
    if first == 0:
        return result, None
    before = frame["period"].head(first).n_unique()
    note = (
        f"starts at {visible(str(valued['period'][0]))}, the first period with a value "
        f"(--from {visible(str(frame['period'][0]))} shows the {before:,} before it)"
    )
    return replace(result, frame=frame.slice(first)), note


def table_width(widths: list[int]) -> int:
    """Width of a ``SIMPLE_HEAVY`` table whose columns' text is ``widths`` wide: one
    space of padding each side of a column, one between columns, an edge each side."""
    return sum(widths) + 3 * len(widths) + 1


def fit_columns(
    widths: list[int], labels: int, width: int, droppable: list[int]
) -> tuple[list[int], list[list[int]]]:
    """Fit a table's columns into ``width`` characters.

    ``widths`` are the columns' text widths; the first ``labels`` columns say
    what a row is (period, segments) and are in every part. Columns in
    ``droppable`` (least essential first) are hidden one by one until the rest
    fits; if the rest still does not, its value columns are folded into several
    parts that each fit. Returns the hidden columns and the parts (column
    indices, in order).

    >>> fit_columns([7, 12, 5, 5], 1, 40, [1])
    ([1], [[0, 2, 3]])
    >>> fit_columns([7, 12, 12, 12], 1, 30, [])
    ([], [[0, 1], [0, 2], [0, 3]])
    """

    def size(cols: list[int]) -> int:
        return table_width([widths[c] for c in cols])

    shown = list(range(len(widths)))
    hidden: list[int] = []
    for col in droppable:
        if size(shown) <= width:
            break
        shown.remove(col)
        hidden.append(col)
    head, parts = shown[:labels], [[]]  # type: list[int], list[list[int]]
    for col in shown[labels:]:
        if parts[-1] and size([*head, *parts[-1], col]) > width:
            parts.append([])
        parts[-1].append(col)
    return sorted(hidden), [[*head, *part] for part in parts]


DROP_KINDS = (Kind.count, Kind.date)
"""Kinds of column hidden first, left to right, when a table is too wide (logo
counts, window start dates; the movement bars go next): the money and ratio
columns are what a table is read for."""


def render_table(
    result: Result | Report, console: Any, *, hashed: bool = True, fit: bool = True
) -> None:
    """Print ``result`` as a Rich table with its definitions and their short hash in
    the caption, then its notes; a report prints each section in turn, then its
    own hash (``hashed=False`` leaves the hash out of a section's caption).

    With ``fit`` the table fits the console's width: logo counts and dates, then
    the movement bars, are hidden (a note names them), and what is still too
    wide is folded into parts that repeat the row labels. Without it (a file),
    the table prints whole.
    """
    if isinstance(result, Report):
        for section in result.sections.values():
            render_table(section, console, hashed=False, fit=fit)
            console.print()
        for note in result.notes:
            console.print(f"note: {visible(note)}", markup=False)
        console.print(f"definitions {result.short_hash}", markup=False)
        return
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    notes: list[str] = []
    full = result
    if not result.chosen:
        result, note = starts_at_value(result)
        notes += [note] if note else []
    cols = display_columns(result)
    spec = display_spec(result.command)
    bars = movement_bars(result) if spec.movement_bars else None
    bar_label = "Movement (+ gained, − lost)"
    heat = spec.heat_map
    shown = result
    if result.table_limit is not None and result.frame.height > result.table_limit:
        shown = replace(result, frame=result.frame.head(result.table_limit))
    lines = cells(shown, cols)
    labels = [label for _, label, _ in cols] + ([bar_label] if bars is not None else [])
    widths = [
        max([cell_len(label), *(cell_len(line[i]) for line in lines)])
        for i, label in enumerate(labels[: len(cols)])
    ]
    if bars is not None:
        widths.append(max([cell_len(bar_label), *(g + lo + 3 for g, lo in bars)]))
    n_labels = sum(1 for key, _, _ in cols if key == "period" or key in result.by) or 1
    droppable = [
        i
        for i in range(n_labels, len(cols))
        if (spec.kinds.get(cols[i][0]) or spec_for(cols[i][0]).kind) in DROP_KINDS
    ] + ([len(cols)] if bars is not None else [])
    width = console.width if fit else 100_000
    hidden, parts = fit_columns(widths, n_labels, width, [] if result.chosen else droppable)
    if hidden:
        names = ", ".join(labels[i] for i in hidden)
        notes.insert(
            0,
            f"hidden to fit {width} columns: {names} (--columns chooses; -f csv shows every column)",
        )

    def styled_row(i: int, row: dict[str, Any], line: list[str], part: list[int]) -> list[Any]:
        out: list[Any] = []
        for c in part:
            if c == len(cols):
                gain, loss = bars[i]  # type: ignore[index]
                bar = Text()
                if gain:
                    bar.append("+" + "█" * gain, "green")
                if loss:
                    bar.append((" " if gain else "") + "−" + "█" * loss, "red")
                out.append(bar)
            else:
                key = cols[c][0]
                style = heat_style(row[key]) if heat and spec_for(key).heat else ""
                out.append(Text(line[c], style=style))
        return out

    caption = Text(
        visible(caption_line(result) if hashed else result.caption), style="table.caption"
    )
    folded = len(parts) > 1  # then the caption follows the last part at the console's width
    for p, part in enumerate(parts):
        table = Table(
            title=Text(visible(result.title), style="table.title") if p == 0 else None,
            caption=None if folded else caption,
            box=box.SIMPLE_HEAVY,
            title_justify="left",
            caption_justify="left",
        )
        # a text column too wide on its own (what differs, why) wraps; numbers never do
        too_wide = table_width([widths[c] for c in part]) > width
        wraps = [too_wide and n_labels <= c < len(cols) and cols[c][2] == "text" for c in part]
        for c, wrap in zip(part, wraps, strict=True):
            kind = cols[c][2] if c < len(cols) else "text"
            table.add_column(
                Text(labels[c]), justify="left" if kind == "text" else "right", no_wrap=not wrap
            )
        for i, (row, line) in enumerate(zip(shown.frame.iter_rows(named=True), lines, strict=True)):
            total = bool(result.by) and all(row[d] is None for d in result.by)
            if spec.bold is not None:
                total = spec.bold(row)
            table.add_row(*styled_row(i, row, line, part), style="bold" if total else None)
        # never squeeze a column into "1,006,7…": a part that cannot fit prints whole
        from rich.measure import Measurement

        needed = Measurement.get(console, console.options.update_width(100_000), table).maximum
        saved = console.width
        console.width = saved if any(wraps) else max(saved, needed)
        try:
            console.print(table)
        finally:
            console.width = saved
    if folded:
        console.print(caption)
    if shown is not result:
        more = result.frame.height - shown.frame.height
        console.print(
            f"… and {more:,} more rows (--top changes how many; -f csv lists all)", markup=False
        )
    for key in spec.sparklines:
        trend = sparkline(full, key)
        if trend:
            console.print(trend, markup=False)
    for note in [*notes, *result.notes]:
        console.print(f"note: {visible(note)}", markup=False)
