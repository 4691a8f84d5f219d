"""Churn: period rates from the bridge, window rates from retention (SPEC §5)."""

from __future__ import annotations

import polars as pl

from retention_cli.metrics.frames import order_rows, ratio

CHURN_KEYS = (
    "start_logos",
    "churned_logos",
    "start_arr",
    "contraction_arr",
    "churned_arr",
    "period_logo_churn_rate",
    "period_gross_revenue_churn",
    "period_net_revenue_churn",
    "window_start",
    "cohort_logos",
    "logo_churn_rate",
    "gross_revenue_churn",
    "net_revenue_churn",
)


def churn(
    bridge: pl.DataFrame, retention: pl.DataFrame, *, by: list[str] | None = None
) -> pl.DataFrame:
    """Logo and revenue churn per period, from a bridge and a retention frame.

    Notes
    -----
    Period rates (the reported period itself): ``period_logo_churn_rate`` =
    churned_logos / start_logos; ``period_gross_revenue_churn`` = (contraction
    + churn) / start_arr; ``period_net_revenue_churn`` = (contraction + churn -
    expansion - reactivation) / start_arr. Window rates (trailing window):
    ``logo_churn_rate`` = 1 - logo retention, ``gross_revenue_churn`` = 1 -
    GRR, ``net_revenue_churn`` = 1 - NRR. Null where the denominator is zero
    or unknown.

    Examples
    --------
    >>> import polars as pl
    >>> from retention_cli import bridge, build_ledger, load, retention
    >>> ledger = build_ledger(load("examples/tiny_movements.csv"))
    >>> c = churn(bridge(ledger), retention(ledger))
    >>> c.filter(pl.col("period") == "2025-11").select(
    ...     "start_logos", "churned_logos", "period_logo_churn_rate", "period_gross_revenue_churn"
    ... ).row(0)
    (5, 1, 0.2, 0.0684931506849315)

    In 2025-11 D (500.00) leaves five paying accounts holding 7,300.00:
    1 / 5 logos and 500 / 7,300 of ARR.
    """
    by = list(by or [])
    keys = ["period", "start", "end", *by]
    rates = bridge.with_columns(
        period_logo_churn_rate=ratio("churned_logos", "start_logos"),
        period_gross_revenue_churn=ratio(
            pl.col("contraction_arr") + pl.col("churned_arr"), "start_arr"
        ),
        period_net_revenue_churn=ratio(
            pl.col("contraction_arr")
            + pl.col("churned_arr")
            - pl.col("expansion_arr")
            - pl.col("reactivation_arr"),
            "start_arr",
        ),
    )
    window = retention.select(
        *keys,
        "window_start",
        "cohort_logos",
        "logo_churn_rate",
        "gross_revenue_churn",
        "net_revenue_churn",
    )
    out = rates.join(window, on=keys, how="full", coalesce=True, nulls_equal=True)
    periods = bridge.select("period").unique(maintain_order=True)
    return order_rows(out, periods, by).select(*keys, *CHURN_KEYS)
