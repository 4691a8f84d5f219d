"""Every check on an input's rows, declared once, each with a stable id.

A :class:`Check` says when a row is wrong (a condition over the row's parsed
values), what the message is, and which columns it applies to (by kind, such
as ``money``, or by canonical name). Both readers use these declarations: the
full parser reports every problem with its line, column and value; the
one-pass reader for plain files (:mod:`retention_cli.inputs.fast`) evaluates
the same conditions and hands a file with any flagged row to the full parser.
``retention validate`` groups problems by check id.

The ids: row checks :data:`ROW_CHECKS`; the movement-log state checks
:data:`STATE_CHECKS` (against each account's running ARR); the snapshot checks
:data:`DUPLICATE_SNAPSHOT` and :data:`SNAPSHOT_GAP` (a warning). A file that
cannot be read at all has ``ragged_row`` or ``not_utf8`` problems.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import polars as pl

from retention_cli.errors import InputError, Problem
from retention_cli.inputs.columns import Field
from retention_cli.inputs.parse import (
    ADDING_TYPES,
    CURRENCY_SYMBOLS,
    DECIMAL_COMMA,
    MARKER_PAIRS,
    MOVEMENT_TYPES,
    SEVERAL_MARKERS,
    utc_day_shift,
)
from retention_cli.inputs.read import LINE
from retention_cli.inputs.rules import MAX_PRICE_CENTS, MAX_QUANTITY, Rules
from retention_cli.money import cents_text

if TYPE_CHECKING:
    from retention_cli.config import Statuses

MAX_PROBLEMS_KEPT = 1000
"""How many problems an :class:`~retention_cli.errors.InputError` keeps (the total is counted)."""
MAX_SETTLE_ROUNDS = 50
"""With ``on_invalid="skip"``: rounds of dropping each account's earliest contradicting movement."""
STATE_HINT = "movement logs are checked against each account's running ARR, in date order"


@dataclass(frozen=True)
class Row:
    """What a check reads, by canonical column (state checks: by name).

    ``values`` are parsed values (dates, cents, the lower-case movement type);
    ``blanks`` say the text is blank; ``oks`` say a money text is well formed.
    ``date_format`` is the user's date format (``None``: ISO) and ``rates``
    the fx rates by currency (``None``: no ``fx`` section). ``markers`` are the
    currency markers money texts carry (``$``, ``EUR``; null when none) and
    ``currency`` the currency each row's amounts are in (the row's ``currency``
    column, else the fx reporting currency; ``None``: unknown), described by
    ``currency_of``. ``texts`` are the money columns' raw text where a check
    reads it (none when amounts are read with a decimal comma).
    """

    values: Mapping[str, pl.Expr]
    blanks: Mapping[str, pl.Expr] = field(default_factory=dict)
    oks: Mapping[str, pl.Expr] = field(default_factory=dict)
    date_format: str | None = None
    rates: Mapping[str, str] | None = None
    rules: Rules | None = None
    """The reading rules (``None``: a plain file: none of the rule checks apply)."""
    formula: bool = False
    """The value is computed by :func:`~retention_cli.inputs.rules.arr_formula`."""
    markers: Mapping[str, pl.Expr] = field(default_factory=dict)
    texts: Mapping[str, pl.Expr] = field(default_factory=dict)
    currency: pl.Expr | None = None
    currency_of: str = "the row's currency"

    def value(self, name: str) -> pl.Expr:
        """The parsed value of ``name``."""
        return self.values[name]

    def blank(self, name: str) -> pl.Expr:
        """True where the text of ``name`` is blank."""
        return self.blanks[name]

    def ok(self, name: str) -> pl.Expr:
        """True where the money text of ``name`` is well formed."""
        return self.oks[name]


@dataclass(frozen=True)
class Check:
    """One check, declared once.

    ``id`` is stable (``Problem.check``, validate's grouping); ``on`` lists the
    column kinds or canonical names it applies to (for a frame-level check, the
    column it reports); ``when(row, column)`` is true on a bad row (``None``:
    the check does not apply, e.g. no fx rates); ``message`` is text or
    ``message(row, column)``; ``title`` is validate's label when the message
    carries the row's own numbers (``None``: the message is the label).
    """

    id: str
    on: tuple[str, ...]
    when: Callable[[Row, str], pl.Expr | None]
    message: str | Callable[[Row, str], pl.Expr | str]
    title: str | None = None

    def applies_to(self, f: Field) -> bool:
        """Whether this check runs on the field ``f``."""
        return f.kind in self.on or f.canonical in self.on

    def message_expr(self, row: Row, column: str) -> pl.Expr:
        """The message as an expression."""
        text = self.message if isinstance(self.message, str) else self.message(row, column)
        return pl.lit(text) if isinstance(text, str) else text

    def problem(self, row: Row, column: str) -> pl.Expr | None:
        """The message where the row is bad, else null (``None``: does not apply)."""
        cond = self.when(row, column)
        return None if cond is None else problem(cond, self.message_expr(row, column))


def _blank(row: Row, col: str) -> pl.Expr:
    return row.blank(col)


def _unknown_currency(row: Row, col: str) -> pl.Expr | None:
    if row.rates is None:
        return None
    return ~row.blank(col) & ~row.value(col).is_in(list(row.rates))


def _st(row: Row) -> Statuses:
    assert row.rules is not None
    assert row.rules.statuses is not None
    return row.rules.statuses


def _status_missing(row: Row, col: str) -> pl.Expr | None:
    return row.blank(col) if _st(row).other == "error" else None


def _status_unknown(row: Row, col: str) -> pl.Expr | None:
    st = _st(row)
    if st.other != "error":
        return None
    return ~row.blank(col) & ~row.value(col).is_in([*st.count, *st.exclude])


def marker_agrees(marker: pl.Expr, currency: pl.Expr) -> pl.Expr:
    """True where a money text's currency marker is ``currency`` or one of its symbols."""
    pair = pl.concat_str([marker, currency], separator="|")
    return (marker == currency) | pair.is_in(MARKER_PAIRS)


def _decimal_comma(row: Row, col: str) -> pl.Expr:
    text = row.texts.get(col)
    if text is None:
        return pl.lit(False)
    return ~row.blank(col) & ~row.ok(col) & text.str.contains(DECIMAL_COMMA).fill_null(False)


def _several_markers(row: Row, col: str) -> pl.Expr:
    marker = row.markers.get(col)  # none: plain amounts, which carry no marker
    return pl.lit(False) if marker is None else (marker == SEVERAL_MARKERS).fill_null(False)


def _marker_mismatch(row: Row, col: str) -> pl.Expr | None:
    marker = row.markers.get(col)
    if marker is None or row.currency is None:
        return None
    return (~marker_agrees(marker, row.currency) & (marker != SEVERAL_MARKERS)).fill_null(False)


ROW_CHECKS: tuple[Check, ...] = (
    Check("missing_value", ("id",), _blank, "missing value"),
    Check(
        "nul_in_id",
        ("id",),
        lambda r, c: r.value(c).str.contains("\x00", literal=True).fill_null(False),
        "contains a NUL byte (\\0)",
    ),
    Check("missing_date", ("date",), _blank, "missing date"),
    Check(
        "bad_date",
        ("date", "optional_date"),
        lambda r, c: ~r.blank(c) & r.value(c).is_null(),
        lambda r, _: (
            f"not a date (expected {r.date_format})"
            if r.date_format
            else "not a date (expected YYYY-MM-DD, or a datetime with a valid time of day "
            "such as 2024-01-31T09:30)"
        ),
    ),
    Check(
        "end_before_start",
        ("end_date",),
        lambda r, c: r.value(c) < r.value("start_date"),
        "end_date is before start_date (end is exclusive)",
    ),
    Check(
        "unknown_type",
        ("movement_type",),
        lambda r, c: (
            r.value(c).is_in(MOVEMENT_TYPES).fill_null(False).not_()
            & (~r.blank(c) if "start_date" in r.values else True)  # a contract line may omit it
        ),
        f"unknown movement type (expected one of: {', '.join(MOVEMENT_TYPES)})",
    ),
    Check("missing_amount", ("money",), _blank, "missing amount"),
    Check(
        "decimal_comma",
        ("money", "optional_money"),
        lambda r, c: _decimal_comma(r, c) if r.texts.get(c) is not None else None,
        "a decimal comma? amounts are read with a decimal point (1234.56); set "
        "`decimal: comma` in the config to read 1.234,56",
    ),
    Check(
        "several_currency_markers",
        ("money", "optional_money"),
        lambda r, c: _several_markers(r, c) if r.markers.get(c) is not None else None,
        "more than one currency marker in one amount: its currency cannot be read "
        "(give each amount one marker, or none)",
    ),
    Check(
        "bad_money",
        ("money", "optional_money"),
        lambda r, c: ~r.blank(c) & ~r.ok(c) & ~_decimal_comma(r, c) & ~_several_markers(r, c),
        "not a number (expected e.g. 1234.50, 1,234.50, $1,234.50 or (1,234.50))",
    ),
    Check(
        "money_out_of_range",
        ("money", "optional_money"),
        lambda r, c: ~r.blank(c) & r.ok(c) & r.value(c).is_null(),
        "number out of range",
    ),
    Check(
        "minor_units_fraction",
        ("money", "optional_money"),
        lambda r, c: (
            ~r.blank(c) & (r.value(c) % 100 != 0)
            if r.rules is not None and r.rules.minor_units
            else None
        ),
        "not a whole number of minor units (amount.minor_units is true)",
    ),
    Check(
        "price_out_of_range",
        ("money", "optional_money"),
        lambda r, c: r.value(c).abs() > MAX_PRICE_CENTS if r.formula else None,
        f"amount out of range for the billing-interval formula (at most {MAX_PRICE_CENTS // 100:,})",
    ),
    Check(
        "negative_amount",
        ("amount",),
        lambda r, c: (
            r.value("type").is_in(ADDING_TYPES) & (r.value(c) < 0)
            if "type" in r.values
            else r.value(c) < 0
        ),
        lambda r, _: (
            pl.format("negative amount for a {} movement (it adds ARR)", r.value("type"))
            if "type" in r.values
            else "negative amount"
        ),
    ),
    Check(
        "currency_marker_mismatch",
        ("money", "optional_money"),
        _marker_mismatch,
        lambda r, c: pl.format(
            "the amount is marked {} but {} is {}",
            r.markers[c],
            pl.lit(r.currency_of),
            r.currency if r.currency is not None else pl.lit(""),
        ),
        "an amount's currency marker disagrees with its currency",
    ),
    Check("negative_arr", ("arr", "mrr"), lambda r, c: r.value(c) < 0, "negative ARR"),
    Check("missing_currency", ("currency",), _blank, "missing currency"),
    Check(
        "unknown_currency",
        ("currency",),
        _unknown_currency,
        lambda r, _: (
            f"no fx rate for this currency (fx.rates has: {', '.join(sorted(r.rates or {}))})"
        ),
    ),
    Check(
        "bad_number",
        ("number",),
        lambda r, c: ~r.blank(c) & r.value(c).is_null(),
        "not a number with at most 6 decimals (expected e.g. 3 or 2.5)",
    ),
    Check("negative_quantity", ("quantity",), lambda r, c: r.value(c) < 0, "negative quantity"),
    Check(
        "quantity_out_of_range",
        ("quantity",),
        lambda r, c: r.value(c) > MAX_QUANTITY,
        f"quantity out of range (at most {MAX_QUANTITY:,})",
    ),
    Check(
        "bad_percent",
        ("discount_percent",),
        lambda r, c: (r.value(c) < 0) | (r.value(c) > 100),
        "discount percent is not between 0 and 100",
    ),
    Check(
        "bad_integer",
        ("integer",),
        lambda r, c: ~r.blank(c) & r.value(c).is_null(),
        "not a whole number",
    ),
    Check(
        "bad_interval_count",
        ("interval_count",),
        lambda r, c: r.value(c) < 1,
        "interval_count is less than 1",
    ),
    Check(
        "missing_interval",
        ("interval",),
        lambda r, c: r.blank(c) if r.rules is None or r.rules.interval is None else None,
        "missing billing interval (or set billing.interval in the config)",
    ),
    Check(
        "bad_interval",
        ("interval",),
        lambda r, c: ~r.blank(c) & r.value(c).is_null(),
        "cannot read the billing interval (expected day, week, month, quarter or year, "
        "or a form like 'every 3 months')",
    ),
    Check("missing_status", ("status",), _status_missing, "missing status"),
    Check(
        "unknown_status",
        ("status",),
        _status_unknown,
        lambda r, _: (
            "status in neither statuses.count nor statuses.exclude of the config "
            f"(count: {', '.join(_st(r).count) or '-'}; exclude: {', '.join(_st(r).exclude) or '-'})"
        ),
    ),
)
"""The checks on each row's own values, in the order a line's problems are listed
(within each field of :data:`~retention_cli.inputs.columns.FIELD_ORDER`)."""


def _state(
    kind: str, cond: Callable[[pl.Expr, pl.Expr, pl.Expr], pl.Expr]
) -> Callable[[Row, str], pl.Expr]:
    """A state condition over (before, after, seen) for one movement type."""

    def when(row: Row, _: str) -> pl.Expr:
        b, a, seen = row.value("before"), row.value("after"), row.value("seen")
        return (row.value("type") == kind) & cond(b, a, seen)

    return when


def _with_arr(text: str) -> Callable[[Row, str], pl.Expr]:
    """A message quoting the account's ARR before the movement."""
    return lambda r, _: pl.format(text, cents_text(r.value("before")))


STATE_CHECKS: tuple[Check, ...] = (
    Check(
        "new_with_arr",
        ("type",),
        _state("new", lambda b, a, s: b > 0),
        _with_arr("new for an account that already has ARR {}"),
        "new for an account that already has ARR …",
    ),
    Check(
        "expansion_without_arr",
        ("type",),
        _state("expansion", lambda b, a, s: b <= 0),
        "expansion on an account with no ARR",
    ),
    Check(
        "contraction_without_arr",
        ("type",),
        _state("contraction", lambda b, a, s: b <= 0),
        "contraction on an account with no ARR",
    ),
    Check(
        "contraction_below_zero",
        ("amount",),
        _state("contraction", lambda b, a, s: (b > 0) & (a < 0)),
        _with_arr("contraction below zero (the account's ARR is {})"),
        "contraction below zero (the account's ARR …)",
    ),
    Check(
        "churn_without_arr",
        ("type",),
        _state("churn", lambda b, a, s: b <= 0),
        "churn on an account with no ARR",
    ),
    Check(
        "churn_amount_differs",
        ("amount",),
        _state("churn", lambda b, a, s: (b > 0) & (a != 0)),
        _with_arr("churn amount differs from the account's ARR {}"),
        "churn amount differs from the account's ARR …",
    ),
    Check(
        "reactivation_unseen",
        ("type",),
        _state("reactivation", lambda b, a, s: ~s),
        "reactivation for an account never seen before",
    ),
    Check(
        "reactivation_with_arr",
        ("type",),
        _state("reactivation", lambda b, a, s: b > 0),
        _with_arr("reactivation of an account that still has ARR {}"),
        "reactivation of an account that still has ARR …",
    ),
)
"""Movements that contradict the account's running ARR, in date order (SPEC §2.3)."""

DUPLICATE_SNAPSHOT = Check(
    "duplicate_snapshot",
    ("arr",),
    lambda r, _: pl.lit(True),
    lambda r, _: pl.format(
        "account {} has more than one row on {} (lines {}) and no item_id column to tell "
        "them apart",
        r.value("account_id"),
        r.value("date").cast(pl.String),
        r.value("lines"),
    ),
    "an account has more than one row on one date (no item_id column)",
)
"""Two rows of one account on one date, with no ``item_id`` to make them line items
(SPEC §2.1): an error, never de-duplicated (``snapshots: {combine: sum}`` sums them)."""

DUPLICATE_ITEM = Check(
    "duplicate_item",
    ("item_id",),
    lambda r, _: pl.lit(True),
    lambda r, _: pl.format(
        "account {} has item {} more than once on {} (lines {})",
        r.value("account_id"),
        r.value("item_id"),
        r.value("date").cast(pl.String),
        r.value("lines"),
    ),
    "the same (account, date, item) more than once",
)
"""The same line item twice (SPEC §2.1): an error."""

DUPLICATE_ROW = Check(
    "duplicate_row",
    ("account_id",),
    lambda r, _: pl.lit(True),
    lambda r, _: pl.format(
        "account {} has the same subscription twice (lines {}) and no item_id column to tell "
        "them apart",
        r.value("account_id"),
        r.value("lines"),
    ),
    "the same subscription row twice (no item_id column)",
)
"""Two subscription rows equal in every column, with no ``item_id``: an error (a
repeated row would double the ARR)."""

LINE_ITEM_HINT = (
    "if the rows are line items (one per subscription, product or line), map their id: "
    "--column item_id=HEADER (or item_id: in the config's columns); to sum them without "
    "an id, set snapshots: {combine: sum} in the config; else keep one row"
)

SNAPSHOT_GAP = Check(
    "snapshot_gap",
    ("date",),
    lambda r, _: r.value("gap") > 0,
    lambda r, _: pl.format(
        "account missing from the snapshots for {} month(s), then back", r.value("gap")
    ),
    "account missing from the snapshots for some months, then back",
)
"""A warning of ``retention validate``: an account absent for some months, then back."""

MIXED_MARKERS = Check(
    "mixed_currency_markers",
    ("money",),
    lambda r, _: pl.lit(True),
    "amounts carry currency markers of different currencies and there is no currency column",
)
"""With no ``currency`` column and no fx section, every currency marker must name one
currency (:func:`marker_currency`)."""

RESERVED_LABELS = ("(none)", "total", "(total)")
"""Labels the outputs give a missing segment and the total row (compared ignoring case)."""

RESERVED_SEGMENT = Check(
    "reserved_segment",
    ("dimension",),
    lambda r, c: r.value(c).cast(pl.String).str.strip_chars().str.to_lowercase()
    .is_in(RESERVED_LABELS).fill_null(False),
    lambda r, c: pl.format(
        "the value {} is the label outputs give {}",
        r.value(c),
        pl.when(r.value(c).cast(pl.String).str.strip_chars() == "(none)")
        .then(pl.lit("a blank segment"))
        .otherwise(pl.lit("the total row")),
    ),
    "a segment value is how outputs show a missing segment or the total",
)  # fmt: skip
"""A ``--by`` column whose value is ``(none)`` or ``Total`` would merge with the blank
segment or read as the total row: refused (:func:`check_segment_values`)."""

CHECKS: dict[str, Check] = {
    c.id: c
    for c in (
        *ROW_CHECKS,
        *STATE_CHECKS,
        DUPLICATE_SNAPSHOT,
        DUPLICATE_ITEM,
        DUPLICATE_ROW,
        SNAPSHOT_GAP,
        MIXED_MARKERS,
        RESERVED_SEGMENT,
    )
}
"""Every declared check by id."""


def title_of(check: pl.Expr, message: pl.Expr) -> pl.Expr:
    """Validate's label of a problem: its check's title, or the message itself."""
    titles = {c.id: c.title for c in CHECKS.values() if c.title is not None}
    title = check.replace_strict(titles, default=None, return_dtype=pl.String)
    return pl.coalesce(title, message)


# --------------------------------------------------------------------------- evaluation
class Applied(NamedTuple):
    """A check applied to one frame: the column it reports, the frame column whose
    text is shown as the value, the message expression (null on a good row), and
    the check id."""

    column: str
    raw: str | None
    message: pl.Expr
    check: str | None = None


def problem(cond: pl.Expr, message: str | pl.Expr) -> pl.Expr:
    """``message`` where ``cond`` holds, else null."""
    msg = pl.lit(message) if isinstance(message, str) else message
    return pl.when(cond).then(msg).otherwise(None)


def is_blank(col: pl.Expr) -> pl.Expr:
    """Null, empty or only whitespace (without materialising stripped copies)."""
    return col.str.contains(r"^\s*$").fill_null(True)


def row_checks(fields: Sequence[Field], row: Row) -> Iterator[tuple[Field, Check, pl.Expr]]:
    """Each row check that applies to ``fields``, with its condition, in listing order."""
    for f in fields:
        for check in ROW_CHECKS:
            if check.applies_to(f):
                cond = check.when(row, f.canonical)
                if cond is not None:
                    yield f, check, cond


def applied_row_checks(fields: Sequence[Field], row: Row) -> list[Applied]:
    """:func:`row_checks` ready for :func:`problem_frame` (values shown from each field's header)."""
    return [
        Applied(
            f.canonical, f.header, problem(cond, check.message_expr(row, f.canonical)), check.id
        )
        for f, check, cond in row_checks(fields, row)
    ]


def problem_frame(
    df: pl.DataFrame, checks: Sequence[Applied | tuple[str, str, pl.Expr]]
) -> pl.DataFrame:
    """Every problem the checks find in ``df``.

    A check is an :class:`Applied` or a ``(column, raw_column, message_expr)``
    tuple (no id). Columns ``_line``, ``_check`` (index of the check),
    ``check`` (its id), ``column``, ``message``, ``value``; sorted by line,
    then check.
    """
    empty = pl.DataFrame(schema={LINE: pl.Int64, "_check": pl.Int32, "check": pl.String,
                                 "column": pl.String, "message": pl.String, "value": pl.String})  # fmt: skip
    if not checks or df.height == 0:
        return empty
    applied = [c if isinstance(c, Applied) else Applied(*c) for c in checks]
    # one cheap pass first: most files have no problem at all, and the detailed
    # pass below then runs over the flagged rows only
    flagged = df.filter(pl.any_horizontal(a.message.is_not_null() for a in applied))
    if flagged.height == 0:
        return empty
    df = flagged
    parts = []
    for i, a in enumerate(applied):
        parts.append(
            df.lazy()
            .select(
                pl.col(LINE),
                pl.lit(i, dtype=pl.Int32).alias("_check"),
                pl.lit(a.check, dtype=pl.String).alias("check"),
                pl.lit(a.column).alias("column"),
                a.message.alias("message"),
                (pl.col(a.raw).cast(pl.String) if a.raw else pl.lit(None, dtype=pl.String)).alias(
                    "value"
                ),
            )
            .filter(pl.col("message").is_not_null())
        )
    return pl.concat(parts).sort(LINE, "_check").collect()


def problems_of(found: pl.DataFrame) -> list[Problem]:
    """The first :data:`MAX_PROBLEMS_KEPT` rows of a :func:`problem_frame` as Problems."""
    return [
        Problem(r["message"], line=r[LINE], column=r["column"], value=r["value"], check=r["check"])
        for r in found.head(MAX_PROBLEMS_KEPT).iter_rows(named=True)
    ]


def collect_problems(
    df: pl.DataFrame, checks: Sequence[Applied | tuple[str, str, pl.Expr]]
) -> tuple[list[Problem], int]:
    """Evaluate checks on ``df``: the first problems and the total."""
    found = problem_frame(df, checks)
    return problems_of(found), found.height


# --------------------------------------------------------------------------- frame-level checks
def movement_state_problems(frame: pl.DataFrame) -> pl.DataFrame:
    """Movements that contradict the account's running ARR, in date order (SPEC §2.3):
    a :func:`problem_frame` of the :data:`STATE_CHECKS`."""
    # same-date movements in the file's order, or by its rank column (ChartMogul's RANK)
    rank = ["_rank"] if "_rank" in frame.columns else []
    lf = frame.lazy().sort("account_id", "date", *rank, LINE)
    after = pl.col("amount").cum_sum().over("account_id")
    lf = lf.with_columns(
        _after=after,
        _before=after - pl.col("amount"),
        _seen=pl.int_range(pl.len()).over("account_id") > 0,
    )
    row = Row({"type": pl.col("type"), "before": pl.col("_before"), "after": pl.col("_after"),
               "seen": pl.col("_seen")})  # fmt: skip
    shown = {"type": "type", "amount": "_amount"}
    checks = []
    for check in STATE_CHECKS:
        column = check.on[0]
        message = check.problem(row, column)
        assert message is not None  # state checks always apply
        checks.append(Applied(column, shown[column], message, check.id))
    df = lf.with_columns(_amount=cents_text(pl.col("amount").abs())).collect()
    return problem_frame(df, checks).with_columns(pl.col("_check") + 100)


def settle_movement_states(
    frame: pl.DataFrame, path: str, *, skip: bool
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Raise on state problems, or (``skip``) drop the earliest problem row of each
    account until the rest agree; return the frame left and the dropped rows' problems."""
    found = movement_state_problems(frame)
    if found.height == 0:
        return frame, []
    rank = ["_rank"] if "_rank" in frame.columns else []
    if not skip:
        raise InputError(path, problems_of(found), total=found.height, hint=STATE_HINT)
    dropped = []
    for _ in range(MAX_SETTLE_ROUNDS):
        if found.height == 0:
            break
        # a later row may only look wrong because of an earlier one: drop the first per account
        first = (
            found.join(frame.select(LINE, "account_id", "date", *rank), on=LINE)
            .sort("account_id", "date", *rank, LINE)
            .group_by("account_id", maintain_order=True)
            .first()
            .select(LINE)
        )
        out = found.join(first, on=LINE)
        dropped.append(out)
        frame = frame.filter(~pl.col(LINE).is_in(out[LINE].implode()))
        found = movement_state_problems(frame)
    if found.height:  # still contradicting after many rounds: drop the rest at once
        dropped.append(found)
        frame = frame.filter(~pl.col(LINE).is_in(found[LINE].implode()))
    return frame, dropped


def _repeats(df: pl.DataFrame, key: list[str], date: str) -> pl.DataFrame | None:
    """The rows of ``df`` whose ``key`` (account id, a date, maybe more) repeats, else ``None``.

    The usual case, no repeats, takes one cheap pass over a 64-bit hash of the key
    (equal keys have equal hashes, so only rows with a repeated hash can repeat).
    """
    hashed = pl.col("account_id").hash(7) ^ pl.col(date).cast(pl.Int64).hash(11)  # days may be < 0
    if df.schema["account_id"] == pl.Categorical:  # the fast reader's: pack code and day exactly
        code = pl.col("account_id").to_physical().cast(pl.UInt64)
        day = (pl.col(date).cast(pl.Int64) + 2**31).cast(pl.UInt64)
        hashed = code * pl.lit(2**32, pl.UInt64) + day
    if df.select(hashed.n_unique()).item() == df.height:
        return None
    candidates = df.filter(hashed.is_duplicated())
    repeated = candidates.select(pl.struct(key).is_duplicated()).to_series()
    if not repeated.any():  # hash collisions only
        return None
    return candidates.filter(repeated)


def _conflicts(
    rows: pl.DataFrame,
    key: list[str],
    check: Check,
    column: str,
    shown: str,
    values: Mapping[str, pl.Expr],
) -> pl.DataFrame:
    """A :func:`problem_frame` of ``check`` over ``rows`` (each naming its group's lines)."""
    lines = pl.col(LINE).sort().cast(pl.String).head(5).str.join(", ").over(key)
    df = rows.sort(LINE).with_columns(_lines=lines)
    row = Row({**values, "lines": pl.col("_lines")})
    message = check.problem(row, column)
    assert message is not None
    return problem_frame(df, [Applied(column, shown, message, check.id)]).with_columns(
        pl.col("_check") + 200
    )


def _raise_or_drop(
    df: pl.DataFrame, found: pl.DataFrame, path: str, *, skip: bool, hint: str
) -> pl.DataFrame:
    if not skip:
        raise InputError(path, problems_of(found), total=found.height, hint=hint)
    return df.filter(~pl.col(LINE).is_in(found[LINE].implode()))


def snapshot_duplicates(
    frame: pl.DataFrame, path: str, *, skip: bool = False, combine: str = "error"
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Rows of one account on one date (SPEC §2.1): line items (an ``item_id``
    column, or ``combine="sum"``) are summed, the same item twice is an error;
    without either, two rows are an error naming both lines. Nothing is ever
    de-duplicated. Raise, or (``skip``) leave out every row of a bad group.
    Returns the frame (one row per account and date) and the dropped rows' problems."""
    items = "_item_id" in frame.columns
    df = frame
    key = ["account_id", "date"]
    rep = _repeats(df, key, "date")
    if rep is None:
        return (df.drop("_item_id") if items else df), []
    dropped = []
    values = {"account_id": pl.col("account_id"), "date": pl.col("date")}
    if items:
        same = rep.filter(pl.struct([*key, "_item_id"]).is_duplicated())
        if same.height:
            found = _conflicts(same, [*key, "_item_id"], DUPLICATE_ITEM, "item_id", "_item_id",
                               {**values, "item_id": pl.col("_item_id")})  # fmt: skip
            df = _raise_or_drop(df, found, path, skip=skip, hint="keep one row per item")
            dropped.append(found)
    elif combine != "sum":
        rep = rep.with_columns(_arr=cents_text(pl.col("arr")))
        found = _conflicts(rep, key, DUPLICATE_SNAPSHOT, "arr", "_arr", values)
        df = _raise_or_drop(df, found, path, skip=skip, hint=LINE_ITEM_HINT)
        return df, [found]
    # line items: one row per account and date, ARR summed; they must agree on every
    # dimension, or the sum would land in one line's segment silently
    others = [c for c in df.columns if c not in (*key, "arr", "_item_id")]
    dims = [c for c in others if not c.startswith("_")]
    if dims:
        split = (
            df.lazy()
            .group_by(key)
            .agg(pl.col(LINE).min(), *(pl.col(c).n_unique().alias(c) for c in dims))
            .filter(pl.any_horizontal(pl.col(c) > 1 for c in dims))
            .sort(LINE)
            .collect()
        )
        if split.height:
            first = split.row(0, named=True)
            col = next(c for c in dims if first[c] > 1)
            msg = (
                f"line items of account {first['account_id']!r} on {first['date']} differ in "
                f"{col!r}: their summed ARR would land in one line's {col}"
            )
            raise InputError(
                path,
                [Problem(msg, line=first[LINE], column=col, check="line_item_dimensions")],
                total=split.height,
                hint=f"give every line of an account and date the same {col}, or leave the column out",
            )
    summed = (
        df.lazy()
        .sort(LINE)
        .group_by(key, maintain_order=True)
        .agg(pl.col("arr").sum(), pl.col(others).first())
        .select(c for c in df.columns if c != "_item_id")
        .collect()
    )
    return summed, dropped


def subscription_duplicates(
    frame: pl.DataFrame, path: str, *, skip: bool = False
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """The same item of one account starting on one date twice, or (no ``item_id``)
    two rows equal in every column: an error (a repeat would double the ARR).
    Raise, or (``skip``) leave out every row of a bad group."""
    items = "_item_id" in frame.columns
    key = ["account_id", "start_date"]
    rep = _repeats(frame, key, "start_date")
    if rep is None:
        return (frame.drop("_item_id") if items else frame), []
    values = {"account_id": pl.col("account_id"), "date": pl.col("start_date")}
    if items:
        same = rep.filter(pl.struct([*key, "_item_id"]).is_duplicated())
        full = [*key, "_item_id"]
        check, column, values = DUPLICATE_ITEM, "item_id", {**values, "item_id": pl.col("_item_id")}
        shown = "_item_id"
    else:
        full = [c for c in rep.columns if c != LINE]
        same = rep.filter(pl.struct(full).is_duplicated())
        check, column = DUPLICATE_ROW, "account_id"
        shown = column
    dropped = []
    df = frame
    if same.height:
        found = _conflicts(same, full, check, column, shown, values)
        df = _raise_or_drop(df, found, path, skip=skip, hint=LINE_ITEM_HINT)
        dropped.append(found)
    return (df.drop("_item_id") if items else df), dropped


def marker_currency(frame: pl.DataFrame, markers: Mapping[str, str], path: str) -> str | None:
    """The one currency the money texts' markers name (file without a ``currency``
    column or fx section), as the marker text (``EUR``, ``$``); ``None`` when no
    text carries one.

    ``markers`` maps a canonical money column to the frame column holding its
    markers. Markers naming different currencies raise :data:`MIXED_MARKERS`,
    listing where each is first seen.
    """
    if not markers:
        return None
    seen = pl.concat(
        [
            frame.select(pl.col(m).alias("marker"), pl.col(LINE), pl.lit(c).alias("column"))
            .drop_nulls("marker")
            .filter(pl.col("marker") != SEVERAL_MARKERS)  # those rows are errors
            .group_by("marker")
            .agg(pl.col(LINE).min(), pl.col("column").first())
            for c, m in markers.items()
        ]
    ).sort(LINE)
    found = seen.unique("marker", keep="first", maintain_order=True)
    if found.height == 0:
        return None
    common: set[str] | None = None
    for marker in found["marker"].to_list():
        agrees = {marker, *CURRENCY_SYMBOLS.get(marker, ())}
        common = agrees if common is None else common & agrees
    names = found["marker"].to_list()
    if common:
        codes = [m for m in names if m not in CURRENCY_SYMBOLS]
        return codes[0] if codes else names[0]
    problems = [
        Problem(
            f"currency marker {r['marker']} (first seen here), but other amounts are "
            f"marked {', '.join(m for m in names if m != r['marker'])}",
            line=r[LINE],
            column=r["column"],
            check=MIXED_MARKERS.id,
        )
        for r in found.iter_rows(named=True)
    ]
    raise InputError(
        path,
        problems,
        hint="add a currency column (and an fx section to convert), or give every amount "
        "in one currency",
    )


DATE_KINDS = ("date", "optional_date")


def utc_offset_warning(frame: pl.DataFrame, fields: Sequence[Field]) -> str | None:
    """A warning when ISO datetimes carry a UTC offset that puts them on another day
    in UTC (``2024-01-31T23:30:00-05:00`` is Feb 1 in UTC), else ``None``.

    Such a value is read as the date written, its local date (SPEC §2.2: the date
    part is used); the other reading could land it in another month, so the count
    and the first one are said. ``frame`` holds the raw text under each field's header.
    """
    found = []
    for f in fields:
        if f.kind not in DATE_KINDS:
            continue
        text = pl.col(f.header)
        moved = frame.filter(
            text.str.contains(r"[+-][0-9]{2}:?[0-9]{2}\s*$").fill_null(False)
        ).filter((utc_day_shift(text) != 0).fill_null(False))
        if moved.height:
            first = moved.sort(LINE).row(0, named=True)
            found.append((first[LINE], f.header, first[f.header], moved.height))
    if not found:
        return None
    line, header, value, _ = min(found)
    n = sum(x[3] for x in found)
    return (
        f"{n:,} datetime(s) carry a UTC offset that puts them on another day in UTC "
        f"(first: line {line}, {header} {value.strip()!r}): each is read as the date written "
        "(its local date); if you count in UTC, convert them to UTC dates first"
    )


def check_segment_values(frame: pl.DataFrame, by: Sequence[str], path: str) -> None:
    """Raise :data:`RESERVED_SEGMENT` where a ``by`` column holds ``(none)``, ``Total``
    or ``(total)``: outputs use those labels for a blank segment and the total row."""
    checks = []
    for d in by:
        message = RESERVED_SEGMENT.problem(Row({d: pl.col(d)}), d)
        assert message is not None
        checks.append(Applied(d, d, message, RESERVED_SEGMENT.id))
    if not checks:
        return
    found = problem_frame(frame.select(LINE, *(pl.col(d).cast(pl.String) for d in by)), checks)
    if found.height:
        raise InputError(
            path,
            problems_of(found),
            total=found.height,
            hint="rename those values in the file (e.g. 'Total' to 'Total accounts'); "
            "blank values are already shown as (none)",
        )
