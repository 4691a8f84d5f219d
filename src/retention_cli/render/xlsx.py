"""XLSX output (XlsxWriter): a sheet per section, real numbers with formats, a definitions sheet."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any, BinaryIO

import polars as pl

from retention_cli import __version__
from retention_cli.errors import UsageError
from retention_cli.render.values import (
    FORMULA_PREFIXES,
    is_factor,
    is_money,
    is_ratio,
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


def _write_table(book: Any, sheet: Any, result: Result, formats: dict[str, Any]) -> None:
    cols = result.columns
    data = rows(result)
    widths = [len(c) for c in cols]
    for j, col in enumerate(cols):
        sheet.write_string(0, j, col, formats["header"])
    kinds = [_kind(result, c) for c in cols]
    for i, row in enumerate(data, start=1):
        for j, (col, kind) in enumerate(zip(cols, kinds, strict=True)):
            value = row[col]
            if value is None:
                sheet.write_blank(i, j, None)
                continue
            if kind == "date":
                day = dt.date.fromisoformat(value)
                sheet.write_datetime(
                    i, j, dt.datetime(day.year, day.month, day.day), formats["date"]
                )
                text = value
            elif kind in ("money", "ratio", "factor", "count", "number"):
                sheet.write_number(i, j, value, formats[kind])
                text = f"{value:,.2f}" if kind != "count" else f"{value:,}"
            else:
                text = safe_cell(str(value))
                sheet.write_string(i, j, text)
            widths[j] = max(widths[j], len(text))
    for j, width in enumerate(widths):
        sheet.set_column(j, j, min(width + 2, MAX_WIDTH))
    sheet.freeze_panes(1, 0)
    if data:
        sheet.autofilter(0, 0, len(data), len(cols) - 1)


def _definition_lines(result: Result | Report) -> list[tuple[str, str]]:
    """The key/value rows of the ``definitions`` sheet."""
    info = result.input or {}
    lines: list[tuple[str, str]] = [
        ("command", result.command),
        ("generated_by", f"retention {__version__}"),
        *((("generated_at", result.stamp),) if result.stamp else ()),
        *((f"input.{k}", str(v)) for k, v in info.items()),
        *((f"definitions.{k}", _flat(v)) for k, v in result.definitions.items()),
        ("definitions_sha256", result.definitions_sha256),
        *((f"options.{k}", _flat(v)) for k, v in result.options.items() if v not in (None, [], {})),
    ]
    sections = result.sections.values() if isinstance(result, Report) else [result]
    for section in sections:
        lines.append((f"caption.{section.command}", section.caption))
    notes = list(result.notes)
    if isinstance(result, Report):
        notes += [n for s in result.sections.values() for n in s.notes]
    lines += [("note", n) for n in notes]
    lines += [("warning", w) for w in result.warnings]
    return lines


def _definitions(sheet: Any, lines: list[tuple[str, str]], formats: dict[str, Any]) -> None:
    sheet.write_string(0, 0, "key", formats["header"])
    sheet.write_string(0, 1, "value", formats["header"])
    for i, (key, value) in enumerate(lines, start=1):
        sheet.write_string(i, 0, key)
        sheet.write_string(i, 1, safe_cell(value))
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
            msg = f"{name} has {height:,} rows; an XLSX sheet holds at most {MAX_ROWS - 1:,} below its header"
            raise UsageError(msg, param="output", hint=_TOO_BIG)
        if width > MAX_COLUMNS:
            msg = f"{name} has {width:,} columns; an XLSX sheet holds at most {MAX_COLUMNS:,}"
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
        length = max(len(key), len(safe_cell(value)))
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
        "money": book.add_format({"num_format": "#,##0.00"}),
        "ratio": book.add_format({"num_format": "0.0%"}),
        "factor": book.add_format({"num_format": "0.00"}),
        "count": book.add_format({"num_format": "#,##0"}),
        "number": book.add_format({"num_format": "General"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
    }
    used: set[str] = set()
    sections = result.sections if isinstance(result, Report) else {result.command: result}
    for name, section in sections.items():
        _write_table(book, book.add_worksheet(_sheet_name(name, used)), section, formats)
    _definitions(book.add_worksheet(_sheet_name("definitions", used)), lines, formats)
    book.close()
    if isinstance(target, io.BytesIO) and not isinstance(path, str):
        path.write(target.getbuffer())
