"""Dated FX: a rates file, the rate in force on a day, and the ledger restated at
each period's rates (SPEC §2.2 and §4; docs/definitions.md, "Dated rates").

Rules, stated once here and followed everywhere:

* A rates file has one row per ``date, currency, rate`` (reporting-currency
  units per one unit of the currency). A rate applies from its date (inclusive)
  until the day before the currency's next row; before a currency's first row
  there is no rate, and needing one there is an error that names the currency
  and the day. The reporting currency is always 1.
* ``rate_date: period_end`` (the default): an account's ARR at the end of each
  fiscal month is its ARR in its own currency times the rate in force on that
  month's last day, rounded half away from zero to the cent. ``constant: true``
  uses one day's rates (``constant_at``, default the last month's end) for every
  month instead.
* The bridge then separates the move in rates from the business: for a step
  from ARR ``A`` (own currency) at the end of period p−1 to ``B`` at the end of
  p, with ``r0``, ``r1`` the rates at those ends, ``a = round(A·r0)`` is the
  start ARR, ``b = round(B·r1)`` the end ARR and ``a' = round(A·r1)`` the start
  restated at the end's rates. ``fx_impact_arr = a' − a``, and the account's
  movement (new, expansion, …) is classified from ``a'`` to ``b``: constant
  currency at the period's closing rates. So ``start + fx_impact + new +
  reactivation + expansion − contraction − churn = end`` exactly, a churn
  removes ``a'`` (what the account was worth at today's rates) and a rate move
  alone is never expansion or contraction. (An account with ARR keeps at least
  one cent when restated, so a tiny balance never reads as churn and return.)
* ``rate_date: service_start``: each row is converted once, at the rates of its
  own date (a snapshot's date, a subscription's start), so its value in the
  reporting currency never moves afterwards and there is no FX impact.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import polars as pl

from retention_cli.bounds import MAX_TOTAL_CENTS, cents_text
from retention_cli.errors import InputError, Problem

if TYPE_CHECKING:
    from retention_cli.config import Fx

FX_IMPACT = "fx_impact_arr"
"""The bridge key of the FX impact (SPEC §12.1)."""

RATE = pl.Decimal(38, 12)
"""Rates are exact decimals with up to 12 places."""

MAX_RATE = Decimal(10) ** 6
"""The largest rate accepted: every product ``cents × rate`` then fits a Decimal(38)."""

_REQUIRED = ("date", "currency", "rate")


@dataclass(frozen=True)
class LedgerFx:
    """What a restated ledger keeps to split a period's change into FX and movements.

    Attributes
    ----------
    local
        ``account_id, period, local``: the account's ARR at the end of each fiscal
        month in its own currency (integer cents), the same rows as the ledger.
    currency
        ``account_id, currency``: each account's one currency.
    rates
        ``currency, period, rate``: the rate used at the end of each fiscal month.
    """

    local: pl.DataFrame
    currency: pl.DataFrame
    rates: pl.DataFrame
    parent: pl.DataFrame | None = None
    """With a roll-up (:mod:`retention_cli.rollup`): ``child, account_id``, each code
    of ``local`` and ``currency`` → the ledger's (parent) code."""


def account_currency(frame: pl.DataFrame, codes: pl.Series, path: str) -> pl.DataFrame:
    """``account_id, currency``: the one currency of each account of a loaded frame
    (its ``_currency`` column; blank is the reporting currency, read as ``None``
    here and filled by the caller). Restating needs one currency per account."""
    per = (
        frame.select(pl.col("account_id").cast(pl.String).alias("_name"), "_currency")
        .with_columns(account_id=codes)
        .group_by("account_id", "_name")
        .agg(pl.col("_currency").drop_nulls().unique().sort().alias("_all"))
    )
    mixed = per.filter(pl.col("_all").list.len() > 1).sort("_name")
    if mixed.height:
        raise InputError(
            path,
            [
                Problem(f"account {name!r} has amounts in {', '.join(all_)}")
                for name, all_ in mixed.select("_name", "_all").head(20).rows()
            ],
            total=mixed.height,
            hint="dated fx restates each account's ARR in its one currency: give each account "
            "one currency",
        )
    return per.select("account_id", currency=pl.col("_all").list.first())


def read_rates(fx: Fx) -> pl.DataFrame:
    """The rates file of ``fx`` as ``currency, date, rate`` (Date, Decimal), sorted.

    Raises an :class:`InputError` naming the line of every bad row: a date that
    is not ``YYYY-MM-DD``, a code that is not three letters, a rate that is not a
    positive number, a (date, currency) given twice, or a reporting-currency
    rate other than 1.
    """
    path = fx.rates_path()
    name = str(path)
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except FileNotFoundError:
        raise InputError(
            name, [Problem("the fx rates file does not exist")], hint="check fx.rates_file"
        ) from None
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(name, [Problem(f"cannot read the fx rates file ({exc})")]) from None
    found = {c.strip().lower(): c for c in raw.columns}
    missing = [c for c in _REQUIRED if c not in found]
    if missing:
        raise InputError(
            name,
            [Problem(f"missing column(s): {', '.join(missing)}", line=1)],
            hint="a rates file has the columns date, currency, rate",
        )
    frame = raw.select(
        pl.int_range(2, raw.height + 2, dtype=pl.Int64).alias("_line"),
        pl.col(found["date"]).str.strip_chars().alias("_date"),
        pl.col(found["currency"]).str.strip_chars().str.to_uppercase().alias("currency"),
        pl.col(found["rate"]).str.strip_chars().alias("_rate"),
    ).with_columns(date=pl.col("_date").str.to_date("%Y-%m-%d", strict=False))
    plain = pl.col("_rate").str.contains(r"^\d+(?:\.\d{1,12})?$")  # exact, never rounded
    rate = pl.when(plain).then(pl.col("_rate").cast(RATE, strict=False))
    frame = frame.with_columns(rate=rate)
    checks = {
        "date": (pl.col("date").is_null(), "not a YYYY-MM-DD date", "_date"),
        "currency": (
            ~pl.col("currency").fill_null("").str.contains(r"^[A-Z]{3}$"),
            "not a 3-letter currency code",
            "currency",
        ),
        "rate": (
            pl.col("rate").is_null()
            | (pl.col("rate") <= 0)
            | (pl.col("rate") > pl.lit(MAX_RATE).cast(RATE)),
            f"not a positive number up to {MAX_RATE:,} with at most 12 decimals",
            "_rate",
        ),
    }
    bad = frame.select(
        "_line",
        *(pl.when(test).then(pl.col(value)).alias(col) for col, (test, _, value) in checks.items()),
        _unit=(pl.col("currency") == fx.reporting_currency) & (pl.col("rate") != 1),
    )
    problems = [
        Problem(message, line, col, value)
        for col, (_, message, _) in checks.items()
        for line, value in bad.filter(pl.col(col).is_not_null())
        .select("_line", col)
        .head(20)
        .rows()
    ]
    problems += [
        Problem(f"the reporting currency {fx.reporting_currency} is always 1", line, "rate")
        for (line,) in bad.filter(pl.col("_unit")).select("_line").head(20).rows()
    ]
    if not problems:
        twice = frame.filter(pl.struct("currency", "date").is_duplicated())
        problems += [
            Problem(f"{code} has two rates on {day}", line, "date")
            for line, code, day in twice.select("_line", "currency", "date").iter_rows()
        ]
    if problems:
        raise InputError(name, problems, hint="one row per date and currency: date, currency, rate")
    return frame.select("currency", "date", "rate").sort("currency", "date")


def rates_on(rates: pl.DataFrame, wanted: pl.DataFrame, fx: Fx, *, what: str) -> pl.DataFrame:
    """``wanted`` (``currency``, ``date``, …) with the ``rate`` in force on each date.

    The reporting currency is 1. A currency with no row on or before a wanted
    date is an :class:`InputError` naming the currency and the date; ``what``
    says what the date is (``the end of 2024-01``, ``a row's date``).
    """
    keyed = wanted.with_row_index("_order").sort("currency", "date")
    found = keyed.join_asof(
        rates.rename({"date": "_from"}),
        left_on="date",
        right_on="_from",
        by="currency",
        strategy="backward",
        check_sortedness=False,
    ).with_columns(
        rate=pl.when(pl.col("currency") == fx.reporting_currency)
        .then(pl.lit(1).cast(RATE))
        .otherwise(pl.col("rate"))
    )
    missing = (
        found.filter(pl.col("rate").is_null())
        .group_by("currency")
        .agg(pl.col("date").min())
        .sort("currency")
    )
    if missing.height:
        first = rates.group_by("currency").agg(pl.col("date").min().alias("_first"))
        rows = missing.join(first, on="currency", how="left").sort("currency").iter_rows()
        problems = [
            Problem(
                f"no {code} rate on or before {day} ({what}); "
                + (f"its rates start {since}" if since else "the file has no rate for it")
            )
            for code, day, since in rows
        ]
        raise InputError(
            str(fx.rates_path()), problems, hint="add a rate dated on or before that day"
        )
    return found.sort("_order").drop("_order", "_from")


def convert(cents: pl.Expr, rate: pl.Expr) -> pl.Expr:
    """``cents × rate`` rounded half away from zero to the cent, as Int64; null
    where the result does not fit (the caller reports those rows)."""
    exact = cents.cast(pl.Decimal(38, 0)) * rate.cast(RATE)
    rounded = exact.round(0, mode="half_away_from_zero")
    fits = rounded.abs() <= pl.lit(2**63 - 1).cast(pl.Decimal(38, 0))
    return pl.when(fits).then(rounded).otherwise(None).cast(pl.Int64)


def restate_ledger(
    data: pl.DataFrame,
    currency: pl.DataFrame,
    fx: Fx,
    month_ends: dict[int, dt.date],
    *,
    path: str,
) -> tuple[pl.DataFrame, LedgerFx]:
    """The ledger ``data`` (ARR in each account's own currency) at each month's rates.

    ``currency`` maps ``account_id`` to its currency; ``month_ends`` every fiscal
    month of the ledger to its last day. With
    ``fx.constant`` every month uses the rates of ``fx.constant_at`` (default:
    the last month's end). Raises when a rate is missing, or when ARR converted
    at the highest rate could make a total wrap (the sum guard of
    :mod:`retention_cli.bounds`, applied after conversion).
    """
    rates = read_rates(fx)
    last = max(month_ends)
    fixed = fx.constant_at or month_ends[last] if fx.constant else None
    months = pl.DataFrame(
        {
            "period": list(month_ends),
            "date": [fixed or day for day in month_ends.values()],
        },
        schema={"period": pl.Int32, "date": pl.Date},
    )
    # the rates of the months each currency has an account in
    present = data.select("account_id", "period").join(currency, on="account_id")
    wanted = present.select("currency", "period").unique().join(months, on="period")
    what = (
        f"fx.constant_at {fixed}"
        if fx.constant and fx.constant_at
        else "the rates every month is restated at"
        if fx.constant
        else "a month end"
    )
    table = rates_on(rates, wanted, fx, what=what).select("currency", "period", "rate")
    _check_bound(data, currency, table, path)
    local = data.select("account_id", "period", pl.col("arr").alias("local"))
    converted = (
        data.join(currency, on="account_id", how="left", maintain_order="left")
        .join(table, on=["currency", "period"], how="left", maintain_order="left")
        # an account with ARR keeps at least a cent (it never reads as churned)
        .with_columns(
            arr=pl.when(pl.col("arr") > 0)
            .then(pl.max_horizontal(convert(pl.col("arr"), pl.col("rate")), pl.lit(1, pl.Int64)))
            .otherwise(pl.lit(0, pl.Int64))
        )
        .drop("currency", "rate")
    )
    return converted, LedgerFx(local=local, currency=currency, rates=table)


def _check_bound(
    data: pl.DataFrame, currency: pl.DataFrame, table: pl.DataFrame, path: str
) -> None:
    """Refuse a ledger whose ARR, each at its currency's highest rate, could add up to
    more than :data:`~retention_cli.bounds.MAX_TOTAL_CENTS` (then a total could wrap)."""
    top = table.group_by("currency").agg(pl.col("rate").max())
    per = (
        data.join(currency, on="account_id")
        .group_by("currency")
        .agg(pl.col("arr").abs().cast(pl.Int128).sum().alias("cents"))
        .join(top, on="currency")
    )
    bound = sum(
        (Decimal(cents) * Decimal(str(rate)) for _, cents, rate in per.iter_rows()), Decimal(0)
    )
    if bound > MAX_TOTAL_CENTS:
        raise InputError(
            path,
            [
                Problem(
                    "the ARR of every month converted at the highest rate of its currency adds "
                    f"up to {cents_text(int(bound))}, more than the "
                    f"{cents_text(MAX_TOTAL_CENTS)} a total can hold exactly"
                )
            ],
            hint="check the amounts and the fx rates file",
        )


def with_restated_start(steps: pl.LazyFrame, fxl: LedgerFx) -> pl.LazyFrame:
    """``steps`` (``account_id``, ``_from``, ``_to``, …) with ``_ar``: the account's ARR
    at the end of ``_from`` restated at the rates of ``_to`` (0 where it had none),
    at least one cent where it had some. A rolled-up account's is the sum of its
    children's, each restated in its own currency."""
    if fxl.parent is None:
        members = fxl.currency.lazy().select("account_id", pl.col("account_id").alias("child"))
    else:
        members = fxl.parent.lazy()
    local = fxl.local.lazy().select(
        pl.col("account_id").alias("child"), pl.col("period").alias("_from"), "local"
    )
    currency = fxl.currency.lazy().select(pl.col("account_id").alias("child"), "currency")
    rates = fxl.rates.lazy().select("currency", pl.col("period").alias("_to"), "rate")
    restated = convert(pl.col("local"), pl.col("rate"))
    per = (
        steps.select("account_id", "_from", "_to")
        .unique()
        .join(members, on="account_id")
        .join(local, on=["child", "_from"])
        .join(currency, on="child")
        .join(rates, on=["currency", "_to"], how="left")
        .with_columns(
            _ar=pl.when(pl.col("local") > 0)
            .then(pl.max_horizontal(restated, pl.lit(1, pl.Int64)))
            .otherwise(pl.lit(0, pl.Int64))
        )
        .group_by("account_id", "_from", "_to")
        .agg(pl.col("_ar").sum())
    )
    return steps.join(per, on=["account_id", "_from", "_to"], how="left").with_columns(
        pl.col("_ar").fill_null(0)
    )
