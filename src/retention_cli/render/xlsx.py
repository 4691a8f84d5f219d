"""XLSX output (XlsxWriter): a summary sheet with native charts, a sheet per section, a
definitions sheet.

Each table's header row holds the same labels as the terminal table (``End ARR``,
``+ New``), one row, so that filters, tables and pivot tables take them as field
names; the machine key of each column (``end_arr``) is the header cell's comment.
A hidden row of keys above the labels was the other choice, but a pivot table
or filter over the used range takes its first row as the field names, which
would bring the snake_case keys back to the finance user.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any, BinaryIO

import polars as pl

import retention_cli
from retention_cli.commands import display_spec
from retention_cli.errors import UsageError
from retention_cli.keys import spec_for
from retention_cli.render.csv import TOTAL_SEGMENT
from retention_cli.render.table import is_code
from retention_cli.render.values import (
    FORMULA_PREFIXES,
    is_factor,
    is_money,
    is_ratio,
    output_frame,
    rows,
    safe_text,
)
from retention_cli.result import Report, Result

FIXED_TIME = dt.datetime(2000, 1, 1)  # document properties carry no wall-clock time
MAX_WIDTH = 60
MAX_ROWS = 1_048_576
"""Rows in an Excel sheet, the header row included."""
MAX_COLUMNS = 16_384
"""Columns in an Excel sheet."""
MAX_CHARS = 32_767
"""Characters in an Excel cell."""
_TOO_BIG = "use CSV or JSON for a table this size, or narrow it (fewer periods or segments)"


def _kind(result: Result, col: str) -> str:
    dtype = result.frame.schema.get(col)
    if dtype == pl.Date:
        return "date"
    if is_money(col):
        return "money"
    if is_ratio(col) or col in ("nrr_change", "grr_change"):
        return "ratio"
    if is_factor(col):
        return "factor"
    if dtype is not None and dtype.is_integer():
        return "count"
    if dtype is not None and dtype.is_float():
        return "number"
    return "text"


def safe_cell(text: str) -> str:
    """Input text that a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _sheet_name(name: str, used: set[str]) -> str:
    base = "".join(ch for ch in name if ch not in "[]:*?/\\")[:31] or "sheet"
    out, n = base, 2
    while out.lower() in used:
        out = f"{base[:28]}_{n}"
        n += 1
    used.add(out.lower())
    return out


def labels(result: Result) -> list[str]:
    """The header of each output column: the table label, made unique by its key
    where two columns would share one."""
    spec = display_spec(result.command)
    out = []
    for col in result.columns:
        if col == "period":
            out.append(spec.first_column)
        else:
            out.append(spec.labels.get(col) or spec_for(col).label)
    seen = [label.casefold() for label in out]
    return [
        f"{label} ({col})" if seen.count(label.casefold()) > 1 else label
        for label, col in zip(out, result.columns, strict=True)
    ]


HEAT_SCALE = {
    "type": "3_color_scale",
    "min_type": "num", "min_value": 0.5, "min_color": "#B22222",
    "mid_type": "num", "mid_value": 0.8, "mid_color": "#CCAA00",
    "max_type": "num", "max_value": 1.0, "max_color": "#2E8B57",
}  # fmt: skip
"""The cohort heat map as conditional formatting: the terminal and HTML colours
(red at 50% or less, yellow at 80%, green from 100%)."""


def _write_table(book: Any, sheet: Any, result: Result, formats: dict[str, Any]) -> None:
    """One table: the header row, then the cells column by column from Polars lists.

    Text cells go first, row by row (XlsxWriter numbers shared strings in the
    order they are first written, so the file is the same as writing each row in
    turn); numbers and dates then column by column. Widths come from each column's
    longest text (numbers: the printed min and max, the longest of their column).
    """
    cols = result.columns
    frame = output_frame(result)
    heads = labels(result)
    widths = [len(h) for h in heads]
    for j, (col, head) in enumerate(zip(cols, heads, strict=True)):
        sheet.write_string(0, j, head, formats["header"])
        if head != col:
            sheet.write_comment(0, j, col, {"author": "retention", "x_scale": 0.6, "y_scale": 0.3})
    kinds = [_kind(result, c) for c in cols]
    total = (
        frame.select(pl.all_horizontal(pl.col(d).is_null() for d in result.by)).to_series()
        if result.by
        else pl.Series([False] * frame.height, dtype=pl.Boolean)
    )
    texts = [j for j, kind in enumerate(kinds) if kind == "text"]
    values = [_text_cells(frame[cols[j]], total if cols[j] in result.by else None) for j in texts]
    for j, cells in zip(texts, values, strict=True):
        longest = max((len(v) for v in cells if v is not None), default=0)
        widths[j] = max(widths[j], longest)
    write_string = sheet.write_string
    for i, row in enumerate(zip(*values, strict=True), start=1):
        for j, text in zip(texts, row, strict=True):
            if text is not None:
                write_string(i, j, text)
    write_number = sheet.write_number
    for j, (col, kind) in enumerate(zip(cols, kinds, strict=True)):
        if kind == "text":
            continue
        series = frame[col]
        cells = series.to_list()
        if kind == "date":
            widths[j] = max(widths[j], max((len(v) for v in cells if v is not None), default=0))
            serial = {v: _excel_day(v) for v in set(cells) if v is not None}
            for i, value in enumerate(cells, start=1):
                if value is None:
                    continue
                number = serial[value]
                if number is None:  # before 1900-03-01: XlsxWriter's own conversion
                    day = dt.date.fromisoformat(value)
                    sheet.write_datetime(
                        i, j, dt.datetime(day.year, day.month, day.day), formats["date"]
                    )
                else:
                    write_number(i, j, number, formats["date"])
            continue
        fmt = formats[kind]
        for i, value in enumerate(cells, start=1):
            if value is not None:
                write_number(i, j, value, fmt)
        # the printed length grows with the magnitude: the longest is at the min or the max
        for value in (series.min(), series.max()):
            if value is not None:
                text = f"{value:,.2f}" if kind != "count" else f"{value:,}"
                widths[j] = max(widths[j], len(text) + (4 if kind == "money" else 0))
    for j, width in enumerate(widths):
        sheet.set_column(j, j, min(width + 2, MAX_WIDTH))
    sheet.freeze_panes(1, 0)
    if frame.height:
        sheet.autofilter(0, 0, frame.height, len(cols) - 1)
        if display_spec(result.command).heat_map:
            for j, col in enumerate(cols):
                if spec_for(col).heat:
                    sheet.conditional_format(1, j, frame.height, j, HEAT_SCALE)


def _text_cells(series: pl.Series, total: pl.Series | None) -> list[str | None]:
    """A text column's cells: formula-like text made inert; ``total`` marks the rows
    whose segment cell reads :data:`TOTAL_SEGMENT`."""
    if series.dtype == pl.String:
        text = series.to_frame("v").select(safe_text(pl.col("v"))).to_series()
    else:
        text = pl.Series(
            [None if v is None else safe_cell(str(v)) for v in series.to_list()], dtype=pl.String
        )
    if total is not None:
        text = pl.select(pl.when(total).then(pl.lit(TOTAL_SEGMENT)).otherwise(text)).to_series()
    return text.to_list()


_EXCEL_EPOCH = dt.date(1899, 12, 31)


def _excel_day(iso: str) -> float | None:
    """The Excel serial number of an ISO date, as XlsxWriter's ``write_datetime``
    stores it (1900 counted as a leap year); None before 1900-03-01."""
    days = (dt.date.fromisoformat(iso) - _EXCEL_EPOCH).days
    return float(days + 1) if days > 59 else None


def money_format(currency: str | None) -> str:
    """The Excel number format of money: ``#,##0.00``, with the currency when set
    (``"$"#,##0.00``, ``#,##0.00 "USD"``)."""
    if not currency:
        return "#,##0.00"
    text = currency.replace('"', "")
    return f'#,##0.00 "{text}"' if is_code(currency) else f'"{text}"#,##0.00'


ChartData = dict[str, tuple[list[str], list[tuple[str, str, list[float | None]]]]]
"""Per chart: the periods and the series ``(label, kind, values)``."""

SUMMARY_CHARTS = {
    "bridge": ("ARR movements per period", "column",
               (("new_arr", 1), ("reactivation_arr", 1), ("expansion_arr", 1),
                ("contraction_arr", -1), ("churned_arr", -1))),
    "retention": ("NRR and GRR (trailing window)", "line", (("nrr", 1), ("grr", 1))),
    "churn": ("Logo and revenue churn per period", "line",
              (("period_logo_churn_rate", 1), ("period_gross_revenue_churn", 1))),
}  # fmt: skip
"""The summary sheet's native charts: section → (title, chart type, (key, sign) series)."""


def _chart_data(sections: dict[str, Result]) -> ChartData:
    """The total rows of the charted sections, losses negated (a bridge's contraction
    and churn stack below zero)."""
    out: ChartData = {}
    for name, (_, _, series) in SUMMARY_CHARTS.items():
        section = sections.get(name) or next(
            (r for r in sections.values() if display_spec(r.command).section == name), None
        )
        if section is None or any(k not in section.keys for k, _ in series):
            continue
        data = rows(section)
        if section.by:
            data = [r for r in data if all(r[d] is None for d in section.by)]
        data = [r for r in data if any(r[k] is not None for k, _ in series)]
        if not data:
            continue
        periods = [str(r["period"]) for r in data]
        out[name] = (periods, [
            (spec_for(k).label, _kind(section, k),
             [None if r[k] is None else 0.0 + sign * r[k] for r in data])
            for k, sign in series
        ])  # fmt: skip
    return out


def _summary(
    book: Any, sheet: Any, result: Result | Report, data: ChartData, formats: dict[str, Any]
) -> None:
    """The first sheet: the title, the definitions hash, native charts, and the
    chart data (total rows; losses negative) beside them."""
    sheet.write_string(0, 0, safe_cell(result.title), formats["title"])
    sheet.write_string(1, 0, f"definitions sha256 {result.definitions_sha256}", formats["dim"])
    sheet.activate()
    top, col = 3, 10  # the data from column K, the charts on A..I
    chart_row = 3
    for name, (periods, series) in data.items():
        title, kind, _ = SUMMARY_CHARTS[name]
        sheet.write_string(top, col, "Period", formats["header"])
        for i, period in enumerate(periods, start=1):
            sheet.write_string(top + i, col, safe_cell(period))
        for j, (label, vkind, values) in enumerate(series, start=1):
            sheet.write_string(top, col + j, label, formats["header"])
            for i, value in enumerate(values, start=1):
                if value is None:
                    sheet.write_blank(top + i, col + j, None)
                else:
                    sheet.write_number(top + i, col + j, value, formats[vkind])
        chart = book.add_chart(
            {"type": kind, **({"subtype": "stacked"} if kind == "column" else {})}
        )
        quoted = sheet.get_name().replace("'", "''")
        last = top + len(periods)
        for j in range(1, len(series) + 1):
            chart.add_series({
                "name": [sheet.get_name(), top, col + j],
                "categories": f"='{quoted}'!${_col(col)}${top + 2}:${_col(col)}${last + 1}",
                "values": f"='{quoted}'!${_col(col + j)}${top + 2}:${_col(col + j)}${last + 1}",
                **({"marker": {"type": "circle", "size": 4}} if kind == "line" else {}),
            })  # fmt: skip
        chart.set_title({"name": title, "name_font": {"size": 11}})
        chart.set_legend({"position": "bottom"})
        number = money_format(result.currency) if series[0][1] == "money" else "0%"
        chart.set_y_axis({"num_format": number, "major_gridlines": {"visible": True}})
        chart.set_x_axis({"label_position": "low"})
        chart.set_size({"width": 620, "height": 300})
        sheet.insert_chart(chart_row, 0, chart)
        chart_row += 16
        top = last + 2
    sheet.set_column(col, col, 12)
    sheet.set_column(col + 1, col + 6, 16)


def _col(index: int) -> str:
    """The column letters of a 0-based index (0 → ``A``, 27 → ``AB``)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _definition_lines(result: Result | Report) -> list[tuple[str, Any]]:
    """The key/value rows of the ``definitions`` sheet; numbers stay numbers, a
    nested setting is one row per entry (``definitions.calendar.start_month``)."""
    info = result.input or {}
    lines: list[tuple[str, Any]] = [
        ("command", result.command),
        ("generated_by", f"retention {retention_cli.__version__}"),
        *((("generated_at", result.stamp),) if result.stamp else ()),
        *((f"input.{k}", v) for k, v in info.items()),
        *_entries("definitions", result.definitions),
        ("definitions_sha256", result.definitions_sha256),
        *(
            e
            for k, v in result.options.items()
            if v not in (None, [], {})
            for e in _entries(f"options.{k}", v)
        ),
    ]
    if result.currency:
        lines.append(("currency", result.currency))
    sections = result.sections.values() if isinstance(result, Report) else [result]
    for section in sections:
        lines.append((f"caption.{section.command}", section.caption))
    notes = list(result.notes)
    if isinstance(result, Report):
        notes += [n for s in result.sections.values() for n in s.notes]
    lines += [("note", n) for n in notes]
    lines += [("warning", w) for w in result.warnings]
    return lines


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _entries(prefix: str, value: Any) -> list[tuple[str, Any]]:
    """``prefix.key`` rows of a nested mapping; numeric text (an fx rate) as a number."""
    if isinstance(value, dict) and value:
        return [row for k, v in value.items() for row in _entries(f"{prefix}.{k}", v)]
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return [(prefix, float(value) if "." in value else int(value))]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [(prefix, _flat(value))]
    return [(prefix, value)]


def _definitions(sheet: Any, lines: list[tuple[str, Any]], formats: dict[str, Any]) -> None:
    sheet.write_string(0, 0, "key", formats["header"])
    sheet.write_string(0, 1, "value", formats["header"])
    for i, (key, value) in enumerate(lines, start=1):
        sheet.write_string(i, 0, key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            sheet.write_number(i, 1, value, formats["left"])
        else:
            sheet.write_string(i, 1, safe_cell(str(value)))
    sheet.set_column(0, 0, max(len(k) for k, _ in lines) + 2)
    sheet.set_column(1, 1, 100)
    sheet.freeze_panes(1, 0)


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_flat(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_flat(v) for v in value)
    return "" if value is None else str(value)


def check_limits(result: Result | Report) -> None:
    """Raise ``UsageError`` (``param="output"``) when a table does not fit Excel.

    The limits are :data:`MAX_ROWS`, :data:`MAX_COLUMNS` and :data:`MAX_CHARS`.
    A workbook never holds part of a table, so no sum or note can cover rows
    it lacks.
    """
    sections = result.sections.values() if isinstance(result, Report) else [result]
    for section in sections:
        name = f"the {section.command} table"
        height, width = section.frame.height, len(section.columns)
        if height > MAX_ROWS - 1:
            msg = (
                f"{name} has {height:,} rows; an Excel sheet holds at most {MAX_ROWS:,} rows "
                f"({MAX_ROWS - 1:,} below its header)"
            )
            raise UsageError(msg, param="output", hint=_TOO_BIG)
        if width > MAX_COLUMNS:
            msg = f"{name} has {width:,} columns; an Excel sheet holds at most {MAX_COLUMNS:,}"
            raise UsageError(msg, param="output", hint=_TOO_BIG)
        texts = [c for c in section.columns if _kind(section, c) == "text"]
        if not texts or not height:
            continue
        longest = section.frame.select(
            safe_text(pl.col(c).cast(pl.String)).str.len_chars().max().alias(c) for c in texts
        )
        for col, length in longest.row(0, named=True).items():
            if length is not None and length > MAX_CHARS:
                msg = (
                    f"{name} has a value of {length:,} characters in column {col!r}; "
                    f"an XLSX cell holds at most {MAX_CHARS:,}"
                )
                raise UsageError(msg, param="output", hint="use CSV or JSON for text this long")
    for key, value in _definition_lines(result):
        length = max(len(key), len(safe_cell(str(value))))
        if length > MAX_CHARS:
            msg = (
                f"the definitions sheet has a value of {length:,} characters ({key}); "
                f"an XLSX cell holds at most {MAX_CHARS:,}"
            )
            raise UsageError(msg, param="output", hint="use JSON for text this long")


def write_xlsx(result: Result | Report, path: str | BinaryIO) -> None:
    """Write ``result`` (one sheet) or a report (a sheet per section) plus a
    ``definitions`` sheet. Cells hold numbers with formats (money ``#,##0.00``,
    ratios ``0.0%``); input text that looks like a formula is made inert.

    A table past Excel's limits (rows, columns, characters in a cell) is
    refused with ``UsageError`` before anything is written (:func:`check_limits`).
    """
    import xlsxwriter

    lines = _definition_lines(result)
    check_limits(result)

    # a file object gets the finished zip in one write: a failed write (disk
    # full) is then a plain OSError, with no half-closed zip left to complain
    target = path if isinstance(path, str) else io.BytesIO()
    book = xlsxwriter.Workbook(
        target,
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "default_date_format": "yyyy-mm-dd",
        },
    )
    created = (
        dt.datetime.fromisoformat(result.stamp).replace(tzinfo=None) if result.stamp else FIXED_TIME
    )
    book.set_properties({"created": created, "title": result.title, "author": "retention"})
    formats = {
        "header": book.add_format({"bold": True, "bottom": 1}),
        "money": book.add_format({"num_format": money_format(result.currency)}),
        "ratio": book.add_format({"num_format": "0.0%"}),
        "factor": book.add_format({"num_format": "0.00"}),
        "count": book.add_format({"num_format": "#,##0"}),
        "number": book.add_format({"num_format": "General"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "left": book.add_format({"align": "left"}),
        "title": book.add_format({"bold": True, "font_size": 14}),
        "dim": book.add_format({"font_color": "#5B6475"}),
    }
    used: set[str] = set()
    sections = result.sections if isinstance(result, Report) else {result.command: result}
    summary = _chart_data(sections)
    if summary:
        _summary(book, book.add_worksheet(_sheet_name("summary", used)), result, summary, formats)
    for name, section in sections.items():
        sheet = "growth" if name == "summary" else name  # "summary" is the charts sheet's
        _write_table(book, book.add_worksheet(_sheet_name(sheet, used)), section, formats)
    _definitions(book.add_worksheet(_sheet_name("definitions", used)), lines, formats)
    book.close()
    if isinstance(target, io.BytesIO) and not isinstance(path, str):
        path.write(target.getbuffer())
