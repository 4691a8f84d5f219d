"""Bounds that keep every run exact and finite (issue 19, items 4 and 8).

* Money is ``Int64`` cents. :func:`check_exact_sums` refuses, in one pass, data
  whose amounts could make any sum wrap around (see the argument there).
* Dates: :func:`open_ended` reads the well-known "no end" markers of a
  subscription's end date as no end; :func:`check_span` caps the fiscal months
  the data may span; :func:`check_dates` keeps every date inside what the
  calendar handles (:data:`retention_cli.calendar.EARLIEST` …
  :attr:`retention_cli.calendar.FiscalCalendar.latest`).

Every check raises an :class:`~retention_cli.errors.InputError` naming the file
and the lines at fault; none changes a valid input's results.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from retention_cli.calendar import EARLIEST, FiscalCalendar
from retention_cli.errors import InputError, Problem, UsageError
from retention_cli.options import MAX_WINDOW

LINE = "_line"
"""The line-number column of a loaded frame (as in :mod:`retention_cli.inputs`)."""

MAX_TOTAL_CENTS = 2**60
"""The most the absolute amounts of one input may add up to, in cents
(11,529,215,046,068,469.76 in currency units; Int64 holds 8 times that).

Why this is enough, for R = the sum of |amount| over every row (after MRR × 12
and currency conversion), R ≤ 2**60:

1. An account's ARR at any month end is at most the sum of |amount| over its own
   rows: a movement log's ARR is a running sum of its amounts; a snapshot
   month holds one of its rows' values (or a copy of one, carried forward or
   through a ``churn_grace`` gap); a subscriptions month sums some of its rows.
   So any sum of ARR over accounts at one month (a total, a segment, a cohort,
   a top-N) is at most R.
2. An account's ARR moves by at most twice the sum of |amount| over its rows in
   all its months together: a movement month moves by that month's amounts; a
   snapshot or subscription row's value enters once and leaves once; carrying
   a value forward or through a grace gap only removes moves (|y − x| ≤ x + y).
   So any sum of movements over accounts and months (a class of the bridge, a
   gross quarter or year, a bridge-method window, a transfer, a running sum of
   losses, even a running sum down the whole frame) is at most 2R.
3. Every figure the metrics compute is a sum or difference of at most a few
   such terms (the bridge identity: start + gains − losses ≤ 5R; a rounded
   division: 2|n| + d ≤ 2R + rows), so every partial result stays below
   8R = 2**63 and nothing wraps. Products of money (LTV) are bounded where
   they are made.
"""

_MONEY = {"movements": "amount", "snapshots": "arr", "subscriptions": "arr"}


def cents_text(cents: int) -> str:
    """Integer cents as exact currency text: ``-1,234.56``."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{frac:02d}"


def money_column(shape: str) -> str:
    """The money column of a loaded frame of ``shape`` (``amount`` or ``arr``)."""
    return _MONEY[shape]


def check_exact_sums(
    frame: pl.DataFrame, columns: Sequence[str], path: str, *, limit: int = MAX_TOTAL_CENTS
) -> None:
    """Raise an :class:`InputError` when the absolute cents of ``columns`` add up to
    more than ``limit`` (see :data:`MAX_TOTAL_CENTS`): then some total could not be
    held exactly. A column's minimum and maximum first: when the largest absolute
    value times the row count is within ``limit``, so is the sum; otherwise one
    streamed pass sums it in Int128, so the check itself cannot wrap. The error names
    the largest values and their lines.

    Examples
    --------
    >>> import polars as pl
    >>> check_exact_sums(pl.DataFrame({"arr": [10_000, -5_000], "_line": [2, 3]}), ["arr"], "f.csv")
    """
    for col in columns:
        lo, hi = frame.select(pl.col(col).min().alias("lo"), pl.col(col).max().alias("hi")).row(0)
        if lo is None or max(abs(lo), abs(hi)) * frame.height <= limit:
            continue  # no row is large enough for the sum to pass the limit
        # streamed: the Int128 copy of the column is never whole (1.6 GB at 100M rows)
        total = (
            frame.lazy()
            .select(pl.col(col).cast(pl.Int128).abs().sum())
            .collect(engine="streaming")
            .item()
        )
        if total is None or total <= limit:
            continue
        size = pl.col(col).cast(pl.Int128).abs()
        top = frame.select(LINE, col).sort(size, LINE, descending=[True, False]).head(3)
        largest = ", ".join(f"{cents_text(v)} (line {n})" for n, v in top.iter_rows())
        msg = (
            f"{col}: the amounts add up to {cents_text(total)} in absolute value, too large "
            f"to sum exactly (at most {cents_text(limit)}); the largest: {largest}"
        )
        raise InputError(
            path,
            [Problem(msg)],
            hint="check the amounts' unit (cents read as currency units?) and the outliers",
        )


def check_window(window: int) -> None:
    """Raise a :class:`UsageError` for ``window`` above
    :data:`retention_cli.options.MAX_WINDOW` (for callers of the metrics who do not
    come through the service's option checks)."""
    if window > MAX_WINDOW:
        msg = f"{window} fiscal months is longer than the {MAX_WINDOW} allowed"
        raise UsageError(msg, param="window", hint="use a window such as 12 (a year)")


def open_ended(frame: pl.DataFrame, dates: Sequence[dt.date]) -> tuple[pl.DataFrame, str | None]:
    """A subscriptions frame with every ``end_date`` in ``dates`` (the config's
    ``subscriptions.open_end_dates``) read as no end (null), and a warning saying
    how many there were (None when there were none)."""
    if not dates or frame.height == 0:
        return frame, None
    marked = pl.col("end_date").is_in(list(dates)).fill_null(False)
    found = int(frame.select(marked.sum()).item())
    if not found:
        return frame, None
    out = frame.with_columns(end_date=pl.when(marked).then(None).otherwise(pl.col("end_date")))
    return out, (
        f"{found:,} subscription(s) end on a 'no end' date (subscriptions.open_end_dates): "
        "read as still active"
    )


def _extreme(frame: pl.DataFrame, columns: Sequence[str], *, latest: bool) -> tuple[str, str]:
    """The earliest (or latest) date over ``columns`` as text, with where it is
    (``line 2, date``). Text, since a Python date cannot hold every date Polars can."""
    found: list[tuple[int, int, str, str]] = []
    for col in columns:
        at = pl.col(col).arg_max() if latest else pl.col(col).arg_min()
        day = pl.col(col).get(at)
        row = frame.select(
            day.cast(pl.Int32).alias("n"), pl.col(LINE).get(at), day.cast(pl.String).alias("s")
        ).row(0)
        if row[0] is not None:
            found.append((row[0], row[1], col, row[2]))
    _, line, col, text = max(found) if latest else min(found)
    return text, f"line {line}, {col}"


def check_span(
    frame: pl.DataFrame,
    columns: Sequence[str],
    path: str,
    *,
    months: int,
    limit: int,
    as_of: dt.date | None = None,
) -> None:
    """Raise an :class:`InputError` when the data spans more than ``limit`` fiscal
    months (the config's ``limits.max_months``), naming its earliest and latest dates
    (``as_of`` when the span runs to it)."""
    if months <= limit:
        return
    lo, lo_at = _extreme(frame, columns, latest=False)
    hi, hi_at = _extreme(frame, columns, latest=True)
    if as_of is not None and as_of.isoformat() > hi:
        hi, hi_at = as_of.isoformat(), "the as-of day"
    msg = (
        f"the data spans {months:,} fiscal months, more than the {limit:,} allowed "
        f"(limits.max_months): from {lo} ({lo_at}) to {hi} ({hi_at})"
    )
    raise InputError(
        path,
        [Problem(msg)],
        hint="correct or remove the outlying dates (a 'no end' marker in end_date belongs in "
        "subscriptions.open_end_dates), or raise limits.max_months in the config",
    )


def check_dates(
    frame: pl.DataFrame, columns: Sequence[str], path: str, calendar: FiscalCalendar
) -> None:
    """Raise an :class:`InputError` listing the rows whose dates in ``columns`` lie
    outside :data:`~retention_cli.calendar.EARLIEST` … ``calendar.latest``."""
    latest = calendar.latest
    bad = [
        frame.filter((pl.col(c) < EARLIEST) | (pl.col(c) > latest)).select(
            LINE, pl.lit(c).alias("column"), pl.col(c).cast(pl.String).alias("value")
        )
        for c in columns
    ]
    found = pl.concat(bad).sort(LINE)
    if found.height == 0:
        return
    what = f"outside the dates this calendar can show ({EARLIEST} to {latest})"
    problems = [Problem(what, line=n, column=c, value=v) for n, c, v in found.head(20).iter_rows()]
    raise InputError(
        path,
        problems,
        total=found.height,
        hint="correct the dates (a 'no end' marker in end_date belongs in "
        "subscriptions.open_end_dates)",
    )


__all__ = [
    "MAX_TOTAL_CENTS",
    "cents_text",
    "check_dates",
    "check_exact_sums",
    "check_span",
    "check_window",
    "money_column",
    "open_ended",
]
