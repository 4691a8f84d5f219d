"""Metrics in account batches: the same figures from a fraction of the working memory.

A metric whose figures are sums over accounts (the cohort counts and cents behind
NRR and GRR) can count a large ledger one batch of whole accounts at a time and add
the batches' integer sums before deriving any ratio. The sums are exact integers,
so the result is the same to the bit as counting every account at once; only the
temporaries of one batch (shifted and running-sum columns, the filtered cohort)
are alive at a time. A ledger of at most :data:`BATCH_ROWS` rows is one batch: the
unbatched run is the one-batch case of the same code.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from retention_cli.calendar import FiscalCalendar
    from retention_cli.config import Config
    from retention_cli.inputs import Loaded
    from retention_cli.ledger import Ledger
    from retention_cli.options import Grain, Method

BATCH_ROWS = 4_000_000
"""The most ledger rows in one batch (about 0.5 GB of a batch's temporaries: at 100M
rows, 4M-row parts peak 0.25 GB below 8M-row ones, at the same CPU time)."""

ENV_BATCH_ROWS = "RETENTION_BATCH_ROWS"
"""Environment variable that overrides :data:`BATCH_ROWS` (tests force small batches)."""


def batch_rows() -> int:
    """The most ledger rows in one batch: :data:`ENV_BATCH_ROWS` if set, else :data:`BATCH_ROWS`."""
    given = os.environ.get(ENV_BATCH_ROWS, "").strip()
    if not given:
        return BATCH_ROWS
    # a knob for tests, not an option: a value that is no row count is ignored (the
    # figures are the same in any number of batches; only the memory differs)
    return int(given) if given.isdigit() and int(given) > 0 else BATCH_ROWS


def batch_count(rows: int, per_batch: int | None = None) -> int:
    """How many batches ``rows`` ledger rows are counted in: ⌈rows / per batch⌉, at least 1."""
    size = per_batch if per_batch is not None else batch_rows()
    return max(1, math.ceil(rows / size))


def account_batches(
    ledger: Ledger, columns: list[str], *, per_batch: int | None = None
) -> list[pl.LazyFrame]:
    """The ledger's ``columns`` in batches of whole accounts, in ledger order.

    One batch (the ledger frame itself) when the ledger has at most ``per_batch``
    rows (default :func:`batch_rows`); otherwise about ``rows / per_batch`` slices
    of the collected columns, each cut at an account's first row, so every
    account's months stay together and in order. Slices share the collected
    columns' memory (no copy).
    """
    rows = int(ledger.frame.select(pl.len()).collect().item())
    k = batch_count(rows, per_batch)
    if k == 1:
        return [ledger.frame]
    data = ledger.frame.select(columns).collect()
    codes = data.get_column("account_id")
    if not codes.is_sorted():  # not expected (every ledger is sorted by account): do not cut
        return [data.lazy()]
    # the first row of the account at each k-th of the rows
    at = pl.Series([rows * i // k for i in range(1, k)], dtype=pl.Int64)
    cuts = codes.search_sorted(codes.gather(at), side="left").to_list()
    bounds = sorted({0, *(int(c) for c in cuts), rows})
    return [data.slice(lo, hi - lo).lazy() for lo, hi in itertools.pairwise(bounds)]


def add_batches(parts: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    """The batches' per-group sums added: one row per ``keys`` (a null key is a group).

    Every column but ``keys`` is an integer sum over accounts. One part is
    returned as it is.
    """
    if len(parts) == 1:
        return parts[0]
    both = pl.concat(parts, how="vertical")
    return both.group_by(keys, maintain_order=True).agg(pl.exclude(keys).sum())


def account_runs(ids: pl.Series) -> pl.Series | None:
    """The first row of each run of equal ``ids``, when every account's rows are one run.

    That is, when each account's rows are together (a file written account by
    account, as most exports are); None when some account's rows are apart. Compares
    category codes (or hashes: equal names hash equal, so a hash shared by two names
    only joins runs, never splits an account).
    """
    code = ids.to_physical() if ids.dtype == pl.Categorical else ids.hash()
    n = code.len()
    # zero-copy halves: only the comparison's bits are new
    changed = (code.slice(1) != code.slice(0, n - 1)).fill_null(value=True)
    starts = pl.concat([pl.Series([0], dtype=pl.UInt32), (changed.arg_true() + 1).cast(pl.UInt32)])
    del changed
    heads = code.gather(starts)
    return starts if heads.n_unique() == heads.len() else None


def account_parts(frame: pl.DataFrame, parts: int) -> Iterator[pl.DataFrame]:
    """The rows of ``frame`` in about ``parts`` parts of whole accounts, one at a time.

    When every account's rows are together (:func:`account_runs`), each part is a
    slice (no copy) of about ``height / parts`` rows, cut at an account's first row.
    Otherwise part ``i`` holds the accounts whose id's category code (or hash) is ``i``
    modulo ``parts``: one filter of the whole frame each (a part may be empty). Every
    row is in exactly one part.
    """
    rows = frame.height
    ids = frame.get_column("account_id")
    starts = account_runs(ids) if rows > 1 and parts > 1 else None
    if starts is not None or rows <= 1 or parts <= 1:
        if starts is None:
            cuts = [0, rows]
        else:
            # the first run that starts at or after each k-th of the rows
            at = starts.search_sorted(
                pl.Series([rows * i // parts for i in range(1, parts)], dtype=pl.UInt32),
                side="left",
            )
            inner = [int(starts[i]) for i in at.to_list() if i < starts.len()]
            cuts = sorted({0, *inner, rows})
        del starts, ids
        for lo, hi in itertools.pairwise(cuts):
            yield frame.slice(lo, hi - lo)
        return
    code = ids.to_physical() if ids.dtype == pl.Categorical else ids.hash()
    key = (code % parts).cast(pl.UInt16 if parts < 2**16 else pl.UInt32)
    del ids, code
    for i in range(parts):
        yield frame.filter(key == i)  # held by the caller alone: freed when it lets go


def retention_in_parts(
    loaded: Loaded,
    calendar: FiscalCalendar,
    *,
    config: Config,
    dimensions: list[str],
    grain: Grain,
    window: int,
    method: Method,
    by: list[str],
    parts: int,
) -> tuple[Ledger, pl.DataFrame]:
    """:func:`~retention_cli.metrics.retention` with the ledger built a part at a time.

    For a snapshot file or movement log: each part of the accounts gets its ledger,
    counted and then freed, so the whole ledger is never in memory beside the loaded
    rows. Returns the whole ledger's header (span, warnings; no rows) and the
    retention frame. The checks over the whole file (the amounts' total, the date
    bounds) run first, as :func:`~retention_cli.ledger.build_ledger` runs them; the
    warnings about the whole file add up the parts' counts. An account's rows all
    fall in one part (:func:`account_parts`). Not for
    ``as_of``, a roll-up, dated FX or computed bands (the caller checks). Raises
    whatever a part raises (the caller then runs the whole-file path, which says it
    as ever).
    """
    from dataclasses import replace

    from retention_cli.ledger import Ledger, build_ledger_part, ledger_span, part_warnings
    from retention_cli.metrics.bridge import reporting_periods
    from retention_cli.metrics.retention import retention_finish, retention_sums
    from retention_cli.options import Shape

    span = ledger_span(loaded, calendar, config)
    schema = {"account_id": pl.UInt32, "period": pl.Int32, "arr": pl.Int64}
    whole = Ledger(
        frame=pl.LazyFrame(schema={**schema, **dict.fromkeys(dimensions, pl.String)}),
        calendar=calendar,
        first_period=span[0],
        last_period=span[1],
        opening_balance=loaded.shape is Shape.snapshots,
        dimensions=tuple(dimensions),
        policies=config.policies,
    )
    periods = reporting_periods(whole, grain)
    sums, segments, counts = [], [], []
    known: set[int] = set()  # the months a snapshot is dated in, found so far
    for rows in account_parts(loaded.frame, parts):
        if rows.height == 0:
            continue
        part, found = build_ledger_part(
            replace(loaded, frame=rows), calendar, config=config, dimensions=dimensions,
            span=span, known=known,
        )  # fmt: skip
        del rows
        known |= found.present or set()
        sums.append(retention_sums(part.frame, periods, window=window, method=method, by=by))
        if by:
            segments.append(part.frame.select(by).unique().collect())
        counts.append(found)
        del part
    whole = replace(whole, warnings=tuple(part_warnings(counts, span, calendar, config)))
    listed = pl.concat(segments).unique() if by else None
    frame = retention_finish(
        add_batches(sums, ["period", *by]), whole, periods, window=window, by=by, segments=listed
    )
    return whole, frame


__all__ = [
    "BATCH_ROWS",
    "ENV_BATCH_ROWS",
    "account_batches",
    "account_parts",
    "account_runs",
    "add_batches",
    "batch_count",
    "batch_rows",
    "retention_in_parts",
]
