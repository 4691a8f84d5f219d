"""JSON output: one document per run (SPEC §12)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import polars as pl

import retention_cli
from retention_cli.render.values import VISIBLE, is_money, output_frame, rows
from retention_cli.result import SCHEMA_VERSION, Report, Result


def document(result: Result | Report, *, laid: bool = False) -> dict:
    """The JSON document as a Python mapping, keys in their contract order.

    A report has one key per section (each a list of rows) where a single
    command has ``periods``. ``laid``: each list of rows already laid out as
    :func:`layout` would (:func:`laid_rows`; for :func:`to_json` only).
    """
    rows_of: Callable[[Result], Any] = laid_rows if laid else rows
    if isinstance(result, Report):
        data = {name: rows_of(section) for name, section in result.sections.items()}
        notes = [*result.notes, *(n for s in result.sections.values() for n in s.notes)]
    else:
        data, notes = {result.rows_key: rows_of(result)}, list(result.notes)
    stamp = {"generated_at": result.stamp} if result.stamp else {}
    return {
        "schema_version": SCHEMA_VERSION,
        "command": result.command,
        "generated_by": f"retention {retention_cli.__version__}",
        **stamp,
        "input": result.input,
        "options": result.options,
        "definitions": result.definitions,
        "definitions_sha256": result.definitions_sha256,
        **data,
        "notes": notes,
        "warnings": list(result.warnings),
    }


_JSON_ESCAPES = str.maketrans({c: f"\\u{ord(c):04x}" for c in VISIBLE if ord(c) >= 0x20})
"""DEL, C1, bidi and the other controls ``json.dumps`` leaves raw (it escapes C0 itself)."""
_ASCII_ESCAPES = [chr(c) for c in _JSON_ESCAPES if c < 0x80]
"""Of those, the ASCII ones (DEL): text without them that is all ASCII has none."""


def to_json(result: Result | Report) -> str:
    """Deterministic JSON text (2-space indent, trailing newline, no NaN).

    Text keeps the exact data; a control character in it is a ``\\u`` escape, so
    the document shows no raw terminal control when printed.
    """
    text = layout(document(result, laid=True))
    if not text.isascii() or any(c in text for c in _ASCII_ESCAPES):  # else nothing to do
        text = text.translate(_JSON_ESCAPES)
    return text + "\n"


def layout(doc: dict[str, Any]) -> str:
    """``json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)``, faster on rows."""
    parts = [f"  {_dumps(key)}: {_value(value)}" for key, value in doc.items()]
    if not parts:
        return "{}"
    # the braces on the first and last parts: the rows (in between) are copied once
    parts[0] = "{\n" + parts[0]
    parts[-1] += "\n}"
    return ",\n".join(parts)


_SCALARS = frozenset({str, int, float, bool, type(None)})
_ROW_SEP = ",\n      "


def _dumps(value: object, **kw: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, **kw)


def _value(value: object) -> str:
    """One top-level value as ``json.dumps(..., indent=2)`` lays it out one level deep.

    A list of flat rows (the bulk of a large output) goes through the C encoder
    (``indent`` forces the pure-Python one: 3.1 s against 0.9 s CPU for 150,000 rows) with the
    indented layout as its separators; the same text, byte for byte.
    """
    if isinstance(value, Laid):
        return value.text
    if (
        isinstance(value, list)
        and value
        and all(type(r) is dict and r for r in value)
        and {type(v) for r in value for v in r.values()} <= _SCALARS
    ):
        # no raw newline inside JSON text: each "},\n      {" is a boundary between rows
        flat = _dumps(value, separators=(_ROW_SEP, ": "))
        rows = flat[2:-2].replace("}" + _ROW_SEP + "{", "\n    },\n    {\n      ")
        return "[\n    {\n      " + rows + "\n    }\n  ]"
    # nested: the indented layout, one level in (JSON text has no raw newline either)
    return _dumps(value, indent=2).replace("\n", "\n  ")


class Laid:
    """A list of rows as JSON text, laid out as :func:`_value` lays out a list of flat rows."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


_INT_TYPES = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)
_EXACT_CENTS = 10**15
"""Money below this many cents (15 digits) prints as Python's ``repr`` of its float does:
the exact decimal, trailing zeros of the cents dropped (``12.5``, ``3.0``)."""
_CENTS = [f"{c:02d}".rstrip("0") or "0" for c in range(100)]
"""The text after the point of each number of cents: 0 -> ``0``, 50 -> ``5``, 5 -> ``05``."""
_PYTHON_TYPES = (*_INT_TYPES, pl.Float32, pl.Float64, pl.String, pl.Boolean, pl.Null)
"""The output types whose values ``json`` writes as plain scalars."""


def laid_rows(result: Result) -> Laid | list[dict[str, Any]]:
    """The result's JSON rows as text, written by Polars in one pass over the rows.

    Byte for byte what :func:`_value` makes of :func:`~retention_cli.render.values.rows`:
    text without a character JSON escapes is quoted as it is, integers and cents are
    printed exactly, other floats and text with escapes go through ``json`` a column at
    a time. No rows, or a column of another type: the rows themselves. (352,000 rows of
    12 columns: 1.5 s of CPU against 5.2 s.)
    """
    frame = result.frame
    if frame.height == 0 or not result.columns:
        return rows(result)
    source: dict[str, pl.Series] = {}
    pieces: list[pl.Expr] = []
    literal = ""
    python: pl.DataFrame | None = None
    for i, col in enumerate(result.columns):
        literal += (_ROW_SEP if i else "") + _dumps(col) + ": "
        name = f"c{i}"
        values = frame.get_column(col).alias(name)
        parts = _pieces(values, pl.col(name), money=is_money(col))
        if parts is None:  # its output values through json, as the rows would go
            python = output_frame(result) if python is None else python
            out = python.get_column(col)
            if out.dtype not in _PYTHON_TYPES:
                return rows(result)
            values = pl.Series([_dumps(v) for v in out.to_list()], dtype=pl.String)
            parts = [pl.col(name)]
        elif values.null_count():  # the column's text first, with its nulls as null
            whole = pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])
            values = values.to_frame(name).select(whole.fill_null("null")).to_series()
            parts = [pl.col(name)]
        source[name] = values
        for part in parts:
            if isinstance(part, str):
                literal += part
            else:
                pieces += [pl.lit(literal), part] if literal else [part]
                literal = ""
    pieces += [pl.lit(literal)] if literal else []
    body = pl.DataFrame(source).select(pl.concat_str(pieces).str.join(_ROWS_SEP)).item()
    return Laid("[\n    {\n      " + body + "\n    }\n  ]")


_ROWS_SEP = "\n    },\n    {\n      "


def _pieces(values: pl.Series, v: pl.Expr, *, money: bool) -> list[str | pl.Expr] | None:
    """One column's JSON text as literal text and expressions of ``v`` (its values): null
    where a value is null; None where Python must write it."""
    dtype = values.dtype
    if money:
        top = values.abs().max()
        if dtype not in _INT_TYPES or not isinstance(top, int) or top >= _EXACT_CENTS:
            return None
        a = v.abs()
        whole = (a // 100).cast(pl.String)
        cents = pl.lit(pl.Series(_CENTS, dtype=pl.String)).gather(a % 100)
        if values.min() < 0:  # type: ignore[operator]
            whole = pl.when(v < 0).then(pl.lit("-")).otherwise(pl.lit("")) + whole
        return [whole, ".", cents]
    if dtype in _INT_TYPES:
        return [v.cast(pl.String)]
    if dtype == pl.Boolean:
        return [pl.when(v).then(pl.lit("true")).when(~v).then(pl.lit("false"))]
    if dtype in (pl.String, pl.Categorical) or dtype == pl.Date:
        plain = v.dt.to_string("%Y-%m-%d") if dtype == pl.Date else v.cast(pl.String)
        if values.to_frame().select(plain.str.contains(r'[\x00-\x1f"\\]').any()).item():
            return None  # escapes: json writes them
        return ['"', plain, '"']
    return None
