"""Per-account contributions behind one headline number (SPEC §13)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from retention_cli.errors import UsageError
from retention_cli.inputs import LINE
from retention_cli.ledger import Ledger
from retention_cli.metrics.bridge import (
    BRIDGE_KEYS,
    MOVEMENT_CLASSES,
    account_steps,
    bridge_keys,
    reporting_periods,
)
from retention_cli.metrics.frames import NONE_SEGMENT, kept_arr
from retention_cli.metrics.transfers import TRANSFER_CLASSES, segment_rows
from retention_cli.options import BridgeMode, Grain, Method, Shape

if TYPE_CHECKING:
    from collections.abc import Sequence

    from retention_cli.calendar import FiscalCalendar
    from retention_cli.config import Policies
    from retention_cli.inputs import Loaded

RETENTION_EXPLAIN_KEYS = (
    "class",
    "arr_at_window_start",
    "arr_at_end",
    "numerator_arr",
    "denominator_arr",
)
BRIDGE_EXPLAIN_KEYS = ("class", *(k for k in BRIDGE_KEYS if k.endswith("_arr")))
SEGMENT_BRIDGE_EXPLAIN_KEYS = (*BRIDGE_EXPLAIN_KEYS, *TRANSFER_CLASSES)
"""``--metric bridge`` restricted to a segment: the transfers in and out of it too."""
CHURN_EXPLAIN_KEYS = (
    "class",
    "start_arr",
    "contraction_arr",
    "churned_arr",
    "numerator_arr",
    "denominator_arr",
)
BOOKS_EXPLAIN_KEYS = (
    "class",
    "owner_at_end",
    "arr_at_window_start",
    "arr_at_end",
    "numerator_arr",
    "denominator_arr",
    "reassigned_in_arr",
    "reassigned_out_arr",
)
EXPLAIN_METRICS = ("nrr", "grr", "bridge", "churn", "books")


def find_period(ledger: Ledger, grain: Grain, label: str) -> dict[str, Any]:
    """The reporting period labelled ``label`` (``period, start, end, _last, _prev``)."""
    periods = reporting_periods(ledger, grain)
    hit = periods.filter(pl.col("period").str.to_uppercase() == label.strip().upper())
    if hit.height == 0:
        first, last = periods["period"][0], periods["period"][-1]
        msg = f"no {grain.value} {label!r} in the data (it covers {first} to {last})"
        hint = f"use a {grain.value} label such as {last}, or change the grain"
        raise UsageError(msg, param="period", hint=hint)
    return hit.row(0, named=True)


def dimensions_at(
    loaded: Loaded, calendar: FiscalCalendar, period: int, dims: Sequence[str]
) -> pl.DataFrame:
    """Each account's dimension values at the end of fiscal month ``period``, from the input.

    ``account_id`` (the account's name, String) and one String column per dimension: its
    latest non-null value in the rows dated in or before ``period`` (by date, then by
    line; a subscription is dated by its start), null if none. That is the value a ledger
    built with the dimension carries at ``period``, without carrying it through every
    account-month: explain reads the dimensions of its own accounts at one month only.
    Not for a roll-up to parents (their dimensions are the ledger's own).
    """
    dated = "start_date" if loaded.shape is Shape.subscriptions else "date"
    frame = loaded.frame
    rows = frame.lazy().filter(pl.col(dated) <= calendar.month_end(period))
    line = frame.get_column(LINE)
    text = [pl.col(d).cast(pl.String) for d in ("account_id", *dims)]
    if line.len() and (line.min() < 0 or line.max() >= 2**32):  # type: ignore[operator]
        latest = [pl.col(d).sort_by(dated, LINE).drop_nulls().last() for d in dims]
        return rows.group_by("account_id").agg(*latest).select(text).collect()
    # one Int64 in (date, line) order, unique to the row: an account's latest row is the
    # one at its maximum (no sort; a dimension with blanks: among its non-blank rows)
    key = pl.col("_key")
    rows = rows.with_columns(_key=pl.col(dated).cast(pl.Int64) * 2**32 + pl.col(LINE))
    blanks = [d for d in dims if frame.get_column(d).null_count()]
    out = rows.filter(key == key.max().over("account_id")).select(
        "account_id", *(d for d in dims if d not in blanks)
    )
    for d in blanks:
        given = rows.filter(pl.col(d).is_not_null())
        last = given.filter(key == key.max().over("account_id")).select("account_id", d)
        out = out.join(last, on="account_id", how="left")
    return out.select(text).collect()


def _restrict(frame: pl.LazyFrame, where: dict[str, str]) -> pl.LazyFrame:
    for col, value in where.items():
        frame = frame.filter(pl.col(col).fill_null(NONE_SEGMENT) == value)
    return frame


def explain(
    ledger: Ledger,
    *,
    period: str,
    metric: str = "nrr",
    grain: Grain = Grain.month,
    window: int = 12,
    method: Method = Method.cohort,
    mode: BridgeMode = BridgeMode.net,
    where: dict[str, str] | None = None,
    policies: Policies | None = None,
) -> pl.DataFrame:
    """One row per account behind ``metric`` for ``period``, biggest movers first.

    ``nrr``/``grr``: the window cohort; ``numerator_arr`` summed over the rows ÷
    ``denominator_arr`` summed is exactly the headline ratio (ARR at the end, or
    capped at the start for GRR, over ARR at the window start). ``bridge``: every
    account with ARR at the period's start or end and its movements, summing to
    the bridge row. ``churn``: period gross revenue churn, (contraction + churn)
    ÷ start ARR. ``class``: retained, expanded, contracted, churned,
    churned_and_returned (cohort) or new, reactivation, expansion, contraction,
    churn, flat (bridge; joined by ``+`` when a gross bridge has several).
    Dimension values are as of the window start (cohort metrics) or the period
    end (bridge, churn); ``where`` keeps one segment, e.g. ``{"segment": "SMB"}``.
    A segment's bridge adds ``transfer_in``/``transfer_out`` (accounts that
    moved into or out of it). ``books`` (``where`` names one owner, e.g.
    ``{"csm": "ann"}``): the accounts of that book of business at the window
    start (adding up to its NRR) and those reassigned into it by the window end
    (class ``reassigned_in``, outside its NRR); a book's account now owned by
    someone else adds ``+reassigned_out`` to its class.

    Examples
    --------
    The four cohort accounts behind the tiny example's NRR at 2026-01 (cents):

    >>> from retention_cli import build_ledger, load
    >>> ledger = build_ledger(load("examples/tiny_movements.csv"))
    >>> x = explain(ledger, period="2026-01", metric="nrr")
    >>> x.select("account_id", "class", "numerator_arr", "denominator_arr").rows()
    [('A', 'expanded', 150000, 100000), ('B', 'contracted', 150000, 200000),
     ('D', 'churned', 0, 50000), ('C', 'churned_and_returned', 80000, 100000)]
    >>> x["numerator_arr"].sum() / x["denominator_arr"].sum()
    0.8444444444444444

    The contributions add up exactly to the headline NRR.
    """
    if metric not in EXPLAIN_METRICS:
        msg = f"{metric!r} cannot be explained; use one of {', '.join(EXPLAIN_METRICS)}"
        raise UsageError(msg, param="metric")
    where = where or {}
    dims = list(ledger.dimensions)
    unknown = [c for c in where if c not in dims]
    if unknown:
        have = ", ".join(map(repr, dims)) or "none"
        msg = f"no dimension column {', '.join(map(repr, unknown))} (its dimensions: {have})"
        raise UsageError(msg, param="by")
    p = find_period(ledger, grain, period)
    head = [pl.lit(p["period"]).alias("period"), pl.lit(p["start"]).alias("start"),
            pl.lit(p["end"]).alias("end")]  # fmt: skip
    if metric == "books" and len(where) != 1:
        msg = "explaining a book of business needs the book: OWNER_COLUMN=NAME, e.g. csm=ann"
        raise UsageError(msg, param="by")
    if metric in ("nrr", "grr", "books"):
        s, e = p["_last"] - window, p["_last"]
        if s < ledger.first_period:
            msg = (
                f"the {window}-month window starts before the data (it ends with {p['period']}), "
                "so there is no cohort to explain"
            )
            raise UsageError(msg, param="period", hint="choose a later period or a shorter window")
    keys: tuple[str, ...]
    if metric == "books":
        out, keys = _book_rows(ledger, s, e, where), BOOKS_EXPLAIN_KEYS
    elif metric in ("nrr", "grr"):
        # the ledger is dense and sorted: ``window`` rows after an account's row at s is
        # the same account at e (every account runs to the end); no group over accounts
        arr = pl.col("arr")
        bridged = metric == "grr" and method is not Method.cohort
        loss = (arr.shift(1) - arr).clip(lower_bound=0).fill_null(0).cum_sum()  # over (s, e]
        rows = _restrict(
            ledger.frame.filter((pl.col("period") >= s) & (pl.col("period") <= e))
            .with_columns(
                arr_at_end=arr.shift(-window),
                _min=arr.rolling_min(window_size=window).shift(-window),
                _losses=(loss.shift(-window) - loss) if bridged else pl.lit(0, pl.Int64),
            )
            .filter((pl.col("period") == s) & (arr > 0))
            .select(
                "account_id", arr.alias("arr_at_window_start"), *dims, "arr_at_end", "_min",
                "_losses",
            ),
            where,
        )  # fmt: skip
        a, b = pl.col("arr_at_window_start"), pl.col("arr_at_end")
        if metric == "nrr":
            num = b
        elif method is Method.cohort:
            num = kept_arr(a, b)
        else:
            num = a - pl.col("_losses")
        cls = (
            pl.when(b == 0).then(pl.lit("churned"))
            .when(pl.col("_min") == 0).then(pl.lit("churned_and_returned"))
            .when(b > a).then(pl.lit("expanded"))
            .when(b < a).then(pl.lit("contracted"))
            .otherwise(pl.lit("retained"))
        )  # fmt: skip
        out = rows.with_columns(
            **{"class": cls}, numerator_arr=num, denominator_arr=a, _move=(num - a).abs()
        )
        keys = RETENTION_EXPLAIN_KEYS
    else:
        pairs = _pairs(ledger, p, grain, mode, own_step=bool(where))
        seg = list(where)
        steps = account_steps(ledger, pairs, dims, policies or ledger.policies, prior=seg)
        keys_here = bridge_keys(ledger)  # dated fx: with fx_impact_arr
        arr_keys = [k for k in keys_here if k.endswith("_arr")]
        moves = [k for k in arr_keys if k not in ("start_arr", "end_arr")]
        classes = MOVEMENT_CLASSES
        if where:  # the segment's own view: accounts that moved in or out transfer
            steps = segment_rows(_period_ends(steps, p), seg, keys_here)
            steps = _restrict(steps, where)
            moves += list(TRANSFER_CLASSES)
            classes = {"transfer_in_arr": "transfer_in", **MOVEMENT_CLASSES,
                       "transfer_out_arr": "transfer_out"}  # fmt: skip
            per = steps.group_by("account_id").agg(
                *(pl.col(k).sum() for k in (*moves, "start_arr", "end_arr")),
                *(pl.col(d).sort_by("_to").last() for d in dims),
            )
        else:
            per = steps.group_by("account_id").agg(
                *(pl.col(k).sum() for k in moves),
                *(pl.col(d).first() for d in dims),
                pl.col("_a").filter(pl.col("_from") == p["_prev"]).sum().alias("start_arr"),
                pl.col("_b").filter(pl.col("_to") == p["_last"]).sum().alias("end_arr"),
            )
        cls = pl.concat_str(
            [pl.when(pl.col(k) != 0).then(pl.lit(v)) for k, v in classes.items()],
            separator="+",
            ignore_nulls=True,
        )
        out = per.with_columns(
            **{"class": pl.when(cls == "").then(pl.lit("flat")).otherwise(cls)},
            _move=(pl.col("end_arr") - pl.col("start_arr")).abs(),
        )
        if metric == "bridge":
            out = out.filter((pl.col("start_arr") > 0) | (pl.col("end_arr") > 0) | (cls != ""))
            keys = ("class", *arr_keys, *(TRANSFER_CLASSES if where else ()))
        else:
            lost = pl.col("contraction_arr") + pl.col("churned_arr")
            out = out.filter((pl.col("start_arr") > 0) | (lost > 0)).with_columns(
                numerator_arr=pl.col("contraction_arr") + pl.col("churned_arr"),
                denominator_arr=pl.col("start_arr"),
                _move=pl.col("contraction_arr") + pl.col("churned_arr"),
            )
            keys = CHURN_EXPLAIN_KEYS
    if ledger.accounts is not None:  # codes back to the names in the input
        out = (
            out.join(ledger.accounts.lazy(), on="account_id")
            .drop("account_id")
            .rename({"account": "account_id"})
        )
    return (
        out.sort(["_move", "account_id"], descending=[True, False])
        .select(*head, "account_id", *dims, *keys)
        .collect()
    )


def _book_rows(ledger: Ledger, s: int, e: int, where: dict[str, str]) -> pl.LazyFrame:
    """The accounts of one book of business over the window ``(s, e]``.

    Those owned at ``s`` (its NRR) and those reassigned into it by ``e`` (see
    ``metrics.books``).
    """
    ((col, name),) = where.items()
    dims = list(ledger.dimensions)
    lf = ledger.frame
    at_s = lf.filter((pl.col("period") == s) & (pl.col("arr") > 0)).select(
        "account_id", pl.col("arr").alias("arr_at_window_start"), *dims
    )
    at_e = lf.filter(pl.col("period") == e).select(
        "account_id", pl.col("arr").alias("arr_at_end"), pl.col(col).alias("owner_at_end")
    )
    low = (
        lf.filter((pl.col("period") > s) & (pl.col("period") <= e))
        .group_by("account_id")
        .agg(_min=pl.col("arr").min())
    )
    held = pl.col(col).fill_null(NONE_SEGMENT) == name
    kept = pl.col("owner_at_end").fill_null(NONE_SEGMENT) == name
    rows = at_s.join(at_e, on="account_id", how="left").join(low, on="account_id", how="left")
    rows = rows.filter(held | kept)
    a, b = pl.col("arr_at_window_start"), pl.col("arr_at_end")
    zero = pl.lit(0, pl.Int64)
    base = (
        pl.when(b == 0).then(pl.lit("churned"))
        .when(pl.col("_min") == 0).then(pl.lit("churned_and_returned"))
        .when(b > a).then(pl.lit("expanded"))
        .when(b < a).then(pl.lit("contracted"))
        .otherwise(pl.lit("retained"))
    )  # fmt: skip
    cls = (
        pl.when(~held)
        .then(pl.lit("reassigned_in"))
        .when(~kept)
        .then(pl.concat_str(base, pl.lit("+reassigned_out")))
        .otherwise(base)
    )
    return rows.with_columns(
        **{"class": cls},
        numerator_arr=pl.when(held).then(b).otherwise(zero),
        denominator_arr=pl.when(held).then(a).otherwise(zero),
        reassigned_in_arr=pl.when(held).then(zero).otherwise(a),
        reassigned_out_arr=pl.when(held & ~kept).then(a).otherwise(zero),
        _move=(b - a).abs() + pl.when(held & kept).then(zero).otherwise(a),
    )


def _period_ends(steps: pl.LazyFrame, p: dict[str, Any]) -> pl.LazyFrame:
    """Start balances on the period's first step only, end balances on its last.

    A gross bridge's months in between carry neither.
    """
    first, last = pl.col("_from") == p["_prev"], pl.col("_to") == p["_last"]
    zero = pl.lit(0, pl.Int64)
    return steps.with_columns(
        *(
            pl.when(first).then(pl.col(k)).otherwise(zero).alias(k)
            for k in ("start_arr", "start_logos")
        ),
        *(pl.when(last).then(pl.col(k)).otherwise(zero).alias(k) for k in ("end_arr", "end_logos")),
    )


def _pairs(
    ledger: Ledger, p: dict[str, Any], grain: Grain, mode: BridgeMode, *, own_step: bool = False
) -> pl.DataFrame:
    """The steps of period ``p``.

    ``own_step``: each step's dimensions as of its own end (a segment's view,
    where transfers roll forward), else as of the period's end.
    """
    if mode is BridgeMode.net or grain is Grain.month:
        rows = [
            {"_key": p["period"], "_from": p["_prev"], "_to": p["_last"], "_dim_at": p["_last"]}
        ]
    else:
        rows = [{"_key": p["period"], "_from": m - 1, "_to": m,
                 "_dim_at": m if own_step else p["_last"]}
                for m in range(p["_prev"] + 1, p["_last"] + 1)]  # fmt: skip
    if ledger.opening_balance and rows[0]["_from"] < ledger.first_period:
        msg = f"{p['period']} is the snapshot file's opening balance, which has no movements"
        raise UsageError(msg, param="period", hint="choose a later period")
    schema = {"_key": pl.String, "_from": pl.Int32, "_to": pl.Int32, "_dim_at": pl.Int32}
    return pl.DataFrame(rows, schema=schema)
