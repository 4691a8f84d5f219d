"""Spend input for unit economics (SPEC §8): read, check, and sum per reported period.

A spend file has a ``period`` column (a fiscal month ``2026-03``, quarter
``FY2026-Q1``, year ``FY2026`` or a date inside a fiscal month) and any subset
of ``sales_marketing``, ``customer_success``, ``gross_margin`` (``0.78`` or
``78%``) and ``net_burn``. Money is parsed exactly, like ARR.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from retention_cli.bounds import check_exact_sums
from retention_cli.calendar import FiscalCalendar
from retention_cli.errors import InputError, Problem, UsageError
from retention_cli.inputs import (
    LINE,
    Source,
    collect_problems,
    is_blank,
    money_cents,
    normalize_header,
    read_table,
)
from retention_cli.options import Grain

SPEND_COLUMNS = ("sales_marketing", "customer_success", "gross_margin", "net_burn")
_ALIASES = {
    "period": ("period", "month", "quarter", "year", "date", "fiscalperiod"),
    "sales_marketing": ("salesmarketing", "salesandmarketing", "s&m", "sm", "smspend"),
    "customer_success": ("customersuccess", "cs", "csspend"),
    "gross_margin": ("grossmargin", "gm", "margin"),
    "net_burn": ("netburn", "burn"),
}


@dataclass(frozen=True)
class Spend:
    """Parsed spend rows.

    ``frame`` columns: ``_line``, ``period`` (the text as written), ``_first`` and
    ``_last`` (fiscal month indices the row covers), the money columns present
    (integer cents, null when blank), ``gross_margin`` (fraction, null when
    blank), then the other columns as text: dimensions, such as ``segment``,
    that split the spend. ``columns`` names the spend columns the file has.
    """

    frame: pl.DataFrame
    columns: tuple[str, ...]
    source: Source
    dimensions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)


def load_spend(path: str, calendar: FiscalCalendar, *, separator: str | None = None) -> Spend:
    """Read and check a spend file; every problem is reported with its line.

    Examples
    --------
    >>> from retention_cli import FiscalCalendar, load_spend
    >>> spend = load_spend("examples/spend.csv", FiscalCalendar())
    >>> spend.columns, spend.source.rows_read
    (('sales_marketing', 'customer_success', 'gross_margin', 'net_burn'), 30)
    >>> spend.frame.select("period", "sales_marketing", "gross_margin").row(0)
    ('2024-01', 97865415, 0.758)

    Spend is in integer cents (978,654.15 of S&M in January 2024).
    """
    raw, source = read_table(path, separator=separator)
    name = source.path
    found: dict[str, str] = {}
    ignored = []
    for header in raw.columns:
        if header == LINE:
            continue
        key = normalize_header(header)
        canonical = next((c for c, names in _ALIASES.items() if key in names), None)
        if canonical is None:
            ignored.append(header)
        elif canonical in found:
            msg = f"columns {found[canonical]!r} and {header!r} both mean {canonical!r}"
            raise InputError(name, [Problem(msg, line=1)])
        else:
            found[canonical] = header
    if "period" not in found:
        raise InputError(
            name,
            [Problem("no 'period' column", line=1)],
            hint="a spend file has columns period, sales_marketing, customer_success, "
            "gross_margin, net_burn (any subset of the last four)",
        )
    columns = tuple(c for c in SPEND_COLUMNS if c in found)
    if not columns:
        raise InputError(
            name,
            [Problem("no spend column: expected any of " + ", ".join(SPEND_COLUMNS), line=1)],
        )
    df = raw.select(LINE, *(pl.col(h).alias(c) for c, h in found.items()), *ignored)
    checks: list[tuple[str, str, pl.Expr]] = []
    texts = df["period"].drop_nulls().str.strip_chars().unique().to_list()
    spans: dict[str, tuple[int, int]] = {}
    for text in texts:
        try:
            lo, hi = calendar.resolve(text, param="period")
        except UsageError:
            continue
        spans[text] = (calendar.period_of(lo), calendar.period_of(hi))
    period = pl.col("period").str.strip_chars()
    df = df.with_columns(
        _first=period.replace_strict({k: v[0] for k, v in spans.items()}, default=None, return_dtype=pl.Int32),
        _last=period.replace_strict({k: v[1] for k, v in spans.items()}, default=None, return_dtype=pl.Int32),
    )  # fmt: skip
    checks.append(
        (
            "period",
            "period",
            pl.when(period.fill_null("") == "")
            .then(pl.lit("missing value"))
            .when(pl.col("_first").is_null())
            .then(pl.lit("not a period: use 2026-03, FY2026-Q1, FY2026 or a date")),
        )
    )
    exprs = []
    for col in columns:
        blank = is_blank(pl.col(col))
        if col == "gross_margin":
            text = pl.col(col).str.strip_chars()
            pct = text.str.ends_with("%")
            num = text.str.strip_suffix("%").str.strip_chars().cast(pl.Float64, strict=False)
            value = pl.when(pct).then(num / 100).otherwise(num)
            exprs.append(pl.when(blank).then(None).otherwise(value).alias(col))
            checks.append(
                (
                    col,
                    col,
                    pl.when(~blank & value.is_null())
                    .then(pl.lit("not a number: write 0.78 or 78%"))
                    .when(~blank & ((value <= 0) | (value > 1)))
                    .then(pl.lit("gross margin must be above 0 and at most 1 (100%)")),
                )
            )
            continue
        cents, ok, _ = money_cents(pl.col(col))
        exprs.append(pl.when(blank).then(None).otherwise(cents).alias(col))
        bad = pl.when(~blank & (~ok | cents.is_null())).then(pl.lit("not an amount"))
        if col != "net_burn":
            bad = bad.when(~blank & (cents < 0)).then(pl.lit("spend cannot be negative"))
        checks.append((col, col, bad))
    df = df.with_columns(pl.col(d).str.strip_chars() for d in ignored)
    problems, total = collect_problems(df, checks)
    if total:
        raise InputError(name, problems, total=total)
    df = df.with_columns(exprs).with_columns(period)
    check_exact_sums(df, [c for c in columns if c != "gross_margin"], name)
    overlap = _overlaps(df, ignored)
    if overlap:
        raise InputError(
            name,
            overlap,
            hint="give each fiscal month's spend once (either monthly or per quarter, not both)",
        )
    return Spend(
        frame=df.select(LINE, "period", "_first", "_last", *columns, *ignored),
        columns=columns,
        source=source,
        dimensions=tuple(ignored),
    )


def _overlaps(df: pl.DataFrame, dims: list[str]) -> list[Problem]:
    """Rows whose months an earlier row of the same dimension values already covers."""
    months = (
        df.select(LINE, "period", *dims, pl.int_ranges("_first", pl.col("_last") + 1).alias("_m"))
        .explode("_m")
        .sort("_m", LINE)
        .with_columns(_dup=pl.col(LINE).first().over("_m", *dims))
        .filter(pl.col(LINE) != pl.col("_dup"))
        .group_by(LINE, "period", "_dup")
        .agg()
        .sort(LINE)
    )
    return [
        Problem(f"covers months already given on line {r['_dup']}", line=r[LINE],
                column="period", value=r["period"])
        for r in months.head(20).iter_rows(named=True)
    ]  # fmt: skip


def spend_by_period(
    spend: Spend, calendar: FiscalCalendar, grain: Grain, by: list[str] | tuple[str, ...] = ()
) -> pl.DataFrame:
    """Spend summed per reported period of ``grain`` (and per ``by`` segment).

    Columns ``_p`` (fiscal month index closing the period), the ``by`` columns
    (null on the all-segments row), ``_months`` (distinct months of the period
    the rows cover), the money columns (cents; null when any row left it blank)
    and ``gross_margin`` (mean of the rows). Segment rows come only when the
    file has every ``by`` column; spend dimensions not in ``by`` are added up.
    A row longer than one reported period (a quarter at ``--grain month``) is
    an error, since it cannot be split without guessing.

    Examples
    --------
    >>> from retention_cli import FiscalCalendar, Grain, load_spend, spend_by_period
    >>> cal = FiscalCalendar()
    >>> q = spend_by_period(load_spend("examples/spend.csv", cal), cal, Grain.quarter)
    >>> cal.label(q["_p"][0], Grain.quarter), q.select("_months", "sales_marketing").row(0)
    ('FY2024-Q1', (3, 145025861))

    The first quarter's three monthly rows, added up (cents).
    """
    by = list(by)
    df = spend.frame.with_columns(
        _p=calendar.grain_last_expr(pl.col("_last"), grain),
        _p_first=calendar.grain_last_expr(pl.col("_first"), grain),
    )
    wide = df.filter(pl.col("_p") != pl.col("_p_first"))
    if wide.height:
        problems = [
            Problem(f"covers more than one {grain.value}", line=r[LINE], column="period",
                    value=r["period"])
            for r in wide.head(20).iter_rows(named=True)
        ]  # fmt: skip
        raise InputError(
            spend.source.path,
            problems,
            total=wide.height,
            hint=f"report at a coarser --grain, or give the spend per {grain.value}",
        )
    aggs = [pl.int_ranges("_first", pl.col("_last") + 1).explode().n_unique().alias("_months")]
    for col in spend.columns:
        if col == "gross_margin":
            aggs.append(pl.col(col).mean())
        else:
            aggs.append(
                pl.when(pl.col(col).is_null().any())
                .then(None)
                .otherwise(pl.col(col).sum())
                .alias(col)
            )
    total = df.group_by("_p").agg(aggs).with_columns(pl.lit(None, pl.String).alias(d) for d in by)
    parts = [total.select("_p", *by, pl.exclude("_p", *by))]
    if by and all(d in spend.dimensions for d in by):
        seg = (
            df.with_columns(pl.col(d).fill_null("(none)") for d in by).group_by("_p", *by).agg(aggs)
        )
        parts.append(seg.select(parts[0].columns))
    return pl.concat(parts).sort("_p", *by, nulls_last=False)
