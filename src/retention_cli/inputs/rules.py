"""The reading rules of real exports (issue 14 §2), as Polars expressions.

A :class:`Rules` is what a config (or a preset) says about reading a file:
the amount's unit and minor units, the billing interval, which statuses count,
when a cancellation takes effect, which discounts apply, and how the file's
movement types map to the canonical ones. Plain files need none of it (the
default :class:`Rules` is :attr:`~Rules.plain`) and keep the one-pass reader.

ARR from a price per billing interval is exact: with ``q`` the quantity,
``d`` a discount amount and ``p`` a discount percent,
``ARR = (amount − d) × (1 − p/100) × q × per_year[interval] ÷ interval_count``
is computed as one fraction of integers and rounded once, half away from zero,
to the cent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from retention_cli.defaults import PER_YEAR

if TYPE_CHECKING:
    from retention_cli.config import Config, Statuses

MINOR_UNIT_DIGITS: dict[str, int] = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
         "VND", "VUV", "XAF", "XOF", "XPF"),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}  # fmt: skip
"""ISO 4217 currencies whose minor unit is not the cent (the standard's "minor
unit" column; every other code has 2 digits): zero-decimal ones such as JPY and
KRW are never divided by 100, three-digit ones (KWD) are divided by 1,000."""

_INTERVAL_WORDS = {
    "day": "day", "days": "day", "daily": "day",
    "week": "week", "weeks": "week", "weekly": "week",
    "month": "month", "months": "month", "monthly": "month", "mo": "month",
    "quarter": "quarter", "quarters": "quarter", "quarterly": "quarter",
    "year": "year", "years": "year", "yearly": "year", "annual": "year", "annually": "year",
    "yr": "year",
}  # fmt: skip
_INTERVAL = r"^(?:every\s+)?(?:(\d{1,4})\s*[- ]?\s*)?([a-z]+)$"
MICRO = 1_000_000
"""Quantities and percents are read as exact decimals with 6 places (micro-units)."""
MAX_PRICE_CENTS = 10**15
"""The largest price (in cents) and quantity the interval formula accepts: the
exact fraction then fits in 128-bit integers."""
MAX_QUANTITY = 10**6


@dataclass(frozen=True)
class Rules:
    """The config's reading rules that apply to one file (see :mod:`retention_cli.config`)."""

    unit: str | None = None
    minor_units: bool = False
    interval: str | None = None
    per_year: Mapping[str, int] = field(default_factory=lambda: dict(PER_YEAR))
    statuses: Statuses | None = None
    cancellation: str = "at_request"
    discounts: str = "all"
    movement_types: Mapping[str, str] = field(default_factory=dict)
    combine: str = "error"
    preset: str | None = None
    interval_count: int = 1
    term_end: bool = False
    blank_value: str = "error"

    @classmethod
    def of(cls, config: Config) -> Rules:
        """The rules a config states."""
        return cls(
            unit=config.amount.unit,
            minor_units=config.amount.minor_units,
            interval=config.billing.interval,
            per_year=dict(config.billing.per_year),
            statuses=config.statuses,
            cancellation=config.cancellation,
            discounts=config.discounts,
            movement_types=dict(config.movement_types),
            combine=config.snapshots.combine,
            preset=config.preset,
            interval_count=config.billing.interval_count,
            term_end=config.subscriptions.ends_after_term,
            blank_value=config.amount.blank,
        )

    @property
    def plain(self) -> bool:
        """True when the amounts and types need no rule (the one-pass reader may read)."""
        return (
            self.unit in (None, "arr")
            and not self.minor_units
            and self.interval is None
            and not self.movement_types
            and not self.term_end
        )

    @property
    def amount_is_value(self) -> bool:
        """A snapshot or subscription file may give its value as ``amount``."""
        return self.unit is not None or self.interval is not None


def parse_interval(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(unit, count) of a billing interval text such as ``month``, ``Yearly``,
    ``every 3 months`` or ``3 months``; unit null when unreadable."""
    s = text.str.strip_chars().str.to_lowercase().str.replace_all(r"\s+", " ")
    word = s.str.extract(_INTERVAL, 2)
    unit = word.replace_strict(_INTERVAL_WORDS, default=None, return_dtype=pl.String)
    count = s.str.extract(_INTERVAL, 1).cast(pl.Int64, strict=False).fill_null(1)
    unit = pl.when(count >= 1).then(unit)  # "0 months" is unreadable, never 0 ARR
    return unit, count


def parse_number(text: pl.Expr) -> pl.Expr:
    """An exact decimal (6 places) from ``1234.5`` or ``1,234.5`` text; null when not a
    number or when it has more than 6 decimals."""
    s = text.str.strip_chars().str.replace_all(",", "")
    # at most 6 decimals: a quantity or percent past the micro-unit is refused, never rounded
    ok = s.str.contains(r"^[+-]?(?:\d+\.?\d{0,6}|\.\d{1,6})$")
    return pl.when(ok).then(s.cast(pl.Decimal(38, 6), strict=False))


def parse_integer(text: pl.Expr) -> pl.Expr:
    """A whole number (``Int64``) from text such as ``3`` or ``3.0``; null otherwise."""
    s = text.str.strip_chars().str.replace(r"\.0*$", "")
    return s.cast(pl.Int64, strict=False)


def minor_digits(currency: pl.Expr | None) -> pl.Expr:
    """Digits of each row's currency minor unit (2 unless :data:`MINOR_UNIT_DIGITS` says)."""
    if currency is None:
        return pl.lit(2, dtype=pl.Int64)
    return currency.replace_strict(MINOR_UNIT_DIGITS, default=2, return_dtype=pl.Int64)


def divide_round(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """``num / den`` (integers, ``den > 0``) rounded half away from zero, as ``Int64``."""
    half = ((num.abs() * 2 + den) // (den * 2)).cast(pl.Int64, strict=False)
    return pl.when(num < 0).then(-half).otherwise(half)


def _micro(dec: pl.Expr) -> pl.Expr:
    return dec.cast(pl.Decimal(38, 6)).to_physical().cast(pl.Int128)


def arr_formula(
    price: pl.Expr,
    *,
    rules: Rules,
    unit: pl.Expr | None,
    count: pl.Expr | None,
    quantity: pl.Expr | None,
    discount: pl.Expr | None,
    percent: pl.Expr | None,
    discount_applies: pl.Expr | None,
    currency: pl.Expr | None,
    value_unit: str,
) -> pl.Expr:
    """ARR in cents (``Int64``) from a price's cents as read in major units.

    ``unit``/``count``: the parsed billing interval (``None``: no interval
    column: ``rules.interval``, else ``value_unit``, ``arr`` or ``mrr``).
    With ``rules.minor_units`` the amounts are minor units of each row's
    currency. One exact fraction, rounded once (half away from zero).
    """
    p = price.cast(pl.Int128)
    d = discount.cast(pl.Int128).fill_null(0) if discount is not None else pl.lit(0, pl.Int128)
    if discount_applies is not None:
        d = pl.when(discount_applies).then(d).otherwise(0)
    num = p - d
    den = pl.lit(1, dtype=pl.Int128)
    if rules.minor_units:  # the text was read as major units: divide by 10^digits
        den = den * pl.lit(10, pl.Int128).pow(minor_digits(currency)).cast(pl.Int128)
    if percent is not None:
        pct = _micro(percent).fill_null(0)
        if discount_applies is not None:
            pct = pl.when(discount_applies).then(pct).otherwise(0)
        num = num * (100 * MICRO - pct)
        den = den * (100 * MICRO)
    if quantity is not None:
        num = num * _micro(quantity).fill_null(MICRO)
        den = den * MICRO
    if unit is not None or rules.interval is not None:
        default = rules.per_year[rules.interval] if rules.interval is not None else None
        per_year = (
            unit.replace_strict(dict(rules.per_year), default=default, return_dtype=pl.Int64)
            if unit is not None
            else pl.lit(default, pl.Int64)
        )
        num = num * per_year.cast(pl.Int128)
        if count is not None:
            den = den * count.cast(pl.Int128)
    elif (rules.unit or value_unit) == "mrr":
        num = num * 12
    return divide_round(num, den)


def start_end(
    start: pl.Expr,
    end: pl.Expr,
    *,
    rules: Rules,
    trial_end: pl.Expr | None,
    canceled_at: pl.Expr | None,
    period_end: pl.Expr | None,
) -> tuple[pl.Expr, pl.Expr]:
    """A subscription's counted (start, end): a trial moves the start to its end;
    a cancellation ends it at the request (``at_request``) or at its end date,
    else the current period's end (``at_period_end``)."""
    if trial_end is not None:
        start = pl.max_horizontal(start, trial_end)
    if canceled_at is not None:
        if rules.cancellation == "at_request":
            end = pl.min_horizontal(canceled_at, end)  # nulls ignored: the earlier one given
        elif period_end is not None:
            end = pl.coalesce(end, pl.when(canceled_at.is_not_null()).then(period_end))
    return start, end


FORMULA_COLUMNS = frozenset(
    {"quantity", "interval", "interval_count", "discount_amount", "discount_percent"}
)
"""Rule columns that change the value: ARR then comes from :func:`arr_formula`."""


def check_rules(canon: set[str], rules: Rules) -> None:
    """Refuse rule columns the config gives no rule for (a ConfigError naming the key)."""
    from retention_cli.errors import ConfigError

    if "status" in canon and rules.statuses is None:
        msg = "the file has a status column but the config has no statuses: section"
        raise ConfigError(
            msg, hint="say which statuses count: statuses: {count: [active], exclude: [trialing]}"
        )
    if (
        rules.discounts == "forever_only"
        and canon & {"discount_amount", "discount_percent"}
        and "discount_duration" not in canon
    ):
        msg = "discounts: forever_only needs a discount_duration column (forever, once, repeating)"
        raise ConfigError(msg, hint="map it in columns:, or set discounts: all or none")
    if "interval_count" in canon and "interval" not in canon and rules.interval is None:
        msg = "an interval_count column needs an interval column or billing.interval"
        raise ConfigError(msg, hint="e.g. billing: {interval: month}")


def needs_formula(canon: set[str], rules: Rules) -> bool:
    """Whether the value is computed by :func:`arr_formula` (else parsed as today)."""
    return bool(canon & FORMULA_COLUMNS) or not rules.plain or rules.unit == "mrr"


_OFFSET = {"day": "d", "week": "w", "month": "mo", "quarter": "q", "year": "y"}


def _count(canon: set[str], values: Mapping[str, pl.Expr], rules: Rules) -> pl.Expr | None:
    """Billing intervals per billing period: the interval text's own count (``every 3
    months``) times the interval_count column (blank, or no column: billing.interval_count)."""
    count = pl.col("_interval_n") if "interval" in canon else None
    if "interval_count" in canon:
        ic = values["interval_count"].fill_null(rules.interval_count)
    elif rules.interval_count != 1:
        ic = pl.lit(rules.interval_count, dtype=pl.Int64)
    else:
        return count
    return ic if count is None else count * ic


def term_end(start: pl.Expr, unit: pl.Expr | None, count: pl.Expr | None, rules: Rules) -> pl.Expr:
    """The end of a contract that runs one billing period from ``start``:
    ``count`` intervals of ``unit`` (else billing.interval; one year when neither)."""
    default = rules.interval or "year"
    unit = pl.lit(default) if unit is None else unit.fill_null(pl.lit(default))
    n = pl.lit(1, dtype=pl.Int64) if count is None else count
    offset = pl.concat_str(n.cast(pl.String), unit.replace_strict(_OFFSET, default=None))
    return start.dt.offset_by(offset)


def rule_exprs(
    layout: Any, values: Mapping[str, pl.Expr], rules: Rules, *, formula: bool
) -> dict[str, pl.Expr]:
    """The canonical columns the rules compute: the value (``arr``, or a movement's
    signed ``amount``), a subscription's counted ``start_date`` and ``end_date``,
    and ``_early`` (true where the rules leave it no active day)."""
    from retention_cli.inputs.parse import signed_amount, signed_line

    canon = {f.canonical for f in layout.fields}
    out: dict[str, pl.Expr] = {}
    count = _count(canon, values, rules)
    if formula:
        name = next(f.canonical for f in layout.fields if f.canonical in ("arr", "mrr", "amount"))
        applies = None
        if rules.discounts == "none":
            applies = pl.lit(value=False)
        elif rules.discounts == "forever_only" and "discount_duration" in canon:
            applies = (values["discount_duration"] == "forever").fill_null(value=False)
        arr = arr_formula(
            values[name],
            rules=rules,
            unit=values.get("interval"),
            count=count,
            quantity=values.get("quantity"),
            discount=values.get("discount_amount"),
            percent=values.get("discount_percent"),
            discount_applies=applies,
            currency=values.get("currency"),
            value_unit="mrr" if name == "mrr" else "arr",
        )
        if "type" in values and layout.shape.value == "movements":
            out["amount"] = signed_amount(values["type"], arr)
        elif "type" in values:  # a typed contract line (Layout.of typed)
            out["arr"] = signed_line(values["type"], arr)
        else:
            out["arr"] = arr
    end = values.get("end_date")
    if layout.shape.value == "subscriptions" and rules.term_end:
        end = pl.coalesce(end, term_end(values["start_date"], values.get("interval"), count, rules))
        out["end_date"] = end
    if layout.shape.value == "subscriptions" and canon & {"trial_end", "canceled_at"}:
        start = values["start_date"]
        s2, e2 = start_end(
            start,
            end,
            rules=rules,
            trial_end=values.get("trial_end"),
            canceled_at=values.get("canceled_at"),
            period_end=values.get("period_end"),
        )
        out["start_date"], out["end_date"] = s2, e2
        out["_early"] = (e2 <= s2).fill_null(value=False) & (end != start).fill_null(value=True)
    return out


NOT_A_LABEL = frozenset({"true", "false", "yes", "no"})
"""Status values that say nothing on their own in the accounting line (a boolean column
such as Salesforce's ``IsWon``): they are named with their column."""


def status_label(value: str | None, header: str) -> str:
    """How the accounting line names rows left out for their status: the status when it
    reads as one (``trialing``, ``closed lost``), else with its column (``IsWon false``,
    ``dealstage 1234567``; blank: ``blank Status``, like ``blank hs_arr``)."""
    if value is None or not value.strip():
        return f"blank {header}"
    if value in NOT_A_LABEL or re.fullmatch(r"[^\W\d_][\w .-]+", value) is None:
        return f"{header} {value}"
    return value


def exclude_statuses(
    frame: pl.DataFrame, rules: Rules, layout: Any = None
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Leave out the rows whose status is excluded; their counts by
    :func:`status_label` (``layout`` gives the status column's header)."""
    assert rules.statuses is not None  # check_rules
    st = rules.statuses
    status = pl.col("_status")
    out = status.is_in(list(st.exclude)).fill_null(value=False)
    if st.other == "exclude":
        out = out | ~status.is_in(list(st.count)).fill_null(value=False)
    gone = frame.filter(out)
    if gone.height == 0:
        return frame, {}
    header = "status"
    if layout is not None:
        header = next(f.header for f in layout.fields if f.canonical == "status")
    counts = gone.group_by("_status").len().sort(["len", "_status"], descending=[True, False])
    labels: dict[str, int] = {}
    for value, n in counts.iter_rows():
        label = status_label(value, header)
        labels[label] = labels.get(label, 0) + int(n)
    return frame.filter(~out), labels


def exclude_blank_values(
    frame: pl.DataFrame, layout: Any, rules: Rules
) -> tuple[pl.DataFrame, dict[str, int]]:
    """With ``amount.blank: exclude``, leave out (and count, as ``blank <header>``) the
    snapshot or subscription rows whose value column is blank."""
    if rules.blank_value != "exclude" or layout.shape.value == "movements":
        return frame, {}
    from retention_cli.inputs.checks import is_blank

    field = next(f for f in layout.fields if f.canonical in ("arr", "mrr", "amount"))
    blank = is_blank(pl.col(field.header))
    n = int(frame.select(blank.sum()).item())
    return (frame.filter(~blank), {f"blank {field.header}": n}) if n else (frame, {})


def exclude_ended_early(loaded: Any, *, trial: bool) -> None:
    """Leave out (and count) subscriptions the trial or cancellation rule leaves no
    active day: canceled during the trial, or before the start."""
    frame = loaded.frame
    if "_early" not in frame.columns:
        return
    n = int(frame["_early"].sum())
    frame = frame.filter(~pl.col("_early")).drop("_early")
    loaded.frame = frame
    if n:
        label = "canceled in trial" if trial else "canceled before start"
        loaded.excluded[label] = loaded.excluded.get(label, 0) + n


def sub_month_warning(n: int) -> str:
    """The warning for ``n`` subscriptions that start and end inside one fiscal month
    (not on one day): read and used, but they hold no ARR at any month end."""
    return (
        f"{n:,} subscription(s) start and end inside one month: they hold no ARR at any "
        "month end, so no metric shows their revenue"
    )
