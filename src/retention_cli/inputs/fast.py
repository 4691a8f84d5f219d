"""The one-pass reader for plain files: the common case, streamed.

A CSV or Parquet file on disk whose values are all plain (``YYYY-MM-DD``
dates, ``-?digits[.dd]`` amounts, no blanks) is read in one streaming pass,
with the same :class:`~retention_cli.inputs.columns.Layout` and the same row
checks (:data:`~retention_cli.inputs.checks.ROW_CHECKS`) as the full parser.
Anything else returns ``None`` and the full parser reads the file again and
reports each problem: a value that is not plain, a row any check flags, a
column kind in :data:`FALLBACK_KINDS`, or a file Polars cannot scan.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
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
) -> PlainRead | None:
    """Read a plain file in one streaming pass, or ``None`` for the full parser.

    The frame is what :func:`retention_cli.inputs.parse_table` gives before its
    frame-level checks, with account ids and dimensions as ``Categorical``.
    """
    if path == "-":
        return None
    p = Path(path)
    lower = path.lower()
    if lower.endswith((".xlsx", ".xlsm", ".gz")) or not p.is_file():
        return None
    try:
        if lower.endswith(".parquet"):
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
    if LINE in headers or any(
        f.kind not in PLAIN_PARSERS or f.canonical in RULE_COLUMNS for f in layout.fields
    ):
        return None  # a rule column (line items, interval, status, ...): the full parser
    parsed = {
        f.canonical: PLAIN_PARSERS[f.kind](pl.col(f.header), multiplier_of(f.canonical))
        for f in layout.fields
    }
    row = Row(
        values={c: v.value for c, v in parsed.items()},
        blanks={c: v.blank for c, v in parsed.items()},
        oks={c: pl.lit(True) for c in parsed},  # plain money is well formed
    )
    suspect = [v.odd for v in parsed.values() if v.odd is not None]
    suspect += [cond for _, _, cond in row_checks(layout.fields, row)]
    # a row missing its last field(s) reads as blank there: the full parser counts its fields
    suspect.append(is_blank(pl.col(headers[-1])))
    out = canonical_exprs(layout.fields, row.values)
    out["account_id"] = out["account_id"].cast(pl.Categorical)
    for d in layout.dimensions:
        out[d] = pl.col(d).str.strip_chars().cast(pl.Categorical)
    query = lf.with_row_index(LINE, offset=2).select(
        *(e.alias(k) for k, e in out.items()),
        pl.col(LINE).cast(pl.Int64),
        pl.any_horizontal(suspect).alias("_suspect"),
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
    return PlainRead(frame.drop("_suspect"), layout, Source(path, digest[0], frame.height))
