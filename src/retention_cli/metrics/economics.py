"""Unit economics from the bridge, retention and spend (SPEC §8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from retention_cli.ledger import Ledger
from retention_cli.metrics.bridge import bridge, reporting_periods
from retention_cli.metrics.frames import divide_cents, is_total
from retention_cli.metrics.retention import retention
from retention_cli.options import BridgeMode, Grain, Method
from retention_cli.spend import Spend, spend_by_period

if TYPE_CHECKING:
    from retention_cli.config import Economics, Policies

ECONOMICS_KEYS = (
    "cac",
    "cac_payback_months",
    "ltv",
    "ltv_to_cac",
    "magic_number",
    "burn_multiple",
    "cs_efficiency",
)
NEEDS: dict[str, tuple[str, ...]] = {
    "cac": ("sales_marketing",),
    "cac_payback_months": ("sales_marketing", "gross_margin"),
    "ltv": ("gross_margin",),
    "ltv_to_cac": ("sales_marketing", "gross_margin"),
    "magic_number": ("sales_marketing",),
    "burn_multiple": ("net_burn",),
    "cs_efficiency": ("customer_success",),
}
"""The spend inputs each metric needs; a metric whose input is missing is left out."""
CONTEXT_KEYS = ("new_logos", "new_arr", "net_new_arr", "arpa")
LTV_LIMIT = 2.0**53
"""LTV is a product (ARPA × gross margin × years, up to 100 years) worked in binary
floating point: below 2**53 cents the float still tells every cent apart and the
rounded value fits Int64; above, LTV is null (``too large to compute to the
cent``), never a wrapped number or an error."""
UNKNOWN = "its inputs are unknown (a snapshot file's opening balance)"


def available(
    columns: tuple[str, ...] | list[str], settings: Economics
) -> tuple[list[str], list[str]]:
    """The economics keys computable from spend ``columns`` and the notes for the rest."""
    have = set(columns) | ({"gross_margin"} if settings.gross_margin is not None else set())
    keys, notes = [], []
    for key in ECONOMICS_KEYS:
        missing = [c for c in NEEDS[key] if c not in have]
        if missing:
            what = " and ".join(missing)
            notes.append(f"{key} left out: no {what} in the spend input")
        else:
            keys.append(key)
    return keys, notes


def _why(*pairs: tuple[pl.Expr, str]) -> pl.Expr:
    # the first condition that holds gives the reason
    return pl.coalesce(
        *(pl.when(cond).then(pl.lit(reason)) for cond, reason in pairs), pl.lit(UNKNOWN)
    )


def economics(
    ledger: Ledger,
    spend: Spend | None = None,
    *,
    grain: Grain = Grain.month,
    mode: BridgeMode = BridgeMode.net,
    method: Method = Method.cohort,
    settings: Economics | None = None,
    policies: Policies | None = None,
    by: list[str] | None = None,
) -> pl.DataFrame:
    """Unit economics per reported period (and segment); see :func:`economics_from`.

    ``spend`` comes from :func:`retention_cli.spend.load_spend`; without it only
    LTV can be computed (given ``settings.gross_margin``).

    Examples
    --------
    >>> import polars as pl
    >>> from retention_cli import Economics, ledger_from_frame
    >>> moves = pl.DataFrame({
    ...     "account_id": ["a", "b", "a"],
    ...     "date": ["2025-01-10", "2025-01-20", "2026-01-05"],
    ...     "type": ["new", "new", "expansion"],
    ...     "amount": ["1000", "500", "500"],
    ... })
    >>> e = economics(ledger_from_frame(moves), settings=Economics(gross_margin=0.8))
    >>> e.filter(pl.col("period") == "2026-01").select("arpa", "ltv").row(0)
    (100000, 400000)

    Nobody churned, so LTV is the cap: 5 years × ARPA 1,000 × 80% = 4,000.

    The bundled SaaS history with its monthly spend, by quarter (money in
    cents):

    >>> from retention_cli import Grain, build_ledger, load, load_spend
    >>> ledger = build_ledger(load("examples/saas_movements.csv"))
    >>> spend = load_spend("examples/spend.csv", ledger.calendar)
    >>> q = economics(ledger, spend, grain=Grain.quarter)
    >>> q.filter(pl.col("period") == "FY2026-Q1").select(
    ...     "new_logos", "cac", "ltv", "magic_number"
    ... ).row(0)
    (22, 3217238, 10942096, 0.08701325942964501)
    """
    by = list(by or [])
    periods_spend = (
        spend_by_period(spend, ledger.calendar, grain, by) if spend is not None else None
    )
    policies = policies or ledger.policies
    return economics_from(
        ledger,
        bridge(ledger, grain=grain, mode=mode, policies=policies, by=by),
        retention(ledger, grain=grain, window=12, method=method, by=by),
        periods_spend,
        grain=grain,
        settings=settings,
        by=by,
    )


def economics_from(
    ledger: Ledger,
    bridge_frame: pl.DataFrame,
    annual_retention: pl.DataFrame,
    spend: pl.DataFrame | None,
    *,
    grain: Grain = Grain.month,
    settings: Economics | None = None,
    by: list[str] | None = None,
) -> pl.DataFrame:
    """Unit economics per reported period (and segment) from computed frames.

    Parameters
    ----------
    bridge_frame
        :func:`retention_cli.metrics.bridge` at ``grain`` (with ``by``).
    annual_retention
        :func:`retention_cli.metrics.retention` at ``grain`` with a 12-month
        window (for LTV's annual gross revenue churn), with ``by``.
    spend
        :func:`retention_cli.spend.spend_by_period` at ``grain`` with ``by``,
        or None. Segment rows without their own spend get null spend metrics;
        without their own gross margin, the all-segments one.
    settings
        ``cac_lag`` (reported periods), ``ltv_cap_years``, default ``gross_margin``.

    Returns
    -------
    DataFrame
        ``period, start, end``, the spend columns given, ``new_logos, new_arr,
        net_new_arr, arpa``, then every :data:`ECONOMICS_KEYS` metric (null where
        its inputs are missing) and ``_why_<key>``: why a metric is null.

    Notes
    -----
    S&M is the spend of ``cac_lag`` periods earlier. CAC = S&M / new logos;
    CAC payback = S&M / (new ARR × gross margin) × 12 months; LTV = ARPA ×
    gross margin / annual gross revenue churn (1 - 12-month GRR), at most
    ``ltv_cap_years`` × ARPA × gross margin (also when churn is 0); magic
    number = net new ARR / the previous period's S&M; burn multiple = net burn
    / net new ARR (null when it is 0; negative when ARR shrank); CS efficiency = (expansion +
    reactivation - contraction - churn) / customer-success spend. Money is in
    cents, rounded half away from zero.
    """
    if settings is None:
        from retention_cli.config import Economics

        settings = Economics()
    by = list(by or [])
    keys = ["period", *by]
    step = grain.months
    periods = reporting_periods(ledger, grain).with_columns(_p=pl.col("_prev") + step)
    frame = (
        periods.select("period", "_p")
        .join(bridge_frame, on="period", how="left", maintain_order="left")
        .with_row_index("_row")
    )
    grr = annual_retention.select(
        *keys, "cohort_start_arr", pl.col("_cohort_min_arr").alias("_kept")
    )
    frame = frame.join(grr, on=keys, how="left", nulls_equal=True)
    spend_cols: list[str] = []
    if spend is not None:
        spend_cols = [c for c in spend.columns if c not in ("_p", "_months", *by)]

        def at(offset: int, suffix: str) -> pl.DataFrame:
            # spend counts only when it covers every month of its period that the data reaches
            expected = step - (pl.col("_p") - ledger.last_period).clip(lower_bound=0)
            full = spend.with_columns(_ok=pl.col("_months") >= expected)
            vals = [pl.when(pl.col("_ok")).then(pl.col(c)).alias(c + suffix) for c in spend_cols]
            return full.select((pl.col("_p") + offset).alias("_p"), *by, *vals)

        on = ["_p", *by]
        frame = frame.join(at(0, ""), on=on, how="left", nulls_equal=True)
        frame = frame.join(at(settings.cac_lag * step, "_lag"), on=on, how="left", nulls_equal=True)
        frame = frame.join(at(step, "_prev"), on=on, how="left", nulls_equal=True)
        if by and "gross_margin" in spend_cols:  # a segment without its own margin: the company's
            company = spend.filter(is_total(by))
            frame = frame.join(
                company.select("_p", pl.col("gross_margin").alias("_gm_all")), on="_p", how="left"
            ).with_columns(pl.col("gross_margin").fill_null(pl.col("_gm_all")))
    null_money = pl.lit(None, pl.Int64)
    null_ratio = pl.lit(None, pl.Float64)

    def col(name: str, suffix: str = "") -> pl.Expr:
        if name in spend_cols:
            return pl.col(name + suffix)
        return null_ratio if name == "gross_margin" else null_money

    gm = col("gross_margin")
    if settings.gross_margin is not None:
        gm = gm.fill_null(settings.gross_margin)
    sm_lag, sm_prev = col("sales_marketing", "_lag"), col("sales_marketing", "_prev")
    new_logos, new_arr = pl.col("new_logos"), pl.col("new_arr")
    gains = pl.col("new_arr") + pl.col("reactivation_arr") + pl.col("expansion_arr")
    net_new = gains - pl.col("contraction_arr") - pl.col("churned_arr")
    arpa = divide_cents(pl.col("end_arr"), pl.col("end_logos"))
    start, kept = pl.col("cohort_start_arr"), pl.col("_kept")
    churn_rate = (start - kept).cast(pl.Float64) / start.cast(pl.Float64)
    cap = settings.ltv_cap_years
    bounded = pl.when(churn_rate > 0).then(pl.min_horizontal(1.0 / churn_rate, pl.lit(cap)))
    years = bounded.otherwise(pl.lit(cap, pl.Float64))
    ltv_raw = pl.col("end_arr").cast(pl.Float64) / pl.col("end_logos").cast(pl.Float64) * gm * years
    lag_label = f"the S&M of {settings.cac_lag} period(s) earlier" if settings.cac_lag else "S&M"
    out = (
        frame.with_columns(
            net_new_arr=net_new,
            arpa=arpa,
            _sm_lag=sm_lag,
            _gm=gm,
            _churn=pl.when(start > 0).then(churn_rate),
            _ltv=pl.when(
                (pl.col("end_logos") > 0) & (start > 0) & gm.is_not_null() & (ltv_raw < LTV_LIMIT)
            ).then((ltv_raw + 0.5).floor().cast(pl.Int64)),
        )
        .with_columns(
            cac=divide_cents(sm_lag, new_logos),
            cac_payback_months=pl.when(
                (new_arr > 0) & gm.is_not_null() & sm_lag.is_not_null()
            ).then(sm_lag.cast(pl.Float64) * 12 / (new_arr.cast(pl.Float64) * gm)),
            ltv=pl.col("_ltv"),
            magic_number=pl.when(sm_prev > 0).then(
                net_new.cast(pl.Float64) / sm_prev.cast(pl.Float64)
            ),
            burn_multiple=pl.when(net_new != 0).then(
                col("net_burn").cast(pl.Float64) / net_new.cast(pl.Float64)
            ),
            cs_efficiency=pl.when(col("customer_success") > 0).then(
                (
                    pl.col("expansion_arr")
                    + pl.col("reactivation_arr")
                    - pl.col("contraction_arr")
                    - pl.col("churned_arr")
                ).cast(pl.Float64)
                / col("customer_success").cast(pl.Float64)
            ),
        )
        .with_columns(
            ltv_to_cac=pl.when(pl.col("cac") > 0).then(
                pl.col("ltv").cast(pl.Float64) / pl.col("cac").cast(pl.Float64)
            ),
        )
    )
    no_sm = f"no complete {lag_label} spend for the period"
    whys = {
        "cac": _why((sm_lag.is_null(), no_sm), (new_logos == 0, "no new logos")),
        "cac_payback_months": _why(
            (sm_lag.is_null(), no_sm), (gm.is_null(), "no gross margin"), (new_arr == 0, "no new ARR")
        ),
        "ltv": _why(
            (gm.is_null(), "no gross margin"),
            (pl.col("end_logos") == 0, "no logos at the period end"),
            (start.is_null() | (start == 0), "no 12-month cohort to measure annual churn"),
            (ltv_raw >= LTV_LIMIT, "too large to compute to the cent"),
        ),
        "ltv_to_cac": _why(
            (pl.col("ltv").is_null(), "LTV is null"), (pl.col("cac").is_null() | (pl.col("cac") == 0), "CAC is null or 0")
        ),
        "magic_number": _why(
            (sm_prev.is_null(), "no complete S&M spend for the previous period"),
            (sm_prev == 0, "previous period's S&M is 0"),
        ),
        "burn_multiple": _why(
            (col("net_burn").is_null(), "no complete net burn for the period"),
            (net_new == 0, "net new ARR is 0"),
        ),
        "cs_efficiency": _why(
            (col("customer_success").is_null(), "no complete customer-success spend for the period"),
            (col("customer_success") == 0, "customer-success spend is 0"),
        ),
    }  # fmt: skip
    out = out.with_columns(
        pl.when(pl.col(k).is_null()).then(w).alias(f"_why_{k}") for k, w in whys.items()
    )
    inputs = [c for c in ("sales_marketing", "customer_success", "gross_margin", "net_burn")
              if c in spend_cols]  # fmt: skip
    return out.sort("_row").select(
        "period",
        "start",
        "end",
        *by,
        *inputs,
        *CONTEXT_KEYS,
        *ECONOMICS_KEYS,
        *(f"_why_{k}" for k in ECONOMICS_KEYS),
    )
