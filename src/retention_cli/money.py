"""Exact money helpers that are not parsing: amounts are ``Int64`` cents throughout."""

from __future__ import annotations

import polars as pl


def cents_text(expr: pl.Expr) -> pl.Expr:
    """Exact ``1234.50`` text from integer cents (null stays null)."""
    sign = pl.when(expr < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    a = expr.abs()
    return pl.format("{}{}.{}", sign, a // 100, (a % 100).cast(pl.String).str.zfill(2))
