"""The metric definitions as portable SQL, for data that lives in a database (issue 20).

Each metric is one SQL source shipped in ``queries/`` (DuckDB dialect, integer cents,
explicit casts and null ordering): a ledger per input shape (``ledger_*.sql``), the
``churn_grace`` policy (``grace.sql``), then the month bridge (``bridge.sql``) and the
trailing-window retention (``retention.sql``). :func:`metric_sql` joins them under an
explicit calendar spine, a ``VALUES`` list of fiscal months made by
:class:`~retention_cli.calendar.FiscalCalendar`, so 4-4-5 calendars need no date
arithmetic in SQL; :func:`transpile` turns the result into another dialect with
SQLGlot in strict mode.

The query returns month-level integer rows only (sums in cents and counts); ratios
are divided in Python by the same code as the local path, so both agree to the cent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources

from retention_cli.calendar import FiscalCalendar
from retention_cli.config import Config, Policies
from retention_cli.errors import UsageError
from retention_cli.options import MAX_WINDOW, BridgeMode, Grain, Method, Shape

DIALECTS = ("duckdb", "postgres", "spark", "databricks", "bigquery", "snowflake", "trino")
"""The dialects ``retention sql`` emits (SQLGlot's names)."""

METRICS = ("bridge", "nrr", "churn")
"""The metrics with a SQL source: the month bridge, NRR/GRR/logo retention, churn."""

SHAPE_COLUMNS: dict[Shape, tuple[str, ...]] = {
    Shape.snapshots: ("account_id", "date", "arr"),
    Shape.movements: ("account_id", "date", "type", "amount"),
    Shape.subscriptions: ("account_id", "start_date", "end_date", "arr"),
}
"""The canonical columns each shape's SQL reads (money in currency units, any numeric type)."""

DATE_COLUMNS: dict[Shape, tuple[str, ...]] = {
    Shape.snapshots: ("date",),
    Shape.movements: ("date",),
    Shape.subscriptions: ("start_date",),
}
"""The date columns that decide the span of the calendar spine (a subscription's end
date does not: the months run to the one of the latest start date)."""

BRIDGE_SUMS = (
    "start_arr", "new_arr", "reactivation_arr", "expansion_arr", "contraction_arr",
    "churned_arr", "end_arr", "start_logos", "new_logos", "reactivated_logos",
    "churned_logos", "end_logos",
)  # fmt: skip
"""Columns of ``bridge_sums``: one per bridge key, cents or logos per fiscal month."""

RETENTION_SUMS = (
    "cohort_logos", "cohort_start_arr", "cohort_end_arr", "cohort_kept_arr", "retained_logos",
)  # fmt: skip
"""Columns of ``retention_sums``: the integer numerators and denominators behind
NRR, GRR and logo retention, per window end."""

BOUNDS = (
    "first_period", "last_period", "rows_read", "unplaced", "several", "later_ends", "open_ends",
    "inside_month", "grace_gaps",
)  # fmt: skip
"""Columns on every row: the data's first and last fiscal month, the rows read, the
rows left out (no account, date or amount, a date outside the spine, an unknown
movement type, two snapshots of one account and date without ``combine: sum``: the
engine path refuses a result with any), and the counts behind the local path's
warnings (account-months with several snapshots, subscriptions ending after the last
month, open end dates, subscriptions inside one month, grace gaps).
Each row also has ``period`` and :data:`MONTH_SUMS`."""

MONTH_SUMS = ("dated_rows", "dated_cents", "ledger_arr", "ledger_accounts")
"""Columns on every month's row: the rows dated in the month and their amounts (cents),
and the ledger at its end (ARR in cents, accounts). They make the fetched rows an
identity of the data (:func:`retention_cli.sql.run.input_digest`)."""

TRANSFER_SUMS = (
    "transfer_in_arr", "transfer_out_arr", "transfer_in_logos", "transfer_out_logos", "members",
)  # fmt: skip
"""Columns of ``bridge_segments`` besides :data:`BRIDGE_SUMS`: the segment transfers
(SPEC §4) and ``members``, the accounts in the segment at the step's end."""

PARTS = {"total": 0, "bridge": 1, "retention": 2, "segments": 3}
"""With ``by``, the ``part`` column of each row: the totals (one row per month, as
without ``by``), the bridge per segment, retention per segment, and the list of
every segment in the ledger (``period`` null)."""

NONE = "(none)"
"""The segment of a missing dimension value (``metrics.frames.NONE_SEGMENT``)."""

_NAME = re.compile(r"^[^\x00-\x1f\x7f\"`\\.;]{1,128}$")

DEFAULT_SPAN = (dt.date(2015, 1, 1), dt.date(2034, 12, 31))
"""The spine of ``retention sql`` without ``--from``/``--to``: twenty years."""


def _query(name: str) -> str:
    text = resources.files(__package__).joinpath("queries", f"{name}.sql").read_text("utf-8")
    # the sources explain themselves in comments; the emitted SQL carries none
    return "\n".join(line for line in text.splitlines() if not line.startswith("--")).strip()


def quote_name(name: str, *, what: str = "column", param: str = "column") -> str:
    """``name`` as a quoted SQL identifier; a :class:`UsageError` for a name that is
    empty, too long, or holds a quote, backtick, backslash, dot, semicolon or control
    character (names are never pasted into SQL raw)."""
    if not _NAME.match(name):
        msg = (
            f"{name!r} is not a {what} name the SQL path accepts (1 to 128 characters, "
            "no quotes, backticks, backslashes, dots, semicolons or control characters)"
        )
        raise UsageError(msg, param=param)
    return f'"{name}"'


def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal (quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def quote_table(table: str) -> str:
    """A table name ``[catalog.][schema.]table`` with each part validated and quoted."""
    parts = table.split(".")
    if not table or len(parts) > 3:
        msg = f"{table!r} is not a table name: give table, schema.table or catalog.schema.table"
        raise UsageError(msg, param="table")
    return ".".join(quote_name(p, what="table", param="table") for p in parts)


@dataclass(frozen=True)
class Source:
    """Where the data is: a table, its shape, and the column holding each canonical one."""

    table: str
    shape: Shape
    columns: Mapping[str, str] = field(default_factory=dict)
    """Canonical column → the table's column (``account_id`` → ``Customer ID``)."""

    def column(self, canonical: str) -> str:
        """The table's column for ``canonical`` (the canonical name when not mapped)."""
        return self.columns.get(canonical, canonical)


def spine(calendar: FiscalCalendar, first: dt.date, last: dt.date) -> str:
    """The calendar spine: one ``VALUES`` row ``(period, month_start, month_end)`` per
    fiscal month from the one holding ``first`` to the one holding ``last``."""
    lo, hi = calendar.period_of(first), calendar.period_of(last)
    rows = ",\n    ".join(
        f"({p}, CAST('{calendar.month_start(p).isoformat()}' AS DATE), "
        f"CAST('{calendar.month_end(p).isoformat()}' AS DATE))"
        for p in range(lo, hi + 1)
    )
    return (
        "spine AS (\n  SELECT period, month_start, month_end\n  FROM (VALUES\n    "
        f"{rows}\n  ) AS t(period, month_start, month_end)\n)"
    )


def _grains(calendar: FiscalCalendar, span: tuple[dt.date, dt.date], grain: Grain) -> str:
    """``(first_month, last_month)`` rows of every period of ``grain`` touching ``span``."""
    lo, hi = calendar.period_of(span[0]), calendar.period_of(span[1])
    lasts = sorted({calendar.grain_last(p, grain) for p in range(lo, hi + 1)})
    return ",\n    ".join(f"({calendar.grain_first(last, grain)}, {last})" for last in lasts)


def unsupported(config: Config) -> str | None:
    """The definition setting the SQL path cannot honour in ``config`` (None: none)."""
    if config.snapshots.carry_forward:
        return "snapshots.carry_forward"
    from retention_cli.inputs.rules import Rules

    # reading rules beyond line items (a preset, amount units, billing intervals, statuses,
    # cancellation timing, discounts, movement-type names): the SQL reads ARR as it is
    # every reading rule but line items (`combine`), read from the Rules fields themselves
    # so a rule added later is refused here until the SQL honours it
    rules, plain = Rules.of(config), Rules()
    names = {"unit": "amount.unit", "minor_units": "amount.minor_units",
             "interval": "billing.interval", "per_year": "billing.per_year",
             "interval_count": "billing.interval_count",
             "term_end": "subscriptions.ends_after_term", "blank_value": "amount.blank"}  # fmt: skip
    for f in dataclasses.fields(Rules):
        if f.name != "combine" and getattr(rules, f.name) != getattr(plain, f.name):
            return f"{names.get(f.name, f.name)} reading rule"
    if config.fx is not None:
        return "fx (currency conversion)"
    return None


def metric_sql(
    metric: str,
    source: Source,
    calendar: FiscalCalendar,
    span: tuple[dt.date, dt.date],
    *,
    policies: Policies | None = None,
    window: int = 12,
    method: Method = Method.cohort,
    open_end_dates: tuple[dt.date, ...] = (),
    accounts: Iterable[str] | None = None,
    grain: Grain = Grain.month,
    mode: BridgeMode = BridgeMode.net,
    combine: str = "error",
    by: Sequence[str] = (),
) -> str:
    """The SQL (DuckDB dialect) of ``metric`` (``bridge``, ``nrr`` or ``churn``) over
    ``source``, with a spine of the fiscal months in ``span``.

    One row per fiscal month from the data's first (the bridge's sums at that
    month's end; retention's for the window ending there), each with the
    :data:`BOUNDS` columns; money in integer cents. ``accounts``: only the rows of
    these accounts (a sample, see :mod:`retention_cli.sql.verify`). With a ``grain``
    longer than a month and the ``net`` bridge, the bridge rows are one per period
    (keyed by its last month); the ``gross`` bridge is summed from month rows by
    the caller.

    ``by``: the table's dimension columns to split by (SPEC §4). Then each row also
    has ``part`` (:data:`PARTS`), ``dim_ties`` and ``seg_0``, ``seg_1`` … (the
    segment, null on a total row); the bridge's segment rows carry
    :data:`TRANSFER_SUMS`.
    """
    if metric not in METRICS:
        msg = f"no SQL for {metric!r}: the SQL path has {', '.join(METRICS)}"
        raise UsageError(msg, param="metric")
    if not 1 <= window <= MAX_WINDOW:
        msg = f"must be 1 to {MAX_WINDOW} fiscal months, not {window}"
        raise UsageError(msg, param="window")
    policies = policies or Policies()
    cols = {c: quote_name(source.column(c)) for c in SHAPE_COLUMNS[source.shape]}
    seg = [f"seg_{i}" for i in range(len(by))]
    dims = "".join(
        f",\n    TRIM(CAST({quote_name(d, param='by')} AS VARCHAR)) AS {s}"
        for d, s in zip(by, seg, strict=True)
    )
    placed = ", s.d" if source.shape is Shape.movements and by else ""
    placed += "".join(f", s.{s}" for s in seg)
    table = quote_table(source.table)
    if accounts is not None:  # a sample: only these accounts' rows
        listed = ", ".join(sql_literal(a) for a in sorted(accounts)) or "NULL"
        account = quote_name(source.column("account_id"))
        table = f"(SELECT * FROM {table} WHERE TRIM(CAST({account} AS VARCHAR)) IN ({listed})) AS sampled"
    open_ends = ", ".join(f"CAST('{d.isoformat()}' AS DATE)" for d in open_end_dates) or "NULL"
    clash = "1 = 0" if combine == "sum" else "COUNT(*) > 1"  # line items summed, or refused
    ledger = _query(f"ledger_{source.shape.value}").format(
        table=table, open_ends=open_ends, clash=clash, dims=dims, placed_dims=placed, **cols
    )
    ctes = [spine(calendar, *span), ledger]
    flat = "ledger_flat" if by else "ledger"
    if policies.churn_grace:
        ctes.append(_query("grace").format(grace=int(policies.churn_grace), ledger=flat))
    else:
        ctes.append(f"{flat} AS (\n  SELECT account_id, period, arr FROM ledger_raw\n)")
        ctes.append("grace_notes AS (\n  SELECT CAST(0 AS BIGINT) AS grace_gaps\n)")
    if by:
        ctes.append(_segments(source.shape, seg))
    ctes.append(
        "months AS (\n  SELECT p.period\n  FROM spine AS p\n  CROSS JOIN bounds AS b\n"
        "  WHERE p.period >= b.first_period AND p.period <= b.last_period\n)"
    )
    ctes.append(
        "ledger_ends AS (\n  SELECT period, CAST(SUM(arr) AS BIGINT) AS ledger_arr, "
        "CAST(COUNT(*) AS BIGINT) AS ledger_accounts\n  FROM ledger\n  GROUP BY period\n)"
    )
    select = [
        "b.first_period", "b.last_period", "b.rows_read", "b.unplaced", "n.several",
        "n.later_ends", "n.open_ends", "n.inside_month", "g.grace_gaps", "mo.period",
        "d.dated_rows", "d.dated_cents", "le.ledger_arr", "le.ledger_accounts",
    ]  # fmt: skip
    joins = []
    if metric in ("bridge", "churn"):
        if policies.reactivation == "as_new":
            returning = "1 = 0"
        elif policies.reactivation_window is not None:
            returning = (
                "last_pos IS NOT NULL AND "
                f"period - last_pos - 1 <= {int(policies.reactivation_window)}"
            )
        else:
            returning = "last_pos IS NOT NULL"
        lag = "LAG({s}, 1) OVER (PARTITION BY account_id ORDER BY period ASC NULLS FIRST)"
        if grain is Grain.month or mode is BridgeMode.gross:
            steps = "".join(f",\n    {s},\n    {lag.format(s=s)} AS was_{s}" for s in seg)
            ctes.append(_query("bridge_steps").format(segs=steps))
        else:
            if policies.reactivation_window is not None:
                msg = (
                    "the SQL path applies the reactivation_window policy at month grain "
                    "only (or with --bridge gross)"
                )
                raise UsageError(msg, param="grain", hint="use --grain month or --bridge gross")
            steps = "".join(f",\n    e.{s},\n    s.{s} AS was_{s}" for s in seg)
            ctes.append(
                _query("bridge_grain_steps").format(
                    grains=_grains(calendar, span, grain), segs=steps
                )
            )
        passed = "".join(f",\n    {s},\n    was_{s}" for s in seg)
        ctes.append(_query("bridge").format(returning=returning, segs=passed))
        if by:
            ctes.append(_bridge_segments(seg))
        base = "bridge_sums"
        select += [f"m.{c}" for c in BRIDGE_SUMS]
    if metric in ("nrr", "churn"):
        if method is Method.bridge:
            loss = (
                "CAST(SUM(CASE WHEN prev > arr THEN prev - arr ELSE 0 END) OVER (\n"
                "      PARTITION BY account_id ORDER BY period ASC NULLS FIRST "
                "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW\n    ) AS BIGINT)"
            )
            kept = "s.arr - (e.loss - s.loss)"
        else:
            loss = "CAST(0 AS BIGINT)"
            kept = "CASE WHEN e.arr < s.arr THEN e.arr ELSE s.arr END"
        carried = "".join(f", {s}" for s in seg)
        ctes.append(
            _query("retention").format(
                window=int(window),
                loss=loss,
                kept=kept,
                segs=carried,
                cohort_segs="".join(f", s.{s}" for s in seg),
            )
        )
        if by:
            names = ", ".join(seg)
            coalesced = ", ".join(f"COALESCE({s}, {sql_literal(NONE)}) AS {s}" for s in seg)
            ctes.append(_query("retention_segments").format(seg_names=names, coalesced=coalesced))
        if metric == "nrr":
            base = "retention_sums"
            select += [f"m.{c}" for c in RETENTION_SUMS]
        else:
            joins.append("LEFT JOIN retention_sums AS r ON r.period = mo.period")
            select += [f"r.{c}" for c in RETENTION_SUMS]
    body = ",\n".join(ctes)
    if by:
        return _segmented(metric, body, select, joins, base, seg)
    columns = ",\n  ".join(select)
    joined = "".join(f"\n{j}" for j in joins)
    return (
        f"-- retention {metric}: generated by retention-cli from its SQL sources\n"
        f"WITH {body}\n"
        f"SELECT\n  {columns}\n"
        "FROM bounds AS b\nCROSS JOIN shape_notes AS n\nCROSS JOIN grace_notes AS g\n"
        "CROSS JOIN months AS mo\nLEFT JOIN dated AS d ON d.period = mo.period\n"
        "LEFT JOIN ledger_ends AS le ON le.period = mo.period\n"
        f"LEFT JOIN {base} AS m ON m.period = mo.period{joined}\n"
        "ORDER BY mo.period ASC NULLS LAST\n"
    )


def _segments(shape: Shape, seg: list[str]) -> str:
    """The ``segments.sql`` CTEs for the dimensions ``seg`` (``seg_0`` …)."""
    at = "p0 AS period, d0 AS d" if shape is Shape.subscriptions else "period, d"
    none = sql_literal(NONE)
    tie = " OR ".join(f"COUNT(DISTINCT {s}) > 1" for s in seg)
    if shape is Shape.snapshots:  # line items must agree on every dimension, blanks too
        tie += "".join(f" OR (COUNT({s}) > 0 AND COUNT({s}) < COUNT(*))" for s in seg)
    return _query("segments").format(
        dim_rows=f"account_id, {at}, {', '.join(seg)}\n  FROM placed",
        dim_at=",\n".join(_query("dimension").format(i=i) for i in range(len(seg))),
        seg_pos=",\n    ".join(
            f"MAX(CASE WHEN x{i}.v IS NOT NULL THEN l.period END) OVER (\n      PARTITION BY "
            "l.account_id ORDER BY l.period ASC NULLS FIRST ROWS BETWEEN UNBOUNDED PRECEDING "
            f"AND CURRENT ROW\n    ) AS at_{i}"
            for i in range(len(seg))
        ),
        seg_pos_joins="\n  ".join(
            f"LEFT JOIN dim_{i} AS x{i} ON x{i}.account_id = l.account_id AND x{i}.period = l.period"
            for i in range(len(seg))
        ),
        seg_values=",\n    ".join(f"v{i}.v AS seg_{i}" for i in range(len(seg))),
        seg_value_joins="\n  ".join(
            f"LEFT JOIN dim_{i} AS v{i} ON v{i}.account_id = p.account_id AND v{i}.period = p.at_{i}"
            for i in range(len(seg))
        ),
        seg_cols=", ".join(f"s.{s}" for s in seg),
        tie=tie,
        listed=", ".join(f"COALESCE({s}, {none}) AS {s}" for s in seg),
    )


def _bridge_segments(seg: list[str]) -> str:
    """The ``bridge_segments.sql`` CTEs for the dimensions ``seg``."""
    none = sql_literal(NONE)
    return _query("bridge_segments").format(
        segs=", ".join(f"{s}, was_{s}" for s in seg),
        changed=" OR ".join(f"COALESCE(was_{s}, {none}) <> COALESCE({s}, {none})" for s in seg),
        into=", ".join(f"COALESCE({s}, {none}) AS {s}" for s in seg),
        out_of=", ".join(f"COALESCE(was_{s}, {none}) AS {s}" for s in seg),
        seg_names=", ".join(seg),
    )


def _segmented(
    metric: str, body: str, select: list[str], joins: list[str], base: str, seg: list[str]
) -> str:
    """The final ``SELECT`` with segments: the total rows, then (``UNION ALL``) the
    segment rows of the bridge and of retention, and the list of segments; every row
    with the bounds, ``part`` and the segment columns (:data:`PARTS`)."""
    bridge, retention = metric in ("bridge", "churn"), metric in ("nrr", "churn")
    names = [*BOUNDS, "dim_ties", "period", *MONTH_SUMS, "part", *seg]
    if bridge:
        names += [*BRIDGE_SUMS, *TRANSFER_SUMS]
    if retention:
        names += list(RETENTION_SUMS)
    varchar = {*seg}

    def null(name: str) -> str:
        return f"CAST(NULL AS {'VARCHAR' if name in varchar else 'BIGINT'}) AS {name}"

    bounds = [s for s in select if s.split(".")[1] in BOUNDS]
    total = {f"{s.split('.')[1]}": s for s in select}
    total |= {"dim_ties": "sn.dim_ties", "part": f"CAST({PARTS['total']} AS BIGINT) AS part"}
    heads = "FROM bounds AS b\nCROSS JOIN shape_notes AS n\nCROSS JOIN grace_notes AS g\nCROSS JOIN segment_notes AS sn"
    parts = [
        (total, f"{heads}\nCROSS JOIN months AS mo\nLEFT JOIN dated AS d ON d.period = mo.period\n"
         "LEFT JOIN ledger_ends AS le ON le.period = mo.period\n"
         f"LEFT JOIN {base} AS m ON m.period = mo.period" + "".join(f"\n{j}" for j in joins))
    ]  # fmt: skip
    common = {s.split(".")[1]: s for s in bounds} | {"dim_ties": "sn.dim_ties"}
    if bridge:
        cols = ["period", *seg, *BRIDGE_SUMS, *TRANSFER_SUMS]
        row = common | {c: f"x.{c}" for c in cols}
        row["part"] = f"CAST({PARTS['bridge']} AS BIGINT) AS part"
        parts.append((row, f"{heads}\nCROSS JOIN bridge_segments AS x"))
    if retention:
        cols = ["period", *seg, *RETENTION_SUMS]
        row = common | {c: f"x.{c}" for c in cols}
        row["part"] = f"CAST({PARTS['retention']} AS BIGINT) AS part"
        parts.append((row, f"{heads}\nCROSS JOIN retention_segments AS x"))
    row = common | {s: f"x.{s}" for s in seg}
    row["part"] = f"CAST({PARTS['segments']} AS BIGINT) AS part"
    parts.append((row, f"{heads}\nCROSS JOIN segment_list AS x"))
    selects = []
    for row, tail in parts:
        exprs = []
        for n in names:
            e = row.get(n)
            exprs.append(
                null(n)
                if e is None
                else e
                if e.endswith(f" AS {n}") or e.endswith(f".{n}")
                else f"{e} AS {n}"
            )
        selects.append("SELECT\n  " + ",\n  ".join(exprs) + "\n" + tail)
    order = ", ".join(f"{s} ASC NULLS FIRST" for s in seg)
    return (
        f"-- retention {metric}: generated by retention-cli from its SQL sources\n"
        f"WITH {body}\n"
        + "\nUNION ALL\n".join(selects)
        + f"\nORDER BY period ASC NULLS LAST, part ASC NULLS FIRST, {order}\n"
    )


def sql_for(
    metric: str,
    dialect: str,
    source: Source,
    config: Config,
    *,
    window: int = 12,
    method: Method = Method.cohort,
    date_from: str | None = None,
    date_to: str | None = None,
    grain: Grain = Grain.month,
    mode: BridgeMode = BridgeMode.net,
    by: Sequence[str] = (),
) -> str:
    """``retention sql``: the SQL of ``metric`` in ``dialect`` under ``config``'s calendar
    and policies, with a spine from ``date_from`` to ``date_to`` (dates or labels;
    :data:`DEFAULT_SPAN` when left out), split by the table's columns ``by``. Data
    dated outside the spine is counted in the ``unplaced`` column, never placed in a
    wrong month."""
    setting = unsupported(config)
    if setting:
        msg = f"the SQL path does not support the config's {setting}"
        raise UsageError(msg, param="config", hint="remove it from the config")
    cal = FiscalCalendar(config.fiscal_year)
    lo = cal.resolve(date_from, param="date_from")[0] if date_from else DEFAULT_SPAN[0]
    hi = cal.resolve(date_to, param="date_to")[1] if date_to else DEFAULT_SPAN[1]
    if hi < lo:
        msg = f"the spine would end ({hi}) before it starts ({lo})"
        raise UsageError(msg, param="date_to")
    sql = metric_sql(
        metric, source, cal, (lo, hi), policies=config.policies, window=window, method=method,
        open_end_dates=config.subscriptions.open_end_dates, grain=grain, mode=mode,
        combine=config.snapshots.combine, by=by,
    )  # fmt: skip
    return transpile(sql, dialect)


def transpile(sql: str, dialect: str) -> str:
    """``sql`` (DuckDB dialect) in ``dialect``, by SQLGlot in strict mode: a construct
    that cannot be translated is a :class:`UsageError` naming it."""
    if dialect not in DIALECTS:
        msg = f"unknown dialect {dialect!r}: choose one of {', '.join(DIALECTS)}"
        raise UsageError(msg, param="dialect")
    try:
        import sqlglot
        from sqlglot.errors import ErrorLevel, SqlglotError
    except ImportError:  # pragma: no cover - a core dependency
        msg = "the SQL path needs SQLGlot"
        raise UsageError(msg, hint="pip install 'sqlglot>=30,<31'") from None
    head = sql.splitlines()[0] if sql.startswith("--") else ""
    sql = sql[len(head) :]
    try:
        out = sqlglot.transpile(
            sql, read="duckdb", write=dialect, pretty=True, unsupported_level=ErrorLevel.RAISE
        )
    except SqlglotError as exc:
        msg = f"the SQL cannot be written for {dialect}: {exc}"
        raise UsageError(msg, param="dialect") from None
    text = "\n".join(out)
    return f"{head}\n{text}\n" if head else f"{text}\n"


__all__ = [
    "BOUNDS",
    "BRIDGE_SUMS",
    "DIALECTS",
    "METRICS",
    "MONTH_SUMS",
    "RETENTION_SUMS",
    "SHAPE_COLUMNS",
    "Source",
    "metric_sql",
    "quote_name",
    "quote_table",
    "spine",
    "sql_for",
    "transpile",
    "unsupported",
]
