"""Parsing values: dates and exact money (SPEC §2.2), as Polars expressions.

Every function here turns text into a typed value or null; saying what is wrong
with a value is the job of :mod:`retention_cli.inputs.checks`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from retention_cli.inputs.columns import Field

MOVEMENT_TYPES = ("new", "expansion", "contraction", "churn", "reactivation")
ADDING_TYPES = ("new", "expansion", "reactivation")
"""The movement types that add ARR (their amount is positive)."""

_TIME = r"(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]+)?)?"
"""A time of day: ``H:MM`` or ``HH:MM[:SS[.fff]]``, hours 0-23 (``24:00`` is the next
day, so it is not a time of this date)."""
_OFFSET = r"(?:Z|[+-](?:0[0-9]|1[0-4]):?[0-5][0-9])"
_ISO_DAY = rf"^(\d{{4}}-\d{{2}}-\d{{2}})(?:[T ]{_TIME}{_OFFSET}?)?$"
_UTC_OFFSET = (
    r"^\d{4}-\d{2}-\d{2}[T ]([01]?[0-9]|2[0-3]):([0-5][0-9])(?::[0-5][0-9](?:\.[0-9]+)?)?"
    r"([+-])(0[0-9]|1[0-4]):?([0-5][0-9])$"
)
_ISO_MONTH = r"^(\d{4}-\d{2})$"
PLAIN_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
"""Plain ISO day text: what the fast paths parse with an exact cast."""
PLAIN_MONEY = r"^-?[0-9]{1,15}(?:\.[0-9]{1,2})?$"
"""Plain amount text (``-digits[.d[d]]``): what an exact decimal cast parses."""
_CURRENCY = r"^(?:[A-Z]{3}\s*)?[$€£¥]?\s*|\s*(?:[$€£¥]|\s[A-Z]{3})$"
_SYMBOLS = r"[$€£¥]"
_MARKER = r"(?:[$€£¥]|[A-Z]{3})"
_TWO_MARKERS = f"{_MARKER}.*{_MARKER}"
"""Two currency markers (symbols or three-letter codes) anywhere in one text: one
regex pass (counting each kind took four times as long on a 960k-row file)."""
_NUMBER = r"^(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?:\.[0-9]*)?$"


def parse_date(col: pl.Expr, *, date_format: str | None = None) -> pl.Expr:
    """Expression: ``Date`` from ISO ``YYYY-MM-DD``, ``YYYY-MM`` (first day) or an ISO
    datetime (its date part); null where the text is not one of those."""
    s = col.str.strip_chars()
    if date_format is not None:
        return pl.coalesce(
            s.str.to_date(date_format, strict=False),
            s.str.to_datetime(date_format, strict=False).dt.date(),
        )
    day = s.str.extract(_ISO_DAY, 1).str.to_date("%Y-%m-%d", strict=False)
    month = (s.str.extract(_ISO_MONTH, 1) + "-01").str.to_date("%Y-%m-%d", strict=False)
    return pl.coalesce(day, month)


def utc_day_shift(col: pl.Expr) -> pl.Expr:
    """Days (-1, 0 or 1) from an ISO datetime's written date to its date in UTC, by its
    numeric UTC offset (``2024-01-31T23:30:00-05:00`` is Feb 1 in UTC: 1); null when the
    text carries no such offset (a plain date, ``Z``, or no offset)."""
    s = col.str.strip_chars()
    hour, minute, sign, off_h, off_m = (
        s.str.extract(_UTC_OFFSET, i).cast(pl.Int32, strict=False) if i != 3 else
        s.str.extract(_UTC_OFFSET, i)
        for i in range(1, 6)
    )  # fmt: skip
    offset = off_h * 60 + off_m
    utc = hour * 60 + minute - pl.when(sign == "-").then(-offset).otherwise(offset)
    return utc // (24 * 60)


def plain_date(col: pl.Expr) -> pl.Expr:
    """``Date`` from ``YYYY-MM-DD`` text (null where it is not a real date)."""
    return col.str.to_date("%Y-%m-%d", strict=False)


def plain_cents(col: pl.Expr, multiplier: int = 1) -> pl.Expr:
    """Integer cents × ``multiplier`` from ``-?digits[.d[d]]`` text, by an exact decimal
    cast (null when out of range). Only for text known to be plain: the cast would
    truncate a third decimal and accept ``1e3``."""
    return (col.cast(pl.Decimal(18, 2), strict=False) * (100 * multiplier)).cast(
        pl.Int64, strict=False
    )


CURRENCY_SYMBOLS: dict[str, tuple[str, ...]] = {
    "$": ("USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"),
    "€": ("EUR",),
    "£": ("GBP",),
    "¥": ("JPY", "CNY"),
}
"""The currencies each symbol a money text may carry stands for: a marker agrees with
a currency when it is that code or one of its symbols (``$`` with USD, CAD, …)."""

MARKER_PAIRS: tuple[str, ...] = tuple(
    f"{sym}|{code}" for sym, codes in CURRENCY_SYMBOLS.items() for code in codes
)
"""``symbol|CODE`` for every symbol and a currency it agrees with."""

_FRACTION_DIGITS = 36
"""Digits past the cent read exactly (as a 128-bit integer) when rounding to the cent."""


def _unwrapped(col: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(text without its accounting parentheses, had parentheses) of a money text."""
    s = col.str.strip_chars()
    paren = s.str.contains(r"^\(.*\)$")
    s = pl.when(paren).then(s.str.slice(1, s.str.len_chars() - 2).str.strip_chars()).otherwise(s)
    return s, paren


SEVERAL_MARKERS = "several"
"""The marker of a money text that carries more than one (``$€100``): no currency."""


def several_markers(col: pl.Expr) -> pl.Expr:
    """True where a money text carries more than one currency marker (``$€100``,
    ``USD EUR 100``, ``€100 $``, ``USD $100``): which currency it is in cannot be read
    (null where the text is null)."""
    return col.str.contains(_TWO_MARKERS)


def _money_parts(col: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(digits text, is_negative, well_formed, currency marker) of a money text.

    The marker is the three-letter code or the symbol the text carries, null when
    none; a text with more than one (:func:`several_markers`) is not well formed and
    its marker is :data:`SEVERAL_MARKERS`.
    """
    s, paren = _unwrapped(col)
    several = several_markers(col).fill_null(False)
    code = pl.coalesce(s.str.extract(r"^[+-]?\s*([A-Z]{3})", 1), s.str.extract(r"\s([A-Z]{3})$", 1))
    marker = pl.when(several).then(pl.lit(SEVERAL_MARKERS))
    marker = marker.otherwise(pl.coalesce(code, s.str.extract(f"({_SYMBOLS})", 1)))
    s = s.str.replace_all(_CURRENCY, "")
    sign = s.str.extract(r"^([+-])", 1)
    s = s.str.replace(r"^[+-]\s*", "").str.replace_all(_CURRENCY, "")
    neg = (sign == "-").fill_null(False) ^ paren
    ok = (
        s.str.contains(_NUMBER)
        & s.str.contains(r"[0-9]")
        & ~(paren & sign.is_not_null())
        & ~several
    )
    return s.str.replace_all(",", ""), neg, ok, marker


def exact_cents(digits: pl.Expr, multiplier: int = 1) -> tuple[pl.Expr, pl.Expr]:
    """``(cents, rounded)`` from unsigned decimal text such as ``1234.5678``, rounded once.

    The amount times ``multiplier`` is rounded half away from zero to the cent
    straight from the text (never through a shorter decimal first), in 128-bit
    integers: ``10.0049999999`` is 10.00. ``cents`` is ``Int64`` (null when out of
    range); ``rounded`` says the rounding changed the value. Exact for up to
    38 decimals.
    """
    whole = digits.str.extract(r"^([0-9]*)", 1).str.pad_start(1, "0")
    fraction = digits.str.extract(r"\.([0-9]*)$", 1).fill_null("")
    first = fraction.str.slice(0, 2).str.pad_end(2, "0")
    rest = fraction.str.slice(2)
    n = _FRACTION_DIGITS
    tail = rest.str.slice(0, n).str.pad_end(n, "0").cast(pl.Int128, strict=False) * multiplier
    scale = pl.lit(10**n, dtype=pl.Int128)
    base = (whole.cast(pl.Int128, strict=False) * 100 + first.cast(pl.Int128)) * multiplier
    cents = base + (2 * tail + scale) // (2 * scale)
    rounded = (tail % scale != 0) | rest.str.slice(n).str.contains("[1-9]")
    return cents.cast(pl.Int64, strict=False), rounded


def all_match(raw: pl.DataFrame, col: str, pattern: str) -> bool:
    """True when every (non-null) value of ``col`` matches ``pattern`` (one cheap pass)."""
    if raw.height == 0:
        return False
    return bool(raw.select(pl.col(col).str.contains(pattern).all()).item())


DECIMAL_COMMA = (
    r"^[^0-9]*[0-9]{1,3}(?:\.[0-9]{3})*,[0-9]{1,2}[^0-9]*$|^[^0-9.]*[0-9]+,[0-9]{1,2}[^0-9]*$"
)
"""Money text written with a decimal comma (``1.234,56``, ``12,5``): read only with
``decimal: comma``, else an error that says so."""


def comma_to_point(col: pl.Expr) -> pl.Expr:
    """Decimal-comma money text (``1.234,56``) as decimal-point text (``1,234.56``)."""
    return col.str.replace_many([".", ","], [",", "."])


def money_stages(
    col: pl.Expr,
    name: str,
    *,
    multiplier: int = 1,
    plain: bool = False,
    decimal_comma: bool = False,
) -> list[dict[str, pl.Expr]]:
    """Exact money parsing (SPEC §2.2) as successive ``with_columns`` passes.

    Each pass only reads columns made by earlier ones, so every value is parsed
    once. The last pass makes ``{name}`` (the amount times ``multiplier`` in
    integer cents, ``Int64``, rounded once half away from zero by
    :func:`exact_cents`; null when unparsable or out of range), ``{name}_ok``
    (well formed) and ``{name}_rounded`` (the rounding changed the value:
    sub-cent input); the first makes ``{name}_marker`` (the currency code or
    symbol the text carries, or null).

    ``plain=True`` says every value is ``-?digits[.d[d]]`` (see
    :func:`all_match`): then an exact decimal cast does it in one pass.
    ``decimal_comma=True`` reads ``1.234,56`` as 1234.56 (``.`` groups thousands).
    """
    if plain:
        cents = plain_cents(col, multiplier)
        return [
            {name: cents, f"{name}_ok": pl.lit(True), f"{name}_rounded": pl.lit(False)},
            {},
            {},
            {},
        ]
    digits, neg, ok, marker = _money_parts(comma_to_point(col) if decimal_comma else col)
    d, n, k = (f"{name}_{x}" for x in ("digits", "neg", "ok"))
    cents, rounded = exact_cents(pl.col(d), multiplier)
    return [
        {d: digits, n: neg, k: ok, f"{name}_marker": marker},
        {f"{name}_abs": cents, f"{name}_inexact": rounded},
        {},
        {
            name: pl.when(pl.col(k)).then(
                pl.when(pl.col(n)).then(-pl.col(f"{name}_abs")).otherwise(pl.col(f"{name}_abs"))
            ),
            f"{name}_rounded": pl.col(k) & pl.col(f"{name}_inexact").fill_null(False),
        },
    ]


def money_cents(col: pl.Expr, *, multiplier: int = 1) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Single-expression form of :func:`money_stages`: ``(cents, well_formed, rounded)``."""
    digits, neg, ok, _ = _money_parts(col)
    cents, inexact = exact_cents(digits, multiplier)
    cents = pl.when(ok).then(pl.when(neg).then(-cents).otherwise(cents))
    rounded = ok & inexact.fill_null(False)
    return cents, ok, rounded


def signed_amount(kind: pl.Expr, amount: pl.Expr) -> pl.Expr:
    """A movement's signed cents: positive for the types that add ARR, negative otherwise."""
    return pl.when(kind.is_in(ADDING_TYPES)).then(amount).otherwise(-amount.abs())


def signed_line(kind: pl.Expr, arr: pl.Expr) -> pl.Expr:
    """A contract line's signed ARR: a contraction or churn line (e.g. a downgrade
    opportunity) subtracts its amount; every other line, blank type included, adds it."""
    return pl.when(kind.is_in(["contraction", "churn"])).then(-arr.abs()).otherwise(arr)


def value_name(multiplier: int) -> str:
    """Canonical name of the value column (``arr``, or ``mrr`` when it is ×12)."""
    return "mrr" if multiplier == 12 else "arr"


def multiplier_of(canonical: str) -> int:
    """What a value column's amounts are multiplied by to give ARR (12 for ``mrr``)."""
    return 12 if canonical == "mrr" else 1


def canonical_exprs(fields: Sequence[Field], values: Mapping[str, pl.Expr]) -> dict[str, pl.Expr]:
    """The canonical frame's columns from the parsed ``values`` of ``fields``.

    ``arr`` or ``mrr`` becomes ``arr`` (already ×12 when MRR), a movement's
    ``amount`` is signed by its type (:func:`signed_amount`), and ``currency``
    becomes ``_currency`` (dropped by the conversion).
    """
    out: dict[str, pl.Expr] = {}
    movements = "type" in values and "start_date" not in values
    for f in fields:
        if f.canonical in CONSUMED or (f.canonical == "type" and not movements):
            continue
        name = INTERNAL.get(f.canonical, f.canonical)
        if name == "amount" and not movements:  # a snapshot or subscription's value
            name = "arr"
        out[name] = values[f.canonical]
    if "amount" in out:
        out["amount"] = signed_amount(values["type"], out["amount"])
    return out


INTERNAL = {
    "mrr": "arr", "currency": "_currency", "item_id": "_item_id", "parent_id": "_parent_id",
    "rank": "_rank", "credit": "_credit",
}  # fmt: skip
"""Canonical columns kept in the frame under another name: ``_``-names cannot clash
with a dimension of the same name (a file's own unmapped ``rank`` column)."""

CONSUMED = (
    "quantity", "interval", "interval_count", "status", "trial_end", "canceled_at",
    "period_end", "discount_amount", "discount_percent", "discount_duration",
)  # fmt: skip
"""Rule columns read into the value or the dates (see :mod:`retention_cli.inputs.rules`),
not kept in the canonical frame (``item_id``, ``parent_id`` and ``rank`` are kept, as
``_item_id``, ``_parent_id`` and ``_rank``)."""
