"""Currency conversion to the reporting currency, exact to the cent."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from retention_cli.bounds import cents_text
from retention_cli.errors import InputError, Problem, UsageError
from retention_cli.fx import RATE, rates_on, read_rates
from retention_cli.fx import convert as converted
from retention_cli.inputs.read import LINE
from retention_cli.options import Shape

if TYPE_CHECKING:
    from retention_cli.config import Fx


def convert_currency(
    df: pl.DataFrame, shape: Shape, fx: Fx | None, *, path: str
) -> tuple[pl.DataFrame, list[str]]:
    """Convert money to the reporting currency, exactly, rounding half away from zero.

    ``df`` is a canonical frame with a ``_currency`` column; the result drops
    it, and comes with the warnings to show. Movements convert each account's
    running ARR (so a churn still takes it to exactly zero) and take the
    differences; snapshots and subscriptions convert each row. Without ``fx`` a
    file in one currency is left as it is (several currencies are an error).
    """
    name = path
    warnings: list[str] = []
    currencies = sorted(c for c in df["_currency"].unique().to_list() if c is not None)
    if fx is None:
        if len(currencies) > 1:
            raise InputError(
                name,
                [
                    Problem(
                        f"amounts in {len(currencies)} currencies ({', '.join(currencies)}) "
                        "and no fx rates to convert them"
                    )
                ],
                hint="add an fx section to the config: fx: {reporting_currency: USD, rates: {EUR: 1.08}}",
            )
        if currencies:
            warnings.append(f"all amounts are in {currencies[0]} (no fx section: not converted)")
        return df.drop("_currency"), warnings
    others = [c for c in currencies if c != fx.reporting_currency]
    if fx.restates:
        # converted in the ledger, at each month's rates (retention_cli.fx): keep the
        # currency, blank meaning the reporting currency
        if others:
            when = "one rate set" if fx.constant else "the rates of each month's end"
            warnings.append(
                f"{', '.join(others)} converted to {fx.reporting_currency} at {when} "
                f"from {fx.rates_file}"
            )
        return df, warnings
    if fx.dated:  # rate_date: service_start: each row at the rates of its own date
        if shape is Shape.movements:
            msg = (
                "rate_date: service_start converts snapshots and subscriptions; a movement "
                "log's balances are restated at each month's end (rate_date: period_end)"
            )
            raise UsageError(msg, param="fx", hint="use rate_date: period_end")
        on = "start_date" if shape is Shape.subscriptions else "date"
        wanted = df.select(
            pl.col("_currency").fill_null(fx.reporting_currency).alias("currency"),
            pl.col(on).alias("date"),
        )
        df = df.with_columns(
            _rate=rates_on(read_rates(fx), wanted, fx, what=f"a row's {on}")["rate"]
        )
        rate = pl.col("_rate")
    else:
        rate = pl.col("_currency").replace_strict(fx.rate_text(), default=None).cast(RATE)

    def convert(cents: pl.Expr) -> pl.Expr:
        return converted(cents, rate)

    if shape is Shape.movements:
        mixed = (
            df.group_by("account_id")
            .agg(pl.col("_currency").n_unique())
            .filter(pl.col("_currency") > 1)
        )
        if mixed.height:
            raise InputError(
                name,
                [
                    Problem(f"account {a!r} has movements in more than one currency")
                    for a in mixed["account_id"].head(20).to_list()
                ],
                total=mixed.height,
                hint="give each account's movements in one currency",
            )
        order = df.sort("account_id", "date", LINE)
        running = pl.col("amount").cum_sum().over("account_id")
        balance = convert(running)
        df = order.with_columns(
            amount=balance - balance.shift(1).over("account_id").fill_null(0),
            _before=running,
        )
    else:
        df = df.with_columns(arr=convert(pl.col("arr")), _before=pl.col("arr"))
    _too_large(df, "amount" if shape is Shape.movements else "arr", name)
    df = df.drop("_before", "_rate", strict=False)
    if others:
        warnings.append(
            f"converted {', '.join(others)} to {fx.reporting_currency} with the config's fx rates"
        )
    return df.drop("_currency"), warnings


def _too_large(df: pl.DataFrame, col: str, path: str) -> None:
    """Row problems for amounts whose conversion does not fit in Int64 cents (``col``
    null after conversion where ``_before`` was not): never an internal cast error."""
    bad = df.filter(pl.col(col).is_null() & pl.col("_before").is_not_null()).sort(LINE)
    if bad.height:
        raise InputError(
            path,
            [
                Problem(
                    f"converted at its currency's rate this is too large to hold to the cent "
                    f"(more than {cents_text(2**63 - 1)})",
                    line=line,
                    column=col,
                    value=cents_text(before),
                )
                for line, before in bad.select(LINE, "_before").head(20).rows()
            ],
            total=bad.height,
            hint="check the amount and its currency's rate",
        )
