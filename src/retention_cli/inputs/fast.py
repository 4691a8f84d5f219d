"""The one-pass reader for plain files: the common case, streamed.

A CSV or Parquet file on disk whose values are all plain (``YYYY-MM-DD``
dates, ``-?digits[.dd]`` amounts, no blanks) is read in one streaming pass,
with the same :class:`~retention_cli.inputs.columns.Layout` and the same row
checks (:data:`~retention_cli.inputs.checks.ROW_CHECKS`) as the full parser.
Ids, dates and dimensions are read as categories: a check that reads one of
them alone runs once per distinct text (:func:`_plan`). A dimension the caller
does not read is checked all the same and left out of the frame.
Anything else returns ``None`` and the full parser reads the file again and
reports each problem: a value that is not plain, a row any check flags, a
column kind in :data:`FALLBACK_KINDS`, or a file Polars cannot scan.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from retention_cli.inputs.checks import Row, is_blank, row_checks
from retention_cli.inputs.columns import RULE_COLUMNS, Kind, Layout
from retention_cli.inputs.parse import (
    PLAIN_DAY,
    PLAIN_MONEY,
    canonical_exprs,
    multiplier_of,
    plain_cents,
    plain_date,
)
from retention_cli.inputs.read import (
    LINE,
    Source,
    repeated_headers,
    sha256_file,
    sniff_separator,
)
from retention_cli.inputs.rules import Rules
from retention_cli.options import Shape


@dataclass(frozen=True)
class Plain:
    """A column kind's plain parse: ``value`` and ``blank`` (for the checks) and
    ``odd`` (true where the text is not plain: the fast path then declines)."""

    value: pl.Expr
    blank: pl.Expr
    odd: pl.Expr | None = None


def _id(raw: pl.Expr, _: int) -> Plain:
    value = raw.str.strip_chars()
    return Plain(value, value.str.len_bytes().fill_null(0) == 0)


def _date(raw: pl.Expr, _: int) -> Plain:
    # a blank or odd text is declined, so the checks may take it as not blank
    return Plain(plain_date(raw), pl.lit(False), odd=~raw.str.contains(PLAIN_DAY).fill_null(False))


def _optional_date(raw: pl.Expr, _: int) -> Plain:
    blank = is_blank(raw)
    odd = ~(raw.str.contains(PLAIN_DAY).fill_null(False) | blank)
    return Plain(plain_date(raw), blank, odd=odd)


def _movement_type(raw: pl.Expr, _: int) -> Plain:
    value = raw.str.strip_chars().str.to_lowercase()
    return Plain(value, value.fill_null("") == "")


def _money(raw: pl.Expr, multiplier: int) -> Plain:
    odd = ~raw.str.contains(PLAIN_MONEY).fill_null(False)
    return Plain(plain_cents(raw, multiplier), pl.lit(False), odd=odd)


PLAIN_PARSERS: dict[Kind, Callable[[pl.Expr, int], Plain]] = {
    "id": _id,
    "date": _date,
    "optional_date": _optional_date,
    "movement_type": _movement_type,
    "money": _money,
}
"""How the fast path parses each column kind it handles."""

FALLBACK_KINDS: dict[Kind, str] = {
    "currency": "converting currencies (and the fx checks) is left to the full parser",
    **dict.fromkeys(
        ("optional_money", "number", "integer", "text"),
        "the reading rules of exports (interval, quantity, status, ...) are the full parser's",
    ),
}
"""The column kinds the fast path declines, and why: a file with one takes the full parser."""


DISTINCT_KINDS = frozenset({"id", "date", "optional_date"})
"""Column kinds the fast path reads as categories (with the dimensions): their texts
repeat (an id or a date on many rows), so each distinct text is parsed and checked once."""

_TEMP = "_plain:"
"""Prefix of the fast path's working columns (a file with such a header is declined)."""


@dataclass(frozen=True)
class Plan:
    """How :func:`read_plain` reads a layout.

    ``distinct``: the headers read as categories, each with the checks that read
    that column alone (run once per distinct text) and its value over the text
    (``values``; a dimension's is its stripped text). ``staged``: the other
    fields' values, one working column each (parsed once per row), and
    ``per_row``: the checks run on every row.
    """

    distinct: dict[str, list[pl.Expr]]
    values: dict[str, pl.Expr]
    staged: dict[str, pl.Expr]
    per_row: list[pl.Expr]


def _temp(name: str, *, header: bool = False) -> str:
    """A working column: a field's staged value, or (``header``) a category column's value."""
    return f"{_TEMP}{'#' if header else ''}{name}"


def _plan(layout: Layout, headers: list[str], unused: Collection[str] = ()) -> Plan:
    """Split the plain parse of ``layout`` into per-distinct-text and per-row work.

    Every condition is built once from the same declarations (:func:`row_checks`,
    the ``odd`` texts, a short last row); a condition that reads one column of a
    :data:`DISTINCT_KINDS` field or a dimension alone runs on its distinct texts,
    any other on every row (so a column a condition reads with another is not a
    category).

    ``unused``: dimensions left out of the frame, checked all the same so that the
    same files decline. One a condition reads alone (the blank check of the last
    field) stays a category, checked once per distinct text (per row, that regex
    took 0.38 s CPU on 9.8M rows) and never mapped; the others are read as text by
    the scan (:func:`_read_all`), no category built.
    """
    parsed = {
        f.canonical: PLAIN_PARSERS[f.kind](pl.col(f.header), multiplier_of(f.canonical))
        for f in layout.fields
    }

    def conditions(values: Mapping[str, pl.Expr]) -> list[pl.Expr]:
        row = Row(
            values=values,
            blanks={c: v.blank for c, v in parsed.items()},
            oks={c: pl.lit(True) for c in parsed},  # plain money is well formed
        )
        conds = [v.odd for v in parsed.values() if v.odd is not None]
        conds += [cond for _, _, cond in row_checks(layout.fields, row)]
        # a row missing its last field(s) reads as blank there: the full parser counts its fields
        conds.append(is_blank(pl.col(headers[-1])))
        return conds

    raw = conditions({c: v.value for c, v in parsed.items()})
    roots = [frozenset(c.meta.root_names()) for c in raw]
    candidates = {f.header for f in layout.fields if f.kind in DISTINCT_KINDS}
    candidates |= set(layout.dimensions)
    for r in roots:
        if len(r) > 1:
            candidates -= r
    values = {f.header: parsed[f.canonical].value for f in layout.fields if f.header in candidates}
    values |= {d: pl.col(d).str.strip_chars() for d in layout.dimensions if d in candidates}
    staged = {
        _temp(f.canonical): parsed[f.canonical].value
        for f in layout.fields
        if f.header not in candidates
    }
    staged |= {
        _temp(d, header=True): pl.col(d).str.strip_chars().cast(pl.Categorical)
        for d in layout.dimensions
        if d not in candidates and d not in unused
    }
    staged_row = conditions(
        {c: pl.col(_temp(c)) if _temp(c) in staged else v.value for c, v in parsed.items()}
    )
    distinct: dict[str, list[pl.Expr]] = {h: [] for h in values}
    per_row: list[pl.Expr] = []
    for cond, r, row_cond in zip(raw, roots, staged_row, strict=True):
        if len(r) == 1 and r <= candidates:
            distinct[next(iter(r))].append(cond)
        else:
            per_row.append(row_cond)
    for d in unused:
        if not distinct.get(d, True):  # no check reads it alone: no category
            del distinct[d], values[d]
    per_row += _read_all([d for d in unused if d not in distinct], per_row)
    return Plan(distinct, values, staged, per_row)


def _read_all(unused: Collection[str], conds: list[pl.Expr]) -> list[pl.Expr]:
    """Conditions (never true) that make the scan read each ``unused`` column no
    condition in ``conds`` reads.

    Polars reports a row with more fields than the header only when the scan reads
    every column, and bad UTF-8 or a Parquet column that is no text only in a column
    it reads: the same files must decline with or without ``unused``.
    """
    read = {name for cond in conds for name in cond.meta.root_names()}
    return [pl.col(d).is_null() & pl.lit(False) for d in unused if d not in read]


def _distinct_texts(
    col: pl.Series, header: str, plan: Plan
) -> tuple[pl.Series, pl.DataFrame] | None:
    """The distinct categories of ``col`` (read from ``header``) and their texts, or
    ``None`` when a check of that column flags one."""
    keys = col.unique(maintain_order=True)  # faster than unordered on categories
    texts = keys.cast(pl.String).to_frame(header)
    conds = plan.distinct[header]
    if conds and texts.select(pl.any_horizontal(conds).any()).item():
        return None
    return keys, texts


def _distinct_values(col: pl.Series, header: str, plan: Plan) -> pl.Series | None:
    """The value of the categorical column ``col`` (read from ``header``) for every row
    (its checks run on each distinct text), or ``None`` when a check flags one."""
    found = _distinct_texts(col, header, plan)
    if found is None:
        return None
    keys, texts = found
    expr = plan.values[header]
    value = texts.select(expr).to_series()
    name = _temp(header, header=True)
    if value.dtype == pl.String:  # an id or a dimension: a category of its stripped text
        if value.eq_missing(texts.get_column(header)).all():
            return col.alias(name)
        strings = col.cast(pl.String).to_frame(header)
        return strings.select(expr.cast(pl.Categorical)).to_series().alias(name)
    # a date: each row's value looked up by its category's code
    codes = keys.to_physical()
    known = codes.is_not_null()
    size = int(codes.max() or 0) + 1  # type: ignore[arg-type]
    lookup = pl.select(pl.repeat(None, size, dtype=value.dtype)).to_series()
    lookup = lookup.scatter(codes.filter(known), value.filter(known))
    # chunk by chunk: the dates come in the codes' chunks, aligned with the other columns
    parts = [lookup.gather(chunk) for chunk in col.to_physical().get_chunks()]
    return pl.concat(parts, rechunk=False).alias(name)


def _chunk_sizes(col: pl.Series) -> list[int]:
    """The lengths of the chunks of ``col``."""
    return [len(chunk) for chunk in col.get_chunks()]


def _aligned(columns: dict[str, pl.Series], names: list[str]) -> pl.DataFrame:
    """The ``columns`` named ``names`` in one chunk each, copied one at a time.

    ``columns`` holds the only reference to each column and is emptied, so each
    column's chunks are freed once copied (a frame holding them would keep them all
    until it goes: at 100M rows, 1.9 GB more at the peak).

    The streamed columns come in many chunks: a query on a frame chunked unlike (a
    one-chunk line number) first copies every column into one chunk at once, and the
    checks that follow copy the columns they read (at 100M rows, 0.6 GB more at the peak).
    """
    out = []
    for name in dict.fromkeys(names):
        out.append(columns.pop(name).rechunk())  # the old chunks go with the dict's reference
    columns.clear()
    return pl.DataFrame(out)


@dataclass(frozen=True)
class PlainRead:
    """What the fast path read: the canonical frame, its layout and its source."""

    frame: pl.DataFrame
    layout: Layout
    source: Source


def read_plain(
    path: str,
    *,
    columns: Mapping[str, str] | None,
    shape: Shape | None,
    separator: str | None,
    rules: Rules | None = None,
    dimensions: Collection[str] | None = None,
) -> PlainRead | None:
    """Read a plain file in one streaming pass, or ``None`` for the full parser.

    The frame is what :func:`retention_cli.inputs.parse_table` gives before its
    frame-level checks, with account ids and dimensions as ``Categorical``.
    ``dimensions``: the dimension columns the caller reads (None: all); the frame
    leaves out the others, which are still read and checked (:func:`_plan`), so the
    same files decline. The layout lists every dimension all the same.
    """
    if path == "-":
        return None
    p = Path(path)
    lower = path.lower()
    if lower.endswith((".xlsx", ".xlsm", ".gz")) or not p.is_file():
        return None
    try:
        parquet = lower.endswith(".parquet")
        if parquet:
            lf = pl.scan_parquet(p).select(pl.all().cast(pl.String))
        else:
            with p.open("rb") as f:
                head = f.read(65536).removeprefix(b"\xef\xbb\xbf")
            if not head.strip():
                return None
            if separator is None:
                separator = "\t" if lower.endswith(".tsv") else sniff_separator(head)
            if repeated_headers(head, separator):
                return None
            lf = pl.scan_csv(p, separator=separator, infer_schema=False, has_header=True)
        headers = lf.collect_schema().names()
        preset = rules.preset if rules is not None else None
        layout = Layout.of(headers, columns, shape, path, preset=preset)
    except Exception:  # the full parser says what is wrong
        return None
    if (
        LINE in headers
        or any(h.startswith(_TEMP) for h in headers)
        or any(f.kind not in PLAIN_PARSERS or f.canonical in RULE_COLUMNS for f in layout.fields)
    ):
        return None  # a rule column (line items, interval, status, ...): the full parser
    unused = [] if dimensions is None else [d for d in layout.dimensions if d not in dimensions]
    plan = _plan(layout, headers, unused)
    if parquet:
        lf = lf.with_columns(pl.col(h).cast(pl.Categorical) for h in plan.distinct)
    else:  # read as categories: no string per row, and the checks run on each distinct text
        lf = pl.scan_csv(p, separator=separator, infer_schema=False, has_header=True,
                         schema_overrides=dict.fromkeys(plan.distinct, pl.Categorical))  # fmt: skip
    # each value parsed once (the checks read it); no line column: row i is line i + 2,
    # numbered at the end rather than held through the scan
    query = lf.with_columns(**plan.staged).select(
        *plan.distinct,
        *plan.staged,
        pl.any_horizontal(plan.per_row or [pl.lit(False)]).alias("_suspect"),
    )
    digest: list[str] = []
    hasher = threading.Thread(target=lambda: digest.append(sha256_file(p)))
    hasher.start()  # hashlib releases the GIL: the hash runs beside the scan
    try:
        frame = query.collect(engine="streaming")
    except Exception:  # unreadable (bad UTF-8, ragged rows, …): the full parser says why
        return None
    finally:
        hasher.join()
    if frame.height == 0 or frame["_suspect"].any():
        return None
    # the columns held as series, not a frame: a frame query on columns chunked unlike
    # (streamed ones, a looked-up date) first copies them all into one chunk each
    columns = {c.name: c for c in frame.iter_columns() if c.name != "_suspect"}
    del frame
    for header in plan.distinct:
        if header in unused:  # checked, not kept
            if _distinct_texts(columns.pop(header), header, plan) is None:
                return None
            continue
        mapped = _distinct_values(columns.pop(header), header, plan)
        if mapped is None:
            return None
        columns[mapped.name] = mapped  # the category column goes once its value is in
        del mapped
    values = {
        f.canonical: pl.col(
            _temp(f.header, header=True) if f.header in plan.distinct else _temp(f.canonical)
        )
        for f in layout.fields
    }
    out = canonical_exprs(layout.fields, values)
    out["account_id"] = out["account_id"].cast(pl.Categorical)
    for d in layout.dimensions:
        if d not in unused:
            out[d] = pl.col(_temp(d, header=True))
    frame = _aligned(columns, [c for e in out.values() for c in e.meta.root_names()])
    frame = frame.select(*(e.alias(k) for k, e in out.items()))
    # the full parser's line numbers (``Int64``): the file has no row problem, so row i is line i + 2
    frame = frame.with_columns(pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(LINE))
    return PlainRead(frame, layout, Source(path, digest[0], frame.height))
