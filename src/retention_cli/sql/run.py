"""``--engine``: the metric commands computed by the SQL where the data is.

The engine returns month-level integer rows (:data:`~retention_cli.sql.BRIDGE_SUMS`,
:data:`~retention_cli.sql.RETENTION_SUMS`); :func:`bridge_frame` and
:func:`retention_frame` turn them into exactly the frames the Polars core builds,
and the same :class:`~retention_cli.result.Result`, renderers, definitions and hash
follow. With ``--by`` the SQL also returns the segment rows (transfers included, SPEC §4)
and the list of segments, and the frames are assembled as the core assembles them.
What the SQL path cannot do (``--as-of``, ``carry_forward``, FX, reading rules) is
refused, naming it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from types import SimpleNamespace
from typing import Any

import polars as pl

from retention_cli.calendar import FiscalCalendar
from retention_cli.config import Config
from retention_cli.errors import UsageError
from retention_cli.inputs.rules import sub_month_warning
from retention_cli.ledger import Ledger
from retention_cli.metrics import BRIDGE_KEYS, reporting_periods
from retention_cli.metrics.frames import is_total, order_rows, ratio, with_every_segment
from retention_cli.metrics.retention import RETENTION_KEYS
from retention_cli.metrics.transfers import TRANSFER_KEYS
from retention_cli.options import BridgeMode, Grain, Shape
from retention_cli.service import MetricRun, RunOptions
from retention_cli.sql import (
    BOUNDS,
    BRIDGE_SUMS,
    DATE_COLUMNS,
    MONTH_SUMS,
    PARTS,
    RETENTION_SUMS,
    SHAPE_COLUMNS,
    TRANSFER_SUMS,
    Source,
    metric_sql,
    quote_name,
    quote_table,
    unsupported,
)
from retention_cli.sql.engine import location, mask, query

ENGINE_COMMANDS = ("bridge", "nrr", "churn")
"""The commands ``--engine`` runs."""


def table_columns(uri: str, table: str) -> list[str]:
    """The column names of ``table`` on the engine (a query that reads no rows)."""
    return query(uri, f"SELECT * FROM {quote_table(table)} WHERE 1 = 0", raw_names=True).columns


def detect_source(
    uri: str,
    table: str,
    shape: Shape | None,
    columns: dict[str, str],
    by: list[str] | tuple[str, ...] = (),
) -> Source:
    """The :class:`Source` of ``table``: its shape (given, or detected from its columns as
    for files) and the column behind each canonical name (mapped, or matched ignoring
    case, spaces and underscores). Each ``by`` column must be one of the table's own,
    spelt exactly, and not one the shape reads."""
    present = table_columns(uri, table)

    def norm(name: str) -> str:
        return name.lower().replace(" ", "").replace("_", "")

    found = {norm(c): c for c in present}
    mapping = {
        k: columns.get(k) or found.get(norm(k), k) for s in SHAPE_COLUMNS.values() for k in s
    }
    if shape is None:
        have = {k for k, v in mapping.items() if v in present}
        if {"type", "amount"} <= have:
            shape = Shape.movements
        elif "start_date" in have:
            shape = Shape.subscriptions
        else:
            shape = Shape.snapshots
    need = SHAPE_COLUMNS[shape]
    missing = [k for k in need if mapping[k] not in present]
    if missing:
        shown = ", ".join(f"{k} ({mapping[k]!r})" for k in missing)
        msg = (
            f"the table {table!r} has no column for {shown} ({shape.value} need {', '.join(need)})"
        )
        hint = 'map it: --column account_id="Customer ID"'
        raise UsageError(msg, param="columns", hint=hint)
    used = {mapping[k] for k in need}
    dims = {}
    for d in by:  # spelt exactly, or the one column of that name in another case (Snowflake)
        same = [c for c in present if c.lower() == d.lower()]
        real = d if d in present else same[0] if len(same) == 1 else None
        if real is None or real in used:
            why = "is read as part of the data of" if real in used else "is not a column of"
            msg = f"--by {d!r} {why} the table {table!r} (its columns: {', '.join(present)})"
            raise UsageError(msg, param="by", hint="split by a dimension column")
        dims[d] = real
    return Source(table, shape, {**{k: mapping[k] for k in need}, **dims})


def data_span(uri: str, source: Source) -> tuple[dt.date, dt.date] | None:
    """The first and last date in the table's date columns (None: no dates)."""
    cols = [quote_name(source.column(c)) for c in DATE_COLUMNS[source.shape]]
    parts = [
        f"MIN(CAST({c} AS DATE)) AS lo{i}, MAX(CAST({c} AS DATE)) AS hi{i}"
        for i, c in enumerate(cols)
    ]
    row = query(uri, f"SELECT {', '.join(parts)} FROM {quote_table(source.table)}").row(0)
    days = [d for d in row if d is not None]
    return (min(days), max(days)) if days else None


def check_options(command: str, config: Config, opts: RunOptions) -> None:
    """Refuse what the SQL path does not compute, naming the option or policy."""
    if command not in ENGINE_COMMANDS:
        msg = f"{command} does not run on an engine yet (it does: {', '.join(ENGINE_COMMANDS)})"
        raise UsageError(msg, param="engine", hint="export the table and give it as FILE")
    if opts.as_of:
        msg = "the SQL path does not report as of a day"
        raise UsageError(msg, param="as_of", hint="leave out --as-of, or export the table")
    setting = unsupported(config)
    if setting:
        msg = f"the SQL path does not support the config's {setting}"
        raise UsageError(msg, param="config", hint="remove it from the config, or export the table")


MOVEMENT_SUMS = tuple(
    k for k in BRIDGE_SUMS if k not in ("start_arr", "end_arr", "start_logos", "end_logos")
)


def _gross(sums: pl.DataFrame, periods: pl.DataFrame) -> pl.DataFrame:
    """Gross bridge rows of longer periods from month rows: the movements summed over the
    period's months, the start from its first month and the end from its last."""
    months = periods.select(
        "_last", "_prev", month=pl.int_ranges(pl.col("_prev") + 1, pl.col("_last") + 1)
    ).explode("month")
    rows = months.join(sums.with_columns(month=pl.col("period")), on="month")
    return rows.group_by("_last", maintain_order=True).agg(
        *(pl.col(k).sum() for k in MOVEMENT_SUMS),
        *(
            pl.col(k).filter(pl.col("month") == pl.col("_prev") + 1).sum()
            for k in ("start_arr", "start_logos")
        ),
        *(
            pl.col(k).filter(pl.col("month") == pl.col("_last")).sum()
            for k in ("end_arr", "end_logos")
        ),
    )


def _segment_periods(
    segs: pl.DataFrame, periods: pl.DataFrame, grain: Grain, mode: BridgeMode, by: list[str]
) -> pl.DataFrame:
    """The engine's ``bridge_segments`` rows per reported period and segment: as they
    are (one per month, or per period for the net bridge of a longer grain), or for
    the gross bridge of a longer grain summed over the period's months (the start from
    its first month, the end and the members from its last), as the core does."""
    if grain is not Grain.month and mode is BridgeMode.gross:
        months = periods.select(
            "_last", "_prev", month=pl.int_ranges(pl.col("_prev") + 1, pl.col("_last") + 1)
        ).explode("month")
        rows = months.join(segs.with_columns(month=pl.col("period")), on="month")
        first, last = pl.col("month") == pl.col("_prev") + 1, pl.col("month") == pl.col("_last")
        agg = rows.group_by("_last", *by, maintain_order=True).agg(
            *(pl.col(k).sum() for k in (*MOVEMENT_SUMS, *TRANSFER_KEYS)),
            *(pl.col(k).filter(first).sum() for k in ("start_arr", "start_logos")),
            *(pl.col(k).filter(last).sum() for k in ("end_arr", "end_logos", "members")),
        )
    else:
        agg = segs.rename({"period": "_last"})
    agg = agg.with_columns(pl.col("_last").cast(pl.Int32))
    return periods.join(agg, on="_last", how="inner", maintain_order="left")


def bridge_frame(
    sums: pl.DataFrame,
    ledger: Ledger,
    grain: Grain = Grain.month,
    mode: BridgeMode = BridgeMode.net,
    *,
    by: list[str] | None = None,
    segments: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The bridge frame of the core (:func:`retention_cli.metrics.bridge`) from the
    engine's ``bridge_sums`` rows (one per month; one per period for the net bridge of
    a longer grain); with ``by``, also from its ``bridge_segments`` rows
    (``segments``, the segment columns named as ``by``)."""
    by = list(by or [])
    total = _bridge_totals(sums, ledger, grain, mode)
    if not by:
        return total
    assert segments is not None
    periods = reporting_periods(ledger, grain)
    keys = [*BRIDGE_KEYS, *TRANSFER_KEYS]
    total = total.with_columns(
        *(pl.lit(None, pl.String).alias(d) for d in by),
        *(pl.lit(None, pl.Int64).alias(k) for k in TRANSFER_KEYS),
    )
    segs = _segment_periods(segments, periods, grain, mode, by).select(
        "period", "start", "end", *by, *(pl.col(k).cast(pl.Int64) for k in (*keys, "members"))
    )
    cols = ["period", "start", "end", *by, *keys]
    result = pl.concat([total.select(cols), segs.select(cols)])
    result = with_every_segment(result, ledger, by).with_columns(
        pl.col(k).fill_null(0) for k in BRIDGE_KEYS
    )
    result = result.with_columns(
        pl.when(is_total(by)).then(None).otherwise(pl.col(k).fill_null(0)).alias(k)
        for k in TRANSFER_KEYS
    )
    if ledger.opening_balance:  # end balances only, of the segments present at its end
        opening = periods.filter(pl.col("_prev") < ledger.first_period)["period"].implode()
        present = segs.filter(pl.col("members") > 0).select("period", *by)
        opened = result.filter(pl.col("period").is_in(opening))
        opened = pl.concat(
            [
                opened.filter(is_total(by)),
                opened.join(present, on=["period", *by], how="semi"),
            ]
        )
        opened = opened.with_columns(
            pl.lit(None, pl.Int64).alias(k) for k in keys if k not in ("end_arr", "end_logos")
        )
        result = pl.concat([opened, result.filter(~pl.col("period").is_in(opening))])
    return order_rows(result, periods, by)


def _bridge_totals(
    sums: pl.DataFrame, ledger: Ledger, grain: Grain, mode: BridgeMode
) -> pl.DataFrame:
    """The bridge's total rows from the engine's ``bridge_sums`` rows."""
    periods = reporting_periods(ledger, grain)
    if grain is not Grain.month and mode is BridgeMode.gross:
        sums = _gross(sums, periods).rename({"_last": "period"})
    rows = sums.select(pl.col("period").cast(pl.Int32).alias("_last"), *BRIDGE_SUMS)
    out = periods.join(rows, on="_last", how="left", maintain_order="left").select(
        "period", "start", "end", *(pl.col(k).fill_null(0).cast(pl.Int64) for k in BRIDGE_KEYS)
    )
    if ledger.opening_balance:  # a snapshot table's first period: end balances only
        first = pl.Series(periods["_prev"] < ledger.first_period)
        out = out.with_columns(
            pl.when(pl.lit(first)).then(None).otherwise(pl.col(k)).alias(k)
            for k in BRIDGE_KEYS
            if k not in ("end_arr", "end_logos")
        )
    return out


def retention_frame(
    sums: pl.DataFrame,
    ledger: Ledger,
    grain: Grain,
    window: int,
    *,
    by: list[str] | None = None,
    segments: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The retention frame of the core (:func:`retention_cli.metrics.retention`) from
    the engine's ``retention_sums`` rows (one per window end); with ``by``, also from
    its ``retention_segments`` rows (``segments``, the segment columns named as ``by``)."""
    by = list(by or [])
    periods = reporting_periods(ledger, grain)
    cal = ledger.calendar

    def counted(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select(
            pl.col("period").cast(pl.Int32).alias("_last"),
            *by,
            "cohort_logos",
            "cohort_start_arr",
            pl.col("cohort_end_arr").alias("_cohort_end_arr"),
            pl.col("cohort_kept_arr").alias("_cohort_min_arr"),
            pl.col("retained_logos").alias("_retained_logos"),
        )

    counts = [
        "cohort_logos",
        "cohort_start_arr",
        "_cohort_end_arr",
        "_cohort_min_arr",
        "_retained_logos",
    ]
    base = periods.with_columns(_s=pl.col("_last") - window)
    result = base.join(
        counted(sums.with_columns(pl.lit(None, pl.String).alias(d) for d in by)),
        on="_last",
        how="left",
        maintain_order="left",
    )
    if by:
        assert segments is not None
        segs = base.join(counted(segments), on="_last", maintain_order="left")
        result = with_every_segment(pl.concat([result, segs.select(result.columns)]), ledger, by)
    unknown = pl.col("_s") < ledger.first_period
    result = result.with_columns(
        pl.when(unknown).then(None).otherwise(pl.col(c).fill_null(0)).cast(pl.Int64).alias(c)
        for c in counts
    )
    starts = {s: cal.month_start(s + 1) for s in result["_s"].unique().to_list()}
    result = result.with_columns(
        window_start=pl.col("_s").replace_strict(starts, return_dtype=pl.Date),
        nrr=ratio("_cohort_end_arr", "cohort_start_arr"),
        grr=ratio("_cohort_min_arr", "cohort_start_arr"),
        logo_retention=ratio("_retained_logos", "cohort_logos"),
        logo_churn_rate=ratio(pl.col("cohort_logos") - pl.col("_retained_logos"), "cohort_logos"),
        gross_revenue_churn=ratio(
            pl.col("cohort_start_arr") - pl.col("_cohort_min_arr"), "cohort_start_arr"
        ),
        net_revenue_churn=ratio(
            pl.col("cohort_start_arr") - pl.col("_cohort_end_arr"), "cohort_start_arr"
        ),
    )
    cols = ["period", "start", "end", *by, *RETENTION_KEYS, *counts[2:]]
    return order_rows(result.select(cols), periods, by) if by else result.select(cols)


class EngineRun(MetricRun):
    """One table on one engine under one set of options: the metric frames come from
    the SQL, everything after (periods, warnings, definitions, rendering) is the
    local path's."""

    def __init__(
        self,
        uri: str,
        source: Source,
        config: Config,
        opts: RunOptions,
        command: str,
        *,
        accounts: list[str] | None = None,
    ) -> None:
        check_options(command, config, opts)
        self.uri, self.source, self.config, self.opts = uri, source, config, opts
        self.accounts = accounts
        self.by = list(opts.by)
        self._cache: dict[str, pl.DataFrame] = {}
        self.calendar = FiscalCalendar(config.fiscal_year)
        span = data_span(uri, source)
        if span is None:
            msg = f"the table {source.table!r} on {mask(uri)} has no dated rows"
            raise UsageError(msg, param="table")
        self.span = span
        metric = "churn" if command == "churn" else command
        rows = self._run(metric)
        self.sha256 = input_digest(uri, source, rows)
        head = rows.row(0, named=True)
        if head["unplaced"]:
            msg = (
                f"{head['unplaced']:,} of the {head['rows_read']:,} rows of {source.table!r} have "
                "no account, date or amount, an unknown movement type, or another row for the "
                "same account and date; the SQL path does not check rows further"
            )
            hint = "run `retention validate` on an export of the table to see them"
            raise UsageError(msg, param="table", hint=hint)
        if head.get("dim_ties"):
            msg = (
                f"{head['dim_ties']:,} account-date(s) of {source.table!r} have rows that disagree "
                f"on {', '.join(map(repr, self.by))}: a file is read by line order there, a table "
                "has none"
            )
            hint = "give the rows of one account and date the same segment"
            raise UsageError(msg, param="by", hint=hint)
        self.rows_read = int(head["rows_read"])
        self.rows_used = self.rows_read
        parts = {}
        if self.by:  # the segment rows, their columns named as --by
            names = {f"seg_{i}": d for i, d in enumerate(self.by)}
            part = pl.col("part")
            parts = {
                k: rows.filter(part == v).rename(names) for k, v in PARTS.items() if k != "total"
            }
            rows = rows.filter(part == PARTS["total"])
        warnings = self._warnings(head, rows)
        self.ledger = Ledger(
            frame=parts["segments"].select(self.by).lazy() if self.by else pl.LazyFrame(),
            dimensions=tuple(self.by),
            calendar=self.calendar,
            first_period=int(head["first_period"]),
            last_period=int(head["last_period"]),
            opening_balance=source.shape is Shape.snapshots,
            policies=config.policies,
            warnings=tuple(warnings),
        )
        self.loaded = SimpleNamespace(warnings=[])  # the result's warnings read it
        rows = rows.filter(pl.col("period").is_not_null())
        if metric in ("bridge", "churn"):
            self._cache["bridge"] = bridge_frame(
                rows, self.ledger, opts.grain, opts.bridge, by=self.by, segments=parts.get("bridge")
            )
        if metric in ("nrr", "churn"):
            sums = rows.filter(pl.col("cohort_logos").is_not_null())
            self._cache["nrr"] = retention_frame(
                sums, self.ledger, opts.grain, opts.window, by=self.by,
                segments=parts.get("retention"),
            )  # fmt: skip

    def _warnings(self, head: dict[str, Any], rows: pl.DataFrame) -> list[str]:
        """The local path's ledger warnings, in its words, from the engine's counts."""
        cal, out = self.calendar, []
        if head["open_ends"]:
            out.append(
                f"{head['open_ends']:,} subscription(s) end on a 'no end' date "
                "(subscriptions.open_end_dates): read as still active"
            )
        if head["later_ends"]:
            last = cal.label(int(head["last_period"]), Grain.month)
            out.append(
                f"{head['later_ends']:,} subscription(s) end after {last}, "
                "the month of the latest start date: those ends are not reported as churn "
                "(pass a later as-of date to see them)"
            )
        if head["inside_month"]:
            out.append(sub_month_warning(int(head["inside_month"])))
        if head["several"]:
            out.append(
                f"{head['several']:,} account-period(s) have several snapshots; the latest date in "
                "each period was used"
            )
        if self.source.shape is Shape.snapshots:
            empty = [
                cal.label(int(p), Grain.month)
                for p in rows.filter(pl.col("dated_rows").is_null())["period"].to_list()
            ]
            if empty:
                shown = ", ".join(empty[:12]) + (
                    f" and {len(empty) - 12:,} more" if len(empty) > 12 else ""
                )
                out.append(
                    f"no snapshots are dated in {len(empty):,} period(s): {shown}; every account "
                    "counts as 0 ARR there (set snapshots.carry_forward: true to keep the last value)"
                )
        grace = self.config.policies.churn_grace
        if grace and head["grace_gaps"]:
            out.append(
                f"churn_grace {grace}: {head['grace_gaps']:,} gap(s) at zero ARR bridged "
                "(the account's ARR carried through; no churn, no reactivation)"
            )
        return out

    def _run(self, metric: str) -> pl.DataFrame:
        sql = metric_sql(
            metric, self.source, self.calendar, self.span, policies=self.config.policies,
            window=self.opts.window, method=self.opts.method,
            open_end_dates=self.config.subscriptions.open_end_dates, accounts=self.accounts,
            grain=self.opts.grain, mode=self.opts.bridge, combine=self.config.snapshots.combine,
            by=[self.source.column(d) for d in self.by],
        )  # fmt: skip
        rows = query(self.uri, sql)
        if rows.height == 0 or rows["first_period"][0] is None:
            msg = f"the table {self.source.table!r} on {mask(self.uri)} has no usable rows"
            raise UsageError(msg, param="table")
        seg = [f"seg_{i}" for i in range(len(self.by))]
        keep = [
            c
            for c in (*BOUNDS, "dim_ties", "period", *MONTH_SUMS, "part", *BRIDGE_SUMS,
                      *TRANSFER_SUMS, *RETENTION_SUMS)
            if c in rows.columns
        ]  # fmt: skip
        return rows.select(
            *(pl.col(c).cast(pl.String) for c in seg), *(pl.col(c).cast(pl.Int64) for c in keep)
        )

    @property
    def input(self) -> dict[str, Any]:
        """The engine (password masked), table and shape instead of a file; ``sha256``
        is :func:`input_digest` (what it covers is said in ``sha256_of``)."""
        return {
            "path": f"{mask(self.uri)} table {self.source.table}",
            "sha256": self.sha256,
            "sha256_of": DIGEST_OF,
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "rows_skipped": 0,
            "shape": self.source.shape.value,
        }


DIGEST_OF = (
    "the engine's location (kind, host and port or file, database; no user or credential), "
    "the table, its columns as read, and the month-level rows the query returned"
)
"""What the ``sha256`` of an engine run's ``input`` covers (said in its JSON)."""


def input_digest(uri: str, source: Source, rows: pl.DataFrame) -> str:
    """A stable identity of an engine run's input, in place of a file's sha256.

    sha256 over the canonical JSON of the engine's :func:`~retention_cli.sql.engine.location`
    (never a user name, password or parameter), the table, the shape and the column
    mapping, then the fetched month-level rows as CSV (in the query's order). Equal
    for the same command and options on unchanged data; any change to the data that
    reaches a month-level sum changes it. It differs between commands and options,
    since each fetches its own rows.
    """
    ident = {
        "engine": location(uri),
        "table": source.table,
        "shape": source.shape.value,
        "columns": dict(sorted(source.columns.items())),
    }
    digest = hashlib.sha256(json.dumps(ident, sort_keys=True, separators=(",", ":")).encode())
    digest.update(b"\n")
    digest.update(rows.write_csv().encode())
    return digest.hexdigest()


def engine_result(
    command: str,
    uri: str,
    table: str,
    config: Config,
    opts: RunOptions,
) -> Any:
    """``retention COMMAND --engine URI --table T``: the :class:`Result` of a metric
    command computed by the engine."""
    check_options(command, config, opts)
    columns = {**config.columns, **opts.columns}
    from retention_cli.inputs.columns import RULE_COLUMNS

    ruled = [c for c in RULE_COLUMNS if c in columns and c != "item_id"]
    if ruled:  # a trial end, a status, a quantity … would be read as plain ARR by the SQL
        msg = f"the SQL path does not read the {ruled[0]} column (a reading rule): {ruled[0]}={columns[ruled[0]]!r}"
        raise UsageError(
            msg, param="columns", hint="run on a file for reading rules, or drop the mapping"
        )
    source = detect_source(uri, table, opts.shape, columns, opts.by)
    return EngineRun(uri, source, config, opts, command).result(command)


__all__ = [
    "ENGINE_COMMANDS",
    "EngineRun",
    "bridge_frame",
    "check_options",
    "data_span",
    "detect_source",
    "engine_result",
    "input_digest",
    "retention_frame",
    "table_columns",
]
