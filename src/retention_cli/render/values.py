"""Value conversion shared by the renderers: cents, ratios, dates, safe text."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from typing import Any

import polars as pl

from retention_cli.keys import Kind, spec_for
from retention_cli.money import cents_text
from retention_cli.result import Result
from retention_cli.text import VISIBLE, visible

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_text(expr: pl.Expr) -> pl.Expr:
    """Neutralise spreadsheet formulas in input text (OWASP CSV injection): a value
    starting with ``= + - @``, tab or CR gets a leading apostrophe."""
    bad = expr.str.starts_with(FORMULA_PREFIXES[0])
    for prefix in FORMULA_PREFIXES[1:]:
        bad = bad | expr.str.starts_with(prefix)
    return pl.when(bad).then(pl.lit("'") + expr).otherwise(expr)


def safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text column of ``frame`` through :func:`safe_text`, except plain numbers
    (``-100``, ``+1,234.50`` cannot be formulas): for the rejected rows as read."""
    number = r"^[+-]?[0-9][0-9.,]*$"
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(number)).then(pl.col(c)).otherwise(safe_text(pl.col(c)))
        for c, t in frame.schema.items()
        if t == pl.String
    )


def visible_expr(expr: pl.Expr) -> pl.Expr:
    """:func:`visible` for a whole String column (one pass; nulls stay null)."""
    return expr.str.replace_many(list(VISIBLE), list(VISIBLE.values()))


def visible_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with :func:`visible` applied to every String column."""
    return frame.with_columns(visible_expr(pl.col(pl.String)))


def visible_result(result: Result) -> Result:
    """``result`` ready for a human format.

    Its String columns, title, caption, notes and warnings show control
    characters as visible escapes.
    """
    return replace(
        result,
        frame=visible_frame(result.frame),
        title=visible(result.title),
        caption=visible(result.caption),
        notes=tuple(map(visible, result.notes)),
        warnings=tuple(map(visible, result.warnings)),
    )


MARKDOWN_ESCAPES = str.maketrans({"|": "\\|", "<": "&lt;", ">": "&gt;"})
_ENTITY = re.compile(r"&(?=#?\w+;)")


def markdown_text(text: str) -> str:
    r"""``text`` safe inside a Markdown table row or line.

    Control characters are visible escapes, ``|`` is escaped, and ``<``, ``>``
    (raw HTML) and an ``&`` that would start a character reference become HTML
    entities. Other Markdown (emphasis, links) is left as written.

    Examples
    --------
    >>> markdown_text("<img src=x> A|B &amp; S&M\r\n")
    '&lt;img src=x&gt; A\\|B &amp;amp; S&M\\r\\n'
    """
    return _ENTITY.sub("&amp;", visible(text)).translate(MARKDOWN_ESCAPES)


def output_frame(result: Result) -> pl.DataFrame:
    """The result's output columns with money in currency units (Float64, exact to
    the cent when printed shortest) and dates as ISO text."""
    exprs = []
    for col in result.columns:
        if spec_for(col).kind is Kind.money:
            # via exact text: Polars' float division is not correctly rounded, and
            # 229404.55 must print as 229404.55, not 229404.55000000002
            exprs.append(cents_text(pl.col(col)).cast(pl.Float64).alias(col))
        elif result.frame.schema[col] == pl.Date:
            exprs.append(pl.col(col).dt.to_string("%Y-%m-%d").alias(col))
        else:
            exprs.append(pl.col(col))
    return result.frame.select(exprs)


def rows(result: Result) -> list[dict[str, Any]]:
    """Output rows as plain Python values (for JSON)."""
    return output_frame(result).to_dicts()


def is_ratio(key: str) -> bool:
    """True for fraction-valued keys (its :class:`~retention_cli.keys.KeySpec` kind)."""
    return spec_for(key).kind is Kind.ratio


def is_factor(key: str) -> bool:
    """True for plain multiples (quick ratio, LTV:CAC) and month counts (CAC payback)."""
    return spec_for(key).kind is Kind.factor


def is_money(key: str) -> bool:
    """True for money-valued keys."""
    return spec_for(key).kind is Kind.money


HEAT_STOPS = ((0.5, (178, 34, 34)), (0.8, (204, 170, 0)), (1.0, (46, 139, 87)), (1.3, (0, 90, 50)))


def heat_rgb(value: float) -> tuple[int, int, int]:
    """Heat-map colour of a ratio: red at 50% or less, through yellow at 80%, to
    green at 100%, deeper green above (the value is always printed too)."""
    if value <= HEAT_STOPS[0][0]:
        return HEAT_STOPS[0][1]
    for (x0, c0), (x1, c1) in itertools.pairwise(HEAT_STOPS):
        if x0 <= value <= x1:
            t = (value - x0) / (x1 - x0)
            r, g, b = (round(a + (b - a) * t) for a, b in zip(c0, c1, strict=True))
            return (r, g, b)
    return HEAT_STOPS[-1][1]
