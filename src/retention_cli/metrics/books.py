"""Books of business: retention per owner, with reassignments shown apart (issue 15).

A book is the set of accounts an owner (a CSM, an account executive, a pod:
any dimension column) held at the window start, exactly as ``nrr --by OWNER``
assigns them. The book's NRR, GRR and logo retention are that cohort's; its
expansion, contraction and churn are the cohort's movements over the window, so
``start + expansion - contraction - churn`` is the cohort's end ARR (NRR ×
start). An account reassigned to someone else stays in the book it started in:
a reassignment is never churn for one owner and new or expansion for the other.

Reassignments are shown apart, as the transfers of a net bridge over the
window (SPEC §4): an account with ARR at the window start whose owner at the
window end differs from its owner at the start moves out of the old book
(``reassigned_out``) and into the new one (``reassigned_in``), with its ARR at
the window start and one account. They sum to zero over the books of a period;
the total row has none.
"""

from __future__ import annotations

import polars as pl

from retention_cli.ledger import Ledger, previous_arr, running_sum
from retention_cli.metrics.bridge import reporting_periods
from retention_cli.metrics.frames import NONE_SEGMENT, is_total, order_rows, per_month
from retention_cli.metrics.retention import retention
from retention_cli.options import Grain, Method

BOOK_KEYS = (
    "window_start",
    "cohort_logos",
    "cohort_start_arr",
    "nrr",
    "grr",
    "logo_retention",
    "expansion_arr",
    "contraction_arr",
    "churned_arr",
    "reassigned_in_arr",
    "reassigned_out_arr",
    "reassigned_in_logos",
    "reassigned_out_logos",
)
MOVES = ("expansion_arr", "contraction_arr", "churned_arr")
REASSIGNED = (
    "reassigned_in_arr",
    "reassigned_out_arr",
    "reassigned_in_logos",
    "reassigned_out_logos",
)


def books(
    ledger: Ledger,
    *,
    owner: str,
    grain: Grain = Grain.month,
    window: int = 12,
    method: Method = Method.cohort,
) -> pl.DataFrame:
    """One row per reported period and owner (a total row first).

    Each row holds the book's accounts and ARR at the window start, NRR, GRR,
    logo retention, movements and reassignments.

    Parameters
    ----------
    ledger
        Built with ``owner`` among its dimensions.
    owner
        The dimension column naming each account's owner.
    grain, window, method
        As for :func:`retention_cli.metrics.retention`.

    Returns
    -------
    DataFrame
        ``period, start, end, <owner>`` and :data:`BOOK_KEYS` (money in integer
        cents), plus ``_cohort_end_arr``. Null where the window starts before the
        data; reassignments null on the total row.

    Notes
    -----
    The book of owner ``o`` for a window ``(s, e]`` is ``C_o``, the accounts
    with ARR > 0 at ``s`` whose owner at ``s`` is ``o``: ``cohort_logos`` =
    |C_o|, ``cohort_start_arr`` = Σ ARR(s), and NRR, GRR and logo retention are
    those of ``nrr --by <owner>`` for ``o``. Movements over the window, per
    account of ``C_o``: with ``--method cohort`` from ARR(s) to ARR(e)
    (expansion ``e - s`` when ``e > s``, contraction ``s - e`` when ``0 < e <
    s``, churn ``s`` when ``e = 0``); with ``--method bridge`` its fiscal-month
    movements summed (a return counts as expansion). Either way ``start +
    expansion - contraction - churn`` = Σ ARR(e) and, for the configured method,
    GRR = ``(start - contraction - churn) / start``. ``reassigned_out`` = Σ
    ARR(s) (and the count) of accounts of ``C_o`` owned by someone else at
    ``e``; ``reassigned_in`` = the same for accounts owned by someone else at
    ``s`` and by ``o`` at ``e``. A missing owner is the book ``(none)``.

    Examples
    --------
    >>> import polars as pl
    >>> from retention_cli import ledger_from_frame
    >>> moves = pl.DataFrame({
    ...     "date": ["2025-01-05", "2025-01-06", "2025-12-10"],
    ...     "account_id": ["a", "b", "a"],
    ...     "type": ["new", "new", "expansion"],
    ...     "amount": ["1000", "500", "200"],
    ...     "csm": ["ann", "ann", "bob"],
    ... })
    >>> b = books(ledger_from_frame(moves), owner="csm", window=11)
    >>> b.filter(pl.col("period") == "2025-12").select(
    ...     "csm", "cohort_start_arr", "nrr", "expansion_arr", "reassigned_in_arr",
    ...     "reassigned_out_arr",
    ... ).rows()
    [(None, 150000, 1.1333333333333333, 20000, None, None),
     ('ann', 150000, 1.1333333333333333, 20000, 0, 100000),
     ('bob', 0, None, 0, 100000, 0)]

    Ann held both accounts at the window start (1,500); ``a`` expanded by 200
    after it moved to Bob, which stays in Ann's NRR (1,700 / 1,500); the 1,000
    that moved shows as reassigned out of Ann's book and into Bob's.
    """
    by = [owner]
    periods = reporting_periods(ledger, grain)
    base = retention(ledger, grain=grain, window=window, method=method, by=by)
    starts = {int(p) - window: k for p, k in zip(periods["_last"], periods["period"], strict=True)}
    lf = ledger.frame
    s_, e_ = pl.col("arr"), pl.col("_arr_e")
    zero = pl.lit(0, pl.Int64)
    ahead = {"_arr_e": pl.col("arr").shift(-window), "_owner_e": pl.col(owner).shift(-window)}
    if method is Method.bridge:  # the fiscal-month movements, as running sums per account
        a, b = previous_arr(), pl.col("arr")
        lf = lf.with_columns(
            _exp=running_sum(pl.when(b > a).then(b - a).otherwise(zero)),
            _con=running_sum(pl.when((b > 0) & (b < a)).then(a - b).otherwise(zero)),
            _chu=running_sum(pl.when((b == 0) & (a > 0)).then(a).otherwise(zero)),
        )
        cols = zip(MOVES, ("_exp", "_con", "_chu"), strict=True)
        ahead |= {k: pl.col(c).shift(-window) - pl.col(c) for k, c in cols}
        moves: dict[str, pl.Expr] = {}
    else:  # from ARR at the window start to ARR at its end
        moves = {
            "expansion_arr": pl.when(e_ > s_).then(e_ - s_).otherwise(zero),
            "contraction_arr": pl.when((e_ > 0) & (e_ < s_)).then(s_ - e_).otherwise(zero),
            "churned_arr": pl.when(e_ == 0).then(s_).otherwise(zero),
        }
    # the ledger is dense and sorted: ``window`` rows on in the same account is ``e``
    # (every shift before the filter, which drops rows)
    cohort = lf.with_columns(**ahead).filter(pl.col("arr") > 0).with_columns(**moves)
    moved = pl.col(owner).fill_null(NONE_SEGMENT) != pl.col("_owner_e").fill_null(NONE_SEGMENT)
    cohort = cohort.with_columns(_moved=moved)
    out_aggs = [
        *(pl.col(k).sum() for k in MOVES),
        pl.col("arr").filter(pl.col("_moved")).sum().alias("reassigned_out_arr"),
        pl.col("_moved").sum().cast(pl.Int64).alias("reassigned_out_logos"),
    ]
    held = per_month(cohort.select("period", owner, *MOVES, "arr", "_moved"), starts, by, out_aggs)
    taken = per_month(
        cohort.filter(pl.col("_moved")).select("period", pl.col("_owner_e").alias(owner), "arr"),
        starts,
        by,
        [
            pl.col("arr").sum().alias("reassigned_in_arr"),
            pl.len().cast(pl.Int64).alias("reassigned_in_logos"),
        ],
    ).filter(~is_total(by))
    keys = ["period", *by]
    result = base.join(held.rename({"_key": "period"}), on=keys, how="left", nulls_equal=True).join(
        taken.rename({"_key": "period"}), on=keys, how="left", nulls_equal=True
    )
    known = pl.col("cohort_logos").is_not_null()
    result = result.with_columns(
        *(pl.when(known).then(pl.col(k).fill_null(0)).alias(k) for k in MOVES),
        *(pl.when(known & ~is_total(by)).then(pl.col(k).fill_null(0)).alias(k) for k in REASSIGNED),
    )
    return order_rows(
        result.select("period", "start", "end", *by, *BOOK_KEYS, "_cohort_end_arr"), periods, by
    )


__all__ = ["BOOK_KEYS", "books"]
