"""The ARR bridge: new, reactivation, expansion, contraction and churn (SPEC §4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from retention_cli.fx import FX_IMPACT, with_restated_start
from retention_cli.ledger import Ledger, first_row, had_arr_before, positive_months, previous_arr
from retention_cli.metrics.frames import (
    aggregate,
    is_total,
    order_rows,
    with_every_segment,
)
from retention_cli.metrics.transfers import TRANSFER_KEYS, segment_sums, was
from retention_cli.options import BridgeMode, Grain

if TYPE_CHECKING:
    from retention_cli.config import Policies

BRIDGE_KEYS = (
    "start_arr",
    "new_arr",
    "reactivation_arr",
    "expansion_arr",
    "contraction_arr",
    "churned_arr",
    "end_arr",
    "start_logos",
    "new_logos",
    "reactivated_logos",
    "churned_logos",
    "end_logos",
)


def bridge_keys(ledger: Ledger) -> tuple[str, ...]:
    """The bridge keys of ``ledger``, with ``fx_impact_arr`` under dated fx.

    :data:`BRIDGE_KEYS`, plus ``fx_impact_arr`` before ``end_arr`` when the
    ledger is restated at dated fx rates.
    """
    if ledger.fx is None:
        return BRIDGE_KEYS
    at = BRIDGE_KEYS.index("end_arr")
    return (*BRIDGE_KEYS[:at], FX_IMPACT, *BRIDGE_KEYS[at:])


def reporting_periods(ledger: Ledger, grain: Grain) -> pl.DataFrame:
    """The reported periods of ``grain`` that the ledger covers.

    Columns: ``period`` (label), ``start``, ``end`` (ISO dates of the whole
    period), ``_last`` (index of the fiscal month whose end ARR closes the
    period: the period's last month, or the data's last month for an
    incomplete final period), ``_prev`` (index of the month before the period
    starts).
    """
    cal = ledger.calendar
    rows = []
    last = cal.grain_last(ledger.first_period, grain)
    while True:
        first = cal.grain_first(last, grain)
        if first > ledger.last_period:
            break
        start, end = cal.bounds(last, grain)
        rows.append(
            {
                "period": cal.label(last, grain),
                "start": start,
                "end": end,
                "_last": min(last, ledger.last_period),
                "_prev": first - 1,
            }
        )
        last += grain.months
    return pl.DataFrame(
        rows,
        schema={
            "period": pl.String,
            "start": pl.Date,
            "end": pl.Date,
            "_last": pl.Int32,
            "_prev": pl.Int32,
        },
    )


MOVEMENT_CLASSES = {
    "new_arr": "new",
    "reactivation_arr": "reactivation",
    "expansion_arr": "expansion",
    "contraction_arr": "contraction",
    "churned_arr": "churn",
}
"""Movement key → the class an account with that movement gets (``explain``)."""


def classify(
    a: pl.Expr,
    b: pl.Expr,
    *,
    had_arr_before: pl.Expr,
    policies: Policies,
) -> dict[str, pl.Expr]:
    """Per-account bridge amounts for one step from ARR ``a`` to ARR ``b``.

    The one movement classifier every path of the bridge and ``explain`` use.

    Returns an expression for each of :data:`BRIDGE_KEYS` (cents for ``*_arr``,
    0/1 for logos; ``start_arr`` is ``a`` and ``end_arr`` is ``b``).
    ``had_arr_before`` tells a return (reactivation) from a first arrival (new);
    with ``policies.reactivation == "as_new"`` returns are new.
    """
    zero = pl.lit(0, dtype=pl.Int64)
    arrive = (a == 0) & (b > 0)
    returning = arrive & had_arr_before
    if policies.reactivation == "as_new":
        returning = pl.lit(False)
    new = arrive & ~returning
    churned = (a > 0) & (b == 0)
    return {
        "start_arr": a,
        "new_arr": pl.when(new).then(b).otherwise(zero),
        "reactivation_arr": pl.when(returning).then(b).otherwise(zero),
        "expansion_arr": pl.when((a > 0) & (b > a)).then(b - a).otherwise(zero),
        "contraction_arr": pl.when((b > 0) & (b < a)).then(a - b).otherwise(zero),
        "churned_arr": pl.when(churned).then(a).otherwise(zero),
        "end_arr": b,
        "start_logos": (a > 0).cast(pl.Int64),
        "new_logos": new.cast(pl.Int64),
        "reactivated_logos": returning.cast(pl.Int64),
        "churned_logos": churned.cast(pl.Int64),
        "end_logos": (b > 0).cast(pl.Int64),
    }


STILL, CHURN, EXPANSION, CONTRACTION, FLAT, RETURN, NEW = range(7)
"""The codes of :func:`movement_class`: no ARR before or after, churn, expansion,
contraction, the same ARR, reactivation, new."""


def movement_class(
    a: pl.Expr, b: pl.Expr, *, had_arr_before: pl.Expr, policies: Policies
) -> pl.Expr:
    """The movement of one step from ARR ``a`` to ``b`` as a code (Int8; see :data:`NEW`).

    The rules of :func:`classify`, one code per step: a sum per code of ``a``,
    ``b`` and the rows gives every bridge key.
    """
    returning = had_arr_before if policies.reactivation != "as_new" else pl.lit(False)
    held = pl.when(b == 0).then(CHURN).when(b > a).then(EXPANSION).when(b < a).then(CONTRACTION)
    arrived = pl.when(returning).then(RETURN).otherwise(NEW)
    code = pl.when(a > 0).then(held.otherwise(FLAT)).when(b > 0).then(arrived).otherwise(STILL)
    return code.cast(pl.Int8)


def _first_arr(ledger: Ledger) -> pl.LazyFrame:
    return (
        ledger.frame.filter(pl.col("arr") > 0)
        .group_by("account_id")
        .agg(pl.col("period").min().alias("_first_arr"))
    )


def _late_return(window: int) -> pl.Expr:
    """Whether the row's current run of ARR began with a late return (false without ARR).

    Late means after more than ``window`` months at zero (``reactivation_window``).

    The ledger is dense and sorted by account and period, so rows stand for
    months: the last month with ARR before a return is found by row number.
    """
    pos = pl.col("arr") > 0
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    first = pl.when(first_row()).then(row).forward_fill()  # the account's first row
    before = pl.when(pos).then(row).forward_fill().shift(1)  # the latest row with ARR before
    starts = pos & (previous_arr() == 0)
    late = pl.when(starts).then((before >= first).fill_null(False) & (row - before - 1 > window))
    # an account's first row with ARR starts a run, so every row with ARR has a value
    return pos & late.forward_fill().fill_null(False)


def _late_returns(ledger: Ledger, window: int) -> pl.LazyFrame:
    """Per account and month with ARR: :func:`_late_return` as ``_late``."""
    return (
        ledger.frame.select("account_id", "period", "arr")
        .with_columns(_late=_late_return(window))
        .filter(pl.col("arr") > 0)
        .select("account_id", "period", "_late")
    )


def _month_steps(
    ledger: Ledger, *cols: str, prior: list[str] | tuple[str, ...] = (), late: int | None = None
) -> pl.LazyFrame:
    """Every account's step into each fiscal month ``period``, straight from the dense ledger.

    The ledger is sorted by account and period, so an account's previous row is
    its previous month (no joins). Columns: ``cols``, ``_a`` and ``_b`` (ARR
    before and after), ``_had`` (ARR in some month before), the ``prior``
    dimensions as of the month before (:func:`~retention_cli.metrics.transfers.was`;
    null on the account's first row), and with ``late`` (a ``reactivation_window``)
    ``_late`` (:func:`_late_return`).
    """
    before = (pl.when(~first_row()).then(pl.col(d).shift(1)).alias(was(d)) for d in prior)
    extra = {"_late": _late_return(late)} if late is not None else {}
    return ledger.frame.select(
        *cols, *before, _a=previous_arr(), _b=pl.col("arr"), _had=had_arr_before(), **extra
    )


def _positional_steps(
    ledger: Ledger,
    pairs: pl.DataFrame,
    by: list[str],
    prior: list[str] | tuple[str, ...],
    late: int | None,
) -> pl.LazyFrame:
    """:func:`account_steps` for steps of several months (a quarter, a year), without joins.

    Each step ends in its own month ``_to``, with segments as of ``_to``, and no
    step's month lies inside another step. The ledger is dense and sorted, and
    every account runs to its last month: of the rows at the steps' months, the
    one before an account's row at ``_to`` is its month ``_from`` when it is the
    same account's and at that month (else the account starts inside the step:
    ARR 0 before, no segment).
    """
    keyed = {int(t): v for t, v in zip(pairs["_to"], pairs["_key"], strict=True)}
    start = {int(t): int(f) for t, f in zip(pairs["_to"], pairs["_from"], strict=True)}
    months = sorted(set(keyed) | set(start.values()))
    extra = {"_late": _late_return(late)} if late is not None else {}
    was_dims = [was(d) for d in prior]
    ok = (pl.col("account_id").shift(1) == pl.col("account_id")) & (
        pl.col("period").shift(1)
        == pl.col("period").replace_strict(start, default=None, return_dtype=pl.Int32)
    )
    return (
        ledger.frame.select(
            "account_id",
            "period",
            "arr",
            *dict.fromkeys([*by, *prior]),
            _seen=positive_months(),
            **extra,
        )
        .filter(pl.col("period").is_in(months))
        .with_columns(_ok=ok.fill_null(False))
        .with_columns(
            pl.when("_ok").then(pl.col("arr").shift(1)).otherwise(0).alias("_a"),
            (pl.col("_ok") & (pl.col("_seen").shift(1) > 0)).alias("_had"),
            *(
                pl.when("_ok").then(pl.col(d).shift(1)).alias(w)
                for d, w in zip(prior, was_dims, strict=True)
            ),
        )
        .filter(pl.col("period").is_in(list(keyed)))
        .select(
            pl.col("period").replace_strict(keyed, return_dtype=pl.String).alias("_key"),
            pl.col("period").replace_strict(start, return_dtype=pl.Int32).alias("_from"),
            pl.col("period").alias("_to"),
            pl.col("period").alias("_dim_at"),
            "account_id",
            "_a",
            pl.col("arr").alias("_b"),
            "_had",
            *by,
            *was_dims,
            *(["_late"] if late is not None else []),
        )
    )


def _classified(
    steps: pl.LazyFrame, ledger: Ledger, policies: Policies, to: str
) -> tuple[pl.LazyFrame, dict[str, pl.Expr]]:
    """``steps`` (``account_id``, ``to``, ``_a``, ``_b``, ``_had``) with the bridge amounts of each step.

    A late return counts as new under ``reactivation_window``.
    """
    had_before = pl.col("_had")
    if policies.reactivation_window is not None:
        if "_late" not in steps.collect_schema().names():  # (the month steps carry it)
            late = _late_returns(ledger, policies.reactivation_window).rename({"period": to})
            steps = steps.join(late, on=["account_id", to], how="left")
        had_before = had_before & ~pl.col("_late").fill_null(False)
    moves = classify(pl.col("_a"), pl.col("_b"), had_arr_before=had_before, policies=policies)
    return steps, moves


def account_steps(
    ledger: Ledger,
    pairs: pl.DataFrame,
    by: list[str],
    policies: Policies,
    *,
    prior: list[str] | tuple[str, ...] = (),
) -> pl.LazyFrame:
    """Per account and step ``(_key, _from, _to, _dim_at)`` of ``pairs``: ARR and bridge amounts.

    Columns ``_a``, ``_b`` and the bridge amounts (:data:`BRIDGE_KEYS`).

    An account's dimensions ``by`` are its values as of fiscal month ``_dim_at``
    (the segment it lands in); the ``prior`` dimensions also come as of the step's
    start ``_from``, in :func:`~retention_cli.metrics.transfers.was` columns (the
    segment it leaves).
    """
    monthly = (
        pairs.height > 0
        and pairs.select(
            ((pl.col("_to") - pl.col("_from") == 1) & (pl.col("_dim_at") == pl.col("_to"))).all()
        ).item()
    )
    if monthly and pairs["_to"].is_unique().all():
        # one step per fiscal month: every account present then is present now
        keyed = {int(k): v for k, v in zip(pairs["_to"], pairs["_key"], strict=True)}
        both = (
            _month_steps(
                ledger, "account_id", "period", *by, prior=prior, late=policies.reactivation_window
            )
            .filter(pl.col("period").is_in(list(keyed)))
            .select(
                pl.col("period").replace_strict(keyed, return_dtype=pl.String).alias("_key"),
                (pl.col("period") - 1).alias("_from"),
                pl.col("period").alias("_to"),
                pl.col("period").alias("_dim_at"),
                "account_id",
                "_a",
                "_b",
                "_had",
                *by,
                *(was(d) for d in prior),
                *(["_late"] if policies.reactivation_window is not None else []),
            )
        )
    elif (
        pairs.height > 0
        and pairs["_to"].is_unique().all()
        and pairs.sort("_to")
        .select(
            (
                (pl.col("_from") < pl.col("_to"))
                & (pl.col("_dim_at") == pl.col("_to"))
                & (pl.col("_from") >= pl.col("_to").shift(1)).fill_null(True)
            ).all()
        )
        .item()
    ):
        both = _positional_steps(ledger, pairs, by, prior, policies.reactivation_window)
    else:
        lf = pairs.lazy()
        start = lf.join(
            ledger.frame.select(
                "account_id", pl.col("period").alias("_from"), pl.col("arr").alias("_a")
            ),
            on="_from",
        )
        end = lf.join(
            ledger.frame.select(
                "account_id", pl.col("period").alias("_to"), pl.col("arr").alias("_b")
            ),
            on="_to",
        )
        keys = ["_key", "_from", "_to", "_dim_at", "account_id"]
        both = start.join(end, on=keys, how="full", coalesce=True)
        if by:
            dims = ledger.frame.select("account_id", pl.col("period").alias("_dim_at"), *by)
            both = both.join(dims, on=["account_id", "_dim_at"], how="left")
        if prior:
            before = ledger.frame.select(
                "account_id",
                pl.col("period").alias("_from"),
                *(pl.col(d).alias(was(d)) for d in prior),
            )
            both = both.join(before, on=["account_id", "_from"], how="left")
        both = both.with_columns(pl.col("_a").fill_null(0), pl.col("_b").fill_null(0))
        # the same rule as the ledger's had_arr_before(): ARR at the step's start or before
        both = both.join(_first_arr(ledger), on="account_id", how="left").with_columns(
            _had=pl.col("_first_arr").fill_null(2**31 - 1) <= pl.col("_from")
        )
    if ledger.fx is not None:
        # dated fx (retention_cli.fx): the movement is classified from the start ARR
        # restated at the step end's rates; the restatement is the fx impact
        both = with_restated_start(both, ledger.fx).rename({"_a": "_a0", "_ar": "_a"})
    both, moves = _classified(both, ledger, policies, "_to")
    if ledger.fx is None:
        return both.with_columns(**moves)
    moves |= {"start_arr": pl.col("_a0"), FX_IMPACT: pl.col("_a") - pl.col("_a0")}
    return both.with_columns(**moves).with_columns(_a=pl.col("_a0")).drop("_a0")


def bridge(
    ledger: Ledger,
    *,
    grain: Grain = Grain.month,
    mode: BridgeMode = BridgeMode.net,
    by: list[str] | None = None,
    policies: Policies | None = None,
) -> pl.DataFrame:
    """The ARR bridge per reported period (and segment).

    Parameters
    ----------
    ledger
        From :func:`retention_cli.ledger.build_ledger`.
    grain
        ``month``, ``quarter`` or ``year``.
    mode
        ``net`` classifies each account by its ARR at the period's start and
        end; ``gross`` sums its fiscal-month movements inside the period.
    by
        Dimension columns to split by; a total row (dimensions null) comes first
        in each period.
    policies
        ``reactivation: as_new`` counts returning accounts as new;
        ``reactivation_window`` counts late returns as new. Default: the
        ledger's (from the config it was built with).

    Returns
    -------
    DataFrame
        ``period, start, end, [by...], start_arr, new_arr, reactivation_arr,
        expansion_arr, contraction_arr, churned_arr, end_arr, start_logos,
        new_logos, reactivated_logos, churned_logos, end_logos`` (money in
        integer cents); with ``by`` also ``transfer_in_arr, transfer_out_arr,
        transfer_in_logos, transfer_out_logos`` (null on the total row). For a
        snapshot file's first period (an opening balance) every key but
        ``end_arr``/``end_logos`` is null.

    Notes
    -----
    Per account, with ``a`` = ARR at the end of the previous period and ``b`` =
    ARR at the end of this one: new (``a = 0 < b``, no ARR ever before),
    reactivation (``a = 0 < b``, ARR before), expansion (``0 < a < b``, ``b - a``),
    contraction (``0 < b < a``, ``a - b``), churn (``b = 0 < a``, ``a``). The
    identity ``start + new + reactivation + expansion - contraction - churn =
    end`` holds exactly for every period. A segment rolls forward: an account
    whose segment changed during a step (a fiscal month, or the whole period
    for a net bridge above month grain) with ARR at its start leaves the old
    segment as ``transfer_out`` and enters the new one as ``transfer_in`` (that
    ARR, one logo), and its movement is counted in the new segment; so each
    segment's start is its previous end and ``start + movements + transfer_in
    - transfer_out = end`` (see :mod:`retention_cli.metrics.transfers`).

    Examples
    --------
    >>> import polars as pl
    >>> from retention_cli import ledger_from_frame
    >>> snaps = pl.DataFrame({
    ...     "account_id": ["a", "a", "b"],
    ...     "date": ["2026-01-31", "2026-02-28", "2026-02-28"],
    ...     "arr": ["100.00", "120.00", "50.00"],
    ... })
    >>> b = bridge(ledger_from_frame(snaps, shape="snapshots"))
    >>> b.select("period", "start_arr", "new_arr", "expansion_arr", "end_arr").rows()
    [('2026-01', None, None, None, 10000), ('2026-02', 10000, 5000, 2000, 17000)]

    January is the snapshot file's opening balance (no movements); in February
    ``a`` expands by 20.00 and ``b`` is new with 50.00 (values in cents).

    The bundled tiny example by fiscal quarter: C comes back in FY2025-Q4 and D
    leaves.

    >>> from retention_cli import Grain, build_ledger, load
    >>> q = bridge(build_ledger(load("examples/tiny_movements.csv")), grain=Grain.quarter)
    >>> q.filter(pl.col("period") == "FY2025-Q4").select(
    ...     "start_arr", "reactivation_arr", "churned_arr", "end_arr"
    ... ).row(0)
    (650000, 80000, 50000, 680000)
    """
    by = list(by or [])
    policies = policies or ledger.policies
    periods = reporting_periods(ledger, grain)
    keys = bridge_keys(ledger)
    known = ledger.first_period if ledger.opening_balance else -(2**31)
    if mode is BridgeMode.net or grain is Grain.month:
        pairs = periods.select(
            pl.col("period").alias("_key"),
            pl.col("_prev").alias("_from"),
            pl.col("_last").alias("_to"),
            pl.col("_last").alias("_dim_at"),
        )
    else:
        months: list[dict[str, str | int]] = []
        for key, prev, last in periods.select("period", "_prev", "_last").iter_rows():
            months.extend(
                # with segments each month's step has its own (the transfers roll forward)
                {"_key": key, "_from": p - 1, "_to": p, "_dim_at": p if by else last}
                for p in range(prev + 1, last + 1)
            )
        pairs = pl.DataFrame(
            months,
            schema={"_key": pl.String, "_from": pl.Int32, "_to": pl.Int32, "_dim_at": pl.Int32},
        )
    # a step whose start is before a snapshot file's first period is unknown
    pairs = pairs.filter(pl.col("_from") >= known) if ledger.opening_balance else pairs
    if grain is Grain.month and ledger.fx is None:
        out = _monthly_sums(ledger, pairs, by, policies)
    else:
        moved = account_steps(ledger, pairs, by, policies, prior=by)
        if mode is BridgeMode.gross:
            moved = _gross_ends(moved, periods)
        # net: one step per period, from its opening month to its closing one
        out = _sums(moved, by, keys=keys)
    result = periods.select("period", "start", "end").join(
        out.rename({"_key": "period"}), on="period", how="left"
    )
    result = with_every_segment(result, ledger, by)
    # a period (or segment) with no account at all has zero everywhere, not null
    result = result.with_columns(pl.col(k).fill_null(0) for k in keys)
    if by:  # segments transfer; the total row has none
        result = result.with_columns(
            pl.when(is_total(by)).then(None).otherwise(pl.col(k).fill_null(0)).alias(k)
            for k in TRANSFER_KEYS
        )
    if ledger.opening_balance:
        opening = periods.filter(pl.col("_prev") < known)["period"]
        result = _opening_rows(ledger, periods, opening, result, by)
    return order_rows(result, periods, by)


def _monthly_sums(
    ledger: Ledger, pairs: pl.DataFrame, by: list[str], policies: Policies
) -> pl.DataFrame:
    """The month-grain bridge summed straight from the dense ledger.

    Columns ``_key``, the segment columns and :data:`BRIDGE_KEYS`, one row per
    month in ``pairs``.

    The per-account movements are never materialised (the sums stream through them).
    """
    keys = {int(k): v for k, v in zip(pairs["_to"], pairs["_key"], strict=True)}
    late = policies.reactivation_window
    if not by:  # one pass: each step's movement as a code, summed per month and code
        return _class_sums(_month_steps(ledger, "period", late=late), keys, policies)
    frame = _month_steps(ledger, "period", *by, prior=by, late=late).collect().lazy()
    frame, moves = _classified(frame, ledger, policies, "period")
    steps = frame.filter(pl.col("period").is_in(list(keys))).with_columns(**moves)
    return _sums(steps.with_columns(pl.col("period").alias("_key")), by, labels=keys)


def _class_sums(steps: pl.LazyFrame, months: dict[int, str], policies: Policies) -> pl.DataFrame:
    """The bridge keys per month from month steps (``period``, ``_a``, ``_b``, ``_had``).

    Columns ``_key`` (the label of each month in ``months``) and :data:`BRIDGE_KEYS`.

    The rows are grouped by month and :func:`movement_class` and only ``_a``, ``_b``
    and the rows are summed, instead of twelve conditional sums over every row
    (half the time on 13M rows); each key is then a sum over a few codes.
    """
    had = pl.col("_had")
    if "_late" in steps.collect_schema().names():
        had = had & ~pl.col("_late").fill_null(False)
    a, b = pl.col("_a"), pl.col("_b")
    code = movement_class(a, b, had_arr_before=had, policies=policies).alias("_c")
    grouped = (
        steps.filter(pl.col("period").is_in(list(months)))
        .group_by("period", code)
        .agg(a.sum().alias("_sa"), b.sum().alias("_sb"), pl.len().cast(pl.Int64).alias("_n"))
        .collect()
    )
    c, sa, sb, n = pl.col("_c"), pl.col("_sa"), pl.col("_sb"), pl.col("_n")
    held, ends = (CHURN, EXPANSION, CONTRACTION, FLAT), (EXPANSION, CONTRACTION, FLAT, NEW, RETURN)
    sums = grouped.group_by("period").agg(
        start_arr=sa.sum(),
        new_arr=sb.filter(c == NEW).sum(),
        reactivation_arr=sb.filter(c == RETURN).sum(),
        expansion_arr=(sb - sa).filter(c == EXPANSION).sum(),
        contraction_arr=(sa - sb).filter(c == CONTRACTION).sum(),
        churned_arr=sa.filter(c == CHURN).sum(),
        end_arr=sb.sum(),
        start_logos=n.filter(c.is_in(held)).sum(),
        new_logos=n.filter(c == NEW).sum(),
        reactivated_logos=n.filter(c == RETURN).sum(),
        churned_logos=n.filter(c == CHURN).sum(),
        end_logos=n.filter(c.is_in(ends)).sum(),
    )
    label = (
        pl.col("period").replace_strict(months, return_dtype=pl.String)
        if months
        else pl.lit(None, pl.String)
    )  # (polars leaves the column as it is for an empty mapping)
    return sums.select(label.alias("_key"), *BRIDGE_KEYS)


def _sums(
    steps: pl.LazyFrame,
    by: list[str],
    labels: dict[int, str] | None = None,
    *,
    keys: tuple[str, ...] = BRIDGE_KEYS,
) -> pl.DataFrame:
    """A bridge's rows from per-account steps.

    Columns ``_key``, the segment columns and ``keys`` (plus
    :data:`TRANSFER_KEYS` with segments, null on the total row). ``labels`` maps
    an integer ``_key`` (a fiscal month) to its label.
    """
    sums = [pl.col(k).sum() for k in keys]
    if not by:
        out = aggregate(steps, by, sums).collect()
    else:
        total = (
            steps.group_by("_key")
            .agg(sums)
            .with_columns(
                *(pl.lit(None, pl.String).alias(d) for d in by),
                *(pl.lit(None, pl.Int64).alias(k) for k in TRANSFER_KEYS),
            )
        )
        segs = segment_sums(steps, by, "_key", keys)
        cols = ["_key", *by, *keys, *TRANSFER_KEYS]
        parts = pl.collect_all([total.select(cols), segs.select(cols)], engine="streaming")
        out = pl.concat(parts)
    if labels is not None:  # (polars leaves the column as it is for an empty mapping)
        label = (
            pl.col("_key").replace_strict(labels, return_dtype=pl.String)
            if labels
            else pl.lit(None, pl.String)
        )
        out = out.with_columns(label.alias("_key"))
    return out


def _gross_ends(steps: pl.LazyFrame, periods: pl.DataFrame) -> pl.LazyFrame:
    """Gross bridge above month grain: start and end balances from the first and last steps.

    Only a period's first step has a start balance and only its last step an
    end balance.
    """
    return steps.join(
        periods.lazy().select(pl.col("period").alias("_key"), "_prev", "_last"),
        on="_key",
    ).with_columns(
        start_arr=pl.when(pl.col("_from") == pl.col("_prev")).then(pl.col("_a")).otherwise(0),
        end_arr=pl.when(pl.col("_to") == pl.col("_last")).then(pl.col("_b")).otherwise(0),
        start_logos=pl.when(pl.col("_from") == pl.col("_prev"))
        .then(pl.col("start_logos"))
        .otherwise(0),
        end_logos=pl.when(pl.col("_to") == pl.col("_last")).then(pl.col("end_logos")).otherwise(0),
    )


def _opening_rows(
    ledger: Ledger,
    periods: pl.DataFrame,
    opening: pl.Series,
    result: pl.DataFrame,
    by: list[str],
) -> pl.DataFrame:
    """Opening-balance periods of a snapshot file: end balances only, no movements."""
    if opening.len() == 0:
        return result
    lasts = periods.filter(pl.col("period").is_in(opening.implode())).select(
        pl.col("period").alias("_key"), pl.col("_last").alias("period")
    )
    ends = ledger.frame.join(lasts.lazy(), on="period")
    agg = aggregate(
        ends,
        by,
        [
            pl.col("arr").sum().alias("end_arr"),
            (pl.col("arr") > 0).sum().cast(pl.Int64).alias("end_logos"),
        ],
    ).collect()
    filler = [
        pl.lit(None, dtype=pl.Int64).alias(k)
        for k in (*BRIDGE_KEYS, *TRANSFER_KEYS, FX_IMPACT)
        if k not in ("end_arr", "end_logos") and k in result.columns
    ]
    opened = (
        periods.filter(pl.col("period").is_in(opening.implode()))
        .select("period", "start", "end")
        .join(agg.rename({"_key": "period"}), on="period", how="left")
        .with_columns(*filler)
        .select(result.columns)
        .with_columns(pl.col("end_arr", "end_logos").fill_null(0))
    )
    rest = result.filter(~pl.col("period").is_in(opening.implode()))
    return pl.concat([opened, rest])
