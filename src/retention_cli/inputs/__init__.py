"""Read an input file into a typed canonical frame, collecting every row problem.

The result of :func:`load` is a :class:`Loaded`: one row per input row that was
used, with canonical column names, money as ``Int64`` cents (exact) and dates
as ``Date``. Problems are reported with the file line they came from (the
header is line 1, so the first data record is line 2).

The package by job: :mod:`~retention_cli.inputs.read` (file kinds, decoding),
:mod:`~retention_cli.inputs.columns` (mapping headers, the shape),
:mod:`~retention_cli.inputs.parse` (dates, money),
:mod:`~retention_cli.inputs.checks` (every check once, with an id),
:mod:`~retention_cli.inputs.fast` (the one-pass reader for plain files) and
:mod:`~retention_cli.inputs.fx` (currency conversion).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from retention_cli.errors import InputError, Problem, UsageError
from retention_cli.inputs.checks import (
    MAX_PROBLEMS_KEPT,
    MAX_SETTLE_ROUNDS,
    STATE_CHECKS,
    STATE_HINT,
    Row,
    applied_row_checks,
    collect_problems,
    is_blank,
    marker_currency,
    movement_state_problems,
    problem_frame,
    problems_of,
    settle_movement_states,
    snapshot_duplicates,
    subscription_duplicates,
    utc_offset_warning,
)
from retention_cli.inputs.columns import (
    REQUIRED,
    REQUIRED_COLUMNS,
    Layout,
    detect_shape,
    map_columns,
    normalize_header,
    parse_column_overrides,
)
from retention_cli.inputs.fast import read_plain
from retention_cli.inputs.fx import convert_currency
from retention_cli.inputs.parse import (
    ADDING_TYPES,
    MOVEMENT_TYPES,
    PLAIN_DAY,
    PLAIN_MONEY,
    all_match,
    canonical_exprs,
    money_cents,
    money_stages,
    multiplier_of,
    parse_date,
    plain_cents,
    plain_date,
    value_name,
)
from retention_cli.inputs.read import LINE, ReadLimits, Source, read_bytes, read_table
from retention_cli.inputs.rules import (
    Rules,
    check_rules,
    exclude_blank_values,
    exclude_ended_early,
    exclude_statuses,
    needs_formula,
    parse_integer,
    parse_interval,
    parse_number,
    rule_exprs,
)
from retention_cli.money import cents_text
from retention_cli.options import Shape

if TYPE_CHECKING:
    from retention_cli.config import Fx

__all__ = [
    "ADDING_TYPES",
    "LINE",
    "MAX_PROBLEMS_KEPT",
    "MAX_SETTLE_ROUNDS",
    "MOVEMENT_TYPES",
    "REQUIRED",
    "REQUIRED_COLUMNS",
    "STATE_HINT",
    "Loaded",
    "ReadLimits",
    "Rules",
    "Source",
    "cents_text",
    "collect_problems",
    "detect_shape",
    "fast_load",
    "is_blank",
    "load",
    "load_frame",
    "map_columns",
    "money_cents",
    "money_stages",
    "movement_state_problems",
    "normalize_header",
    "parse_column_overrides",
    "parse_date",
    "parse_table",
    "plain_cents",
    "plain_date",
    "problem_frame",
    "problems_of",
    "read_bytes",
    "read_table",
    "value_name",
]


@dataclass
class Loaded:
    """A parsed input: canonical typed rows plus what was noticed on the way.

    ``frame`` columns by shape:

    * movements: ``account_id, date, type, amount`` (signed cents: contraction
      and churn negative)
    * snapshots: ``account_id, date, arr`` (cents)
    * subscriptions: ``account_id, start_date, end_date, arr`` (cents; ``end_date``
      null while active)

    plus one ``String`` column per dimension and ``_line`` (file line). From the
    one-pass reader for plain files, ``account_id`` and the dimensions are
    ``Categorical`` instead (same values), and only the dimensions asked for
    (:func:`load`'s ``dimensions``); ``dimensions`` lists them all.
    """

    frame: pl.DataFrame
    shape: Shape
    source: Source
    dimensions: list[str]
    warnings: list[str] = field(default_factory=list)
    skipped: int = 0
    rejects: pl.DataFrame | None = None
    """With ``on_invalid="skip"``: the skipped rows as read, plus ``line`` and ``reason``."""
    problems: pl.DataFrame | None = None
    """With ``on_invalid="skip"``: every problem found (a :func:`problem_frame`)."""
    excluded: dict[str, int] = field(default_factory=dict)
    """Rows a reading rule left out, by rule (``trialing``, ``same-day``, ...):
    valid rows that hold no ARR under the rules, counted, never errors."""
    preset: str | None = None
    """The preset the file was read with."""

    @property
    def rows_used(self) -> int:
        """Rows of the file that went into the ledger: read = used + excluded + skipped."""
        return self.source.rows_read - self.skipped - sum(self.excluded.values())

    def accounting(self) -> dict[str, object]:
        """What the JSON ``input`` block adds: ``preset`` and ``excluded`` (rows by rule).

        Empty for a plain file read without a preset, so its JSON is unchanged.
        """
        out: dict[str, object] = {}
        if self.preset is not None:
            out["preset"] = self.preset
        if self.excluded:
            out["excluded"] = dict(self.excluded)
        return out

    def summary(self) -> str | None:
        """Where every row went, for stderr; ``None`` when every row was used.

        For example ``read 1,204 rows: 1,150 used, 38 trialing excluded``.
        """
        if not self.excluded and not self.skipped:
            return None
        src = self.source
        if not self.excluded:
            return f"read {src.rows_read:,} rows, used {self.rows_used:,}, skipped {self.skipped:,}"
        parts = [f"{self.rows_used:,} used"]
        parts += [f"{n:,} {rule} excluded" for rule, n in self.excluded.items()]
        if self.skipped:
            parts.append(f"{self.skipped:,} skipped")
        via = f" (preset {self.preset})" if self.preset else ""
        return f"read {src.rows_read:,} rows{via}: {', '.join(parts)}"


@contextmanager
def usable_headers(path: str) -> Iterator[None]:
    """Turn an unusable header into an :class:`InputError`.

    Unusable: a column named ``_line`` (it numbers the file's lines), or two
    columns of one name.
    """
    try:
        yield
    except pl.exceptions.DuplicateError as exc:
        what = (
            f"the column name {LINE!r} is reserved (retention numbers the file's lines under it)"
            if f"'{LINE}'" in str(exc)
            else f"two columns have the same name ({exc})"
        )
        raise InputError(path, [Problem(what, line=1)], hint="rename the column") from None


def load(
    path: str,
    *,
    columns: Mapping[str, str] | None = None,
    shape: Shape | None = None,
    date_format: str | None = None,
    separator: str | None = None,
    on_invalid: str = "error",
    fx: Fx | None = None,
    sheet: str | None = None,
    rules: Rules | None = None,
    limits: ReadLimits | None = None,
    decimal_comma: bool = False,
    dimensions: Collection[str] | None = None,
) -> Loaded:
    """Read, map, parse and check an input file.

    Parameters
    ----------
    path
        File path, or ``-`` for CSV on standard input.
    columns
        Canonical name → the file's header (config ``columns:`` and ``--column``).
    shape
        Force ``movements``, ``snapshots`` or ``subscriptions`` instead of detecting it.
    date_format
        A ``strftime`` format for dates that are not ISO (e.g. ``%m/%d/%Y``).
    separator
        Field delimiter; detected from the header line when omitted.
    on_invalid
        ``error`` (default): any problem raises. ``skip``: rows with problems
        are left out and kept in ``Loaded.rejects`` with their reason; a
        movement that contradicts its account's running ARR is left out too,
        earliest first, until the rest agree.
    fx
        The config's ``fx``: a ``currency`` column is converted to its
        reporting currency (a currency with no rate is a row problem).
    rules
        The config's reading rules (:class:`~retention_cli.inputs.rules.Rules`):
        amount unit, billing interval, statuses, ... (default: none).
    sheet
        The ``.xlsx`` sheet to read (name or 1-based number).
    limits
        How far a ``.gz`` file or standard input may expand (:class:`ReadLimits`).
    decimal_comma
        Read amounts written with a decimal comma (``1.234,56``; config ``decimal: comma``).
    dimensions
        The dimension columns the caller reads (default: all). The frame may leave
        out the others (the one-pass reader does not build them); ``Loaded.dimensions``
        still lists every one, and the same rows are checked.

    Raises
    ------
    InputError
        With every problem found (first ones kept), each naming line, column and value.

    Examples
    --------
    >>> from retention_cli import load
    >>> data = load("examples/tiny_movements.csv")
    >>> data.shape.value, data.source.rows_read, data.rows_used, data.dimensions
    ('movements', 11, 11, ['segment'])
    >>> data.frame.select("account_id", "type", "amount").head(2).rows()
    [('A', 'new', 100000), ('B', 'new', 200000)]

    Amounts are integer cents (1,000.00 is ``100000``); ``segment``, the one
    column that is not part of the shape, is a dimension for ``by``.
    """
    rules = rules or Rules()
    with usable_headers(path):
        if (
            on_invalid == "error"
            and date_format is None
            and sheet is None
            and rules.plain
            and not decimal_comma
        ):
            fast = fast_load(path, columns=columns, shape=shape, separator=separator,
                             rules=rules, dimensions=dimensions)  # fmt: skip
            if fast is not None:
                return fast
        raw, source = read_table(path, separator=separator, sheet=sheet, limits=limits)
        return parse_table(
            raw, source, columns=columns, shape=shape, date_format=date_format,
            on_invalid=on_invalid, fx=fx, rules=rules, decimal_comma=decimal_comma,
        )  # fmt: skip


def fast_load(
    path: str,
    *,
    columns: Mapping[str, str] | None,
    shape: Shape | None,
    separator: str | None,
    rules: Rules | None = None,
    dimensions: Collection[str] | None = None,
) -> Loaded | None:
    """The common case in one streaming pass (:func:`retention_cli.inputs.fast.read_plain`).

    It returns exactly what :func:`parse_table` would (account ids and dimensions
    as ``Categorical``; only the ``dimensions`` asked for, None: all), or None when
    anything needs the full parser: a value that is not plain, a row problem, a
    ``currency`` column, or a file Polars cannot scan. The full parser then reads
    the file again and reports each problem.
    """
    rules = rules or Rules()
    plain = read_plain(path, columns=columns, shape=shape, separator=separator, rules=rules,
                       dimensions=dimensions)  # fmt: skip
    if plain is None:
        return None
    layout = plain.layout
    loaded = Loaded(plain.frame, layout.shape, plain.source, layout.dimensions,
                    list(layout.warnings), preset=rules.preset)  # fmt: skip
    _frame_checks(loaded, skip=False, rules=rules)
    return loaded


_fast_load = fast_load  # the name the tests have always used


def _frame_checks(loaded: Loaded, *, skip: bool, rules: Rules) -> list[pl.DataFrame]:
    """The checks across rows, the same on both readers.

    Movement states, line items and duplicates, same-day subscriptions: raise,
    or (``skip``) drop the rows and return their problems.
    """
    path = loaded.source.path
    if loaded.shape is Shape.movements:
        if _states_agree(loaded.frame):
            return []
        loaded.frame, dropped = settle_movement_states(loaded.frame, path, skip=skip)
        return dropped
    if loaded.shape is Shape.snapshots:
        if _runs(loaded.frame, "date", strict=True):  # no account twice on one date
            loaded.frame = loaded.frame.drop("_item_id", strict=False)
            return []
        loaded.frame, dropped = snapshot_duplicates(
            loaded.frame, path, skip=skip, combine=rules.combine
        )
        return dropped
    if _runs(loaded.frame, "start_date", strict=True):  # no account starts twice on one date
        loaded.frame, dropped = loaded.frame.drop("_item_id", strict=False), []
    else:
        loaded.frame, dropped = subscription_duplicates(loaded.frame, path, skip=skip)
    same_day = loaded.frame.select((pl.col("end_date") == pl.col("start_date")).sum()).item()
    if same_day:
        loaded.frame = loaded.frame.filter(
            (pl.col("end_date") != pl.col("start_date")).fill_null(True)
        )
        loaded.excluded["same-day"] = loaded.excluded.get("same-day", 0) + same_day
        loaded.warnings.append(
            f"{same_day:,} subscription(s) start and end on the same day: they hold no ARR at "
            "any period end and are excluded"
        )
    return dropped


def _account_key(frame: pl.DataFrame) -> pl.Expr:
    """The account column to group by: a category's code (the fast reader's), else the id."""
    key = pl.col("account_id")
    return key.to_physical() if frame.schema["account_id"] == pl.Categorical else key


def _runs(frame: pl.DataFrame, date: str, *, strict: bool) -> bool:
    """Whether each account's rows are together and in ``date`` order.

    ``strict``: no date twice. Most files are so: one cheap pass, no sort and no hash
    (a null date is never in order).
    """
    if frame.height == 0:
        return True
    key = _account_key(frame)
    new = (key != key.shift(1)).fill_null(True)
    later = (
        pl.col(date) > pl.col(date).shift(1) if strict else pl.col(date) >= pl.col(date).shift(1)
    )
    # together: the accounts starting the runs are all different (counted on the runs only)
    together = key.filter(new).n_unique() == new.sum()
    return bool(frame.select(together & (new | later.fill_null(False)).all()).item())


def _states_agree(frame: pl.DataFrame) -> bool:
    """Whether no movement contradicts its account's running ARR.

    The conditions of :data:`~retention_cli.inputs.checks.STATE_CHECKS` in one pass,
    to one bool: only when one fires does :func:`settle_movement_states` locate and report them.
    The running ARR is a sum over the file in account, date (rank) and line order
    less the sum before the account's first row (``Int64`` wraps like a sum per account).
    """
    rank = ["_rank"] if "_rank" in frame.columns else []
    lf = frame.lazy().select(_account_key(frame).alias("_key"), "date", *rank, LINE, "type",
                             "amount")  # fmt: skip
    if rank or not _runs(frame, "date", strict=False):  # else the file order is that order
        lf = lf.sort("_key", "date", *rank, LINE)
    first = (pl.col("_key") != pl.col("_key").shift(1)).fill_null(True)
    total = pl.col("amount").cum_sum()
    before_all = total - pl.col("amount")
    base = pl.when(first).then(before_all).forward_fill()
    row = Row({"type": pl.col("type"), "before": before_all - base, "after": total - base,
               "seen": ~first})  # fmt: skip
    fires = pl.any_horizontal(c.when(row, c.on[0]) for c in STATE_CHECKS).any()
    return not lf.select(fires).collect().item()


def load_frame(
    data: pl.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    shape: Shape | str | None = None,
    date_format: str | None = None,
    name: str = "<frame>",
    on_invalid: str = "error",
    fx: Fx | None = None,
    rules: Rules | None = None,
) -> Loaded:
    """Like :func:`load`, for a DataFrame already in memory (e.g. in a notebook).

    Values are read through their text form with the same rules as a file, so
    a frame and the CSV it came from give the same result. Line numbers count
    as if the frame were a CSV with a header (first row = line 2).

    Examples
    --------
    Headers match the canonical names ignoring case and spaces, and money is
    read exactly, with its separators and symbols:

    >>> import polars as pl
    >>> from retention_cli import load_frame
    >>> frame = pl.DataFrame({
    ...     "Account ID": ["a", "b"],
    ...     "date": ["2026-01-31", "2026-01-31"],
    ...     "ARR": ["1,200.50", "$300"],
    ... })
    >>> loaded = load_frame(frame)
    >>> loaded.shape.value, loaded.frame["arr"].to_list()
    ('snapshots', [120050, 30000])
    """
    with usable_headers(name):
        raw = data.select(pl.all().cast(pl.String)).with_row_index(LINE, offset=2)
    raw = raw.with_columns(pl.col(LINE).cast(pl.Int64))
    buf = io.BytesIO()
    data.write_csv(buf)
    source = Source(name, hashlib.sha256(buf.getvalue()).hexdigest(), data.height)
    shape = Shape(shape) if isinstance(shape, str) else shape
    return parse_table(
        raw, source, columns=columns, shape=shape, date_format=date_format, on_invalid=on_invalid,
        fx=fx, rules=rules,
    )  # fmt: skip


TERM_END = "_term_end"
"""The blank end date column a file without one gets under ``subscriptions.ends_after_term``
(each row then ends one billing period after its start)."""


def _term_end_column(
    raw: pl.DataFrame, headers: list[str], columns: Mapping[str, str] | None
) -> tuple[pl.DataFrame, dict[str, str]]:
    """``raw`` and ``columns`` with a blank end date column if the file has none.

    Under ``ends_after_term`` the rules then compute every end (a file that maps or
    names ``end_date`` keeps its own).
    """
    mapped = dict(columns or {})
    if "end_date" in mapped or any(normalize_header(h) == "enddate" for h in headers):
        return raw, mapped
    mapped["end_date"] = TERM_END
    return raw.with_columns(pl.lit(None, dtype=pl.String).alias(TERM_END)), mapped


def parse_table(
    raw: pl.DataFrame,
    source: Source,
    *,
    columns: Mapping[str, str] | None = None,
    shape: Shape | None = None,
    date_format: str | None = None,
    on_invalid: str = "error",
    fx: Fx | None = None,
    rules: Rules | None = None,
    decimal_comma: bool = False,
) -> Loaded:
    """Map, parse and check an all-text table (see :func:`load`)."""
    rules = rules or Rules()
    keep_empty = on_invalid == "report"  # validate: skip, and never stop for want of rows
    on_invalid = "skip" if keep_empty else on_invalid
    if on_invalid not in ("error", "skip"):
        msg = f"{on_invalid!r} is not one of: error, skip"
        raise UsageError(msg, param="on_invalid")
    name = source.path
    headers = [c for c in raw.columns if c != LINE]
    if source.rows_read == 0:
        raise InputError(name, [Problem("the file has a header but no data rows", line=1)])
    if rules.term_end:
        raw, columns = _term_end_column(raw, headers, columns)
        headers = [c for c in raw.columns if c != LINE]
    layout = Layout.of(
        headers, columns, shape, name, amount_value=rules.amount_is_value, preset=rules.preset,
        typed=bool(rules.movement_types),
    )  # fmt: skip
    shape, dims = layout.shape, layout.dimensions
    canon = {f.canonical for f in layout.fields}
    check_rules(canon, rules)
    formula = needs_formula(canon, rules)
    warnings = [*layout.warnings, *source.notes]
    # every value is parsed once, into staged "_"-columns; checks and outputs read those
    stages: list[dict[str, pl.Expr]] = [{}, {}, {}, {}]
    values: dict[str, pl.Expr] = {}
    blanks: dict[str, pl.Expr] = {}
    oks: dict[str, pl.Expr] = {}
    markers: dict[str, str] = {}
    texts: dict[str, pl.Expr] = {}
    rounded_cols: list[str] = []
    for f in layout.fields:
        col, c, staged = pl.col(f.header), f.canonical, f"_{f.canonical}"
        blanks[c] = is_blank(col)
        if f.kind == "id":
            values[c] = col.str.strip_chars()
            continue
        if f.kind in ("date", "optional_date"):
            if date_format is None and all_match(raw, f.header, PLAIN_DAY):
                # fast path: every value is YYYY-MM-DD (impossible dates still come out null)
                stages[0][staged] = plain_date(col)
            else:
                stages[0][staged] = parse_date(col, date_format=date_format)
        elif f.kind == "movement_type":
            kind = col.str.strip_chars().str.to_lowercase()
            if rules.movement_types:
                kind = kind.replace(dict(rules.movement_types))
            stages[0][staged] = kind
        elif f.kind in ("money", "optional_money"):
            plain = not decimal_comma and all_match(raw, f.header, PLAIN_MONEY)
            mult = 1 if formula else multiplier_of(c)
            parts = money_stages(col, staged, multiplier=mult, plain=plain,
                                 decimal_comma=decimal_comma)  # fmt: skip
            if not decimal_comma:
                texts[c] = col
            for stage, exprs in zip(stages, parts, strict=True):
                stage.update(exprs)
            oks[c] = pl.col(f"{staged}_ok")
            rounded_cols.append(f"{staged}_rounded")
            if not plain:
                markers[c] = f"{staged}_marker"
        elif f.kind == "currency":
            stages[0][staged] = col.str.strip_chars().str.to_uppercase()
        elif f.kind == "number":
            stages[0][staged] = parse_number(col)
        elif f.kind == "integer":
            stages[0][staged] = parse_integer(col)
        elif c == "interval":
            unit, count = parse_interval(col)
            stages[0].update({staged: unit, f"{staged}_n": count})
        elif f.kind == "text":
            stages[0][staged] = col.str.strip_chars().str.to_lowercase()
        else:  # pragma: no cover - a kind added to COLUMN_KINDS needs a parser here
            msg = f"no parser for column kind {f.kind!r}"
            raise AssertionError(msg)
        values[c] = pl.col(staged)
    rates = fx.rate_text() if fx is not None and not fx.dated else None  # dated: retention_cli.fx
    currency, currency_of = None, ""
    if "currency" in values:
        currency, currency_of = values["currency"], "the row's currency"
    elif fx is not None:
        currency = pl.lit(fx.reporting_currency)
        currency_of = "the reporting currency (fx.reporting_currency)"
    row = Row(values, blanks, oks, date_format=date_format, rates=rates, rules=rules,
              formula=formula, markers={c: pl.col(m) for c, m in markers.items()}, texts=texts,
              currency=currency, currency_of=currency_of)  # fmt: skip
    checks = applied_row_checks(layout.fields, row)
    out = canonical_exprs(layout.fields, values)
    out.update(rule_exprs(layout, values, rules, formula=formula))
    for d in dims:
        out[d] = pl.col(d).str.strip_chars()

    lf = raw.lazy()
    for stage in stages:
        if stage:
            lf = lf.with_columns(**stage)
    staged_frame = lf.collect()
    excluded: dict[str, int] = {}
    if "status" in canon:  # excluded statuses are left out before any check (and counted)
        staged_frame, excluded = exclude_statuses(staged_frame, rules, layout)
    staged_frame, no_value = exclude_blank_values(staged_frame, layout, rules)
    excluded.update(no_value)
    if "currency" not in values:
        marked = marker_currency(staged_frame, markers, name)
        if marked is not None and fx is None:
            warnings.append(
                f"amounts are marked {marked} and there is no currency column: "
                "taken as the file's currency (not converted)"
            )
    found = problem_frame(staged_frame, checks)
    rejected: list[pl.DataFrame] = []
    if found.height:
        if on_invalid == "error":
            raise InputError(name, problems_of(found), total=found.height)
        rejected.append(found)
        staged_frame = staged_frame.filter(~pl.col(LINE).is_in(found[LINE].unique().implode()))
    frame = staged_frame.select(*(e.alias(k) for k, e in out.items()), pl.col(LINE))
    if date_format is None and (moved := utc_offset_warning(staged_frame, layout.fields)):
        warnings.append(moved)
    n_rounded = staged_frame.select(pl.sum_horizontal(pl.col(c).sum() for c in rounded_cols)).item()
    if n_rounded:
        warnings.append(
            f"{n_rounded:,} money value(s) had more than 2 decimals and were rounded "
            "half away from zero to the cent"
        )
    loaded = Loaded(frame, shape, source, dims, warnings, excluded=excluded, preset=rules.preset)
    if shape is Shape.subscriptions and canon & {"trial_end", "canceled_at"}:
        exclude_ended_early(loaded, trial="trial_end" in canon)
    rejected += _frame_checks(loaded, skip=on_invalid == "skip", rules=rules)
    if "_currency" in loaded.frame.columns:
        loaded.frame, fx_warnings = convert_currency(loaded.frame, shape, fx, path=name)
        loaded.warnings += fx_warnings
    if rejected:
        loaded.problems = pl.concat(rejected).sort(LINE, "_check")
        reasons = (
            pl.concat(rejected)
            .sort(LINE, "_check")
            .group_by(LINE, maintain_order=True)
            .agg(
                pl.format("{}: {}", "column", "message").unique(maintain_order=True).str.join("; ")
                .alias("reason")
            )
        )  # fmt: skip
        loaded.skipped = reasons.height
        line_col = "line" if "line" not in raw.columns else "rejected_line"
        reason_col = "reason" if "reason" not in raw.columns else "rejected_reason"
        loaded.rejects = (
            raw.join(reasons.rename({"reason": "_reason"}), on=LINE)
            .sort(LINE)
            .select(
                pl.col(LINE).alias(line_col),
                pl.exclude(LINE, "_reason", TERM_END),  # the rows as read
                pl.col("_reason").alias(reason_col),
            )
        )
        if loaded.frame.height == 0 and not keep_empty:
            raise InputError(
                name,
                [
                    Problem(
                        f"every one of the {source.rows_read:,} rows is invalid; nothing left to use"
                    )
                ],
                hint="run `retention validate` on the file to see every problem",
            )
    return loaded
