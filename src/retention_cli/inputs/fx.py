"""Currency conversion to the reporting currency, exact to the cent."""

from __future__ import annotations

import polars as pl

from retention_cli.config import Fx
from retention_cli.errors import InputError, Problem
from retention_cli.inputs.read import LINE
from retention_cli.options import Shape


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
    rate = pl.col("_currency").replace_strict(fx.rate_text(), default=None).cast(pl.Decimal(38, 12))

    def convert(cents: pl.Expr) -> pl.Expr:
        exact = cents.cast(pl.Decimal(38, 0)) * rate
        return exact.round(0, mode="half_away_from_zero").cast(pl.Int64)

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
        converted = convert(running)
        df = order.with_columns(
            amount=converted - converted.shift(1).over("account_id").fill_null(0)
        )
    else:
        df = df.with_columns(arr=convert(pl.col("arr")))
    others = [c for c in currencies if c != fx.reporting_currency]
    if others:
        warnings.append(
            f"converted {', '.join(others)} to {fx.reporting_currency} with the config's fx rates"
        )
    return df.drop("_currency"), warnings
