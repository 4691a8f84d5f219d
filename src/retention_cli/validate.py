"""``retention validate``: every check of SPEC §2.3 on one file, as one table."""

from __future__ import annotations

from typing import Any

import polars as pl

from retention_cli.calendar import FiscalCalendar
from retention_cli.config import Config
from retention_cli.errors import InputError, Problem, RetentionError
from retention_cli.inputs import LINE, Loaded
from retention_cli.inputs.checks import SNAPSHOT_GAP, Row, title_of
from retention_cli.ledger import build_ledger
from retention_cli.options import Shape
from retention_cli.result import Result

VALIDATE_KEYS = ("check", "severity", "column", "rows", "examples")
EXAMPLES = 3


def snapshot_gaps(loaded: Loaded, calendar: FiscalCalendar) -> pl.DataFrame:
    """Snapshot accounts missing for some months and back later (a problem frame).

    The ledger reads such a gap as churn and reactivation (or carries the ARR
    through with ``snapshots.carry_forward``); a warning lets the user see it.
    """
    df = loaded.frame.lazy().with_columns(_m=calendar.period_expr(pl.col("date")))
    row = Row({"gap": pl.col("_gap")})
    gaps = (
        df.sort("account_id", "_m", LINE)
        .with_columns(_gap=pl.col("_m") - pl.col("_m").shift(1).over("account_id") - 1)
        .filter(pl.col("_gap") > 0)
        .select(
            pl.col(LINE),
            pl.lit(300, pl.Int32).alias("_check"),
            pl.lit(SNAPSHOT_GAP.id).alias("check"),
            pl.lit("date").alias("column"),
            SNAPSHOT_GAP.message_expr(row, "date").alias("message"),
            pl.col("account_id").alias("value"),
        )
    )
    return gaps.collect()


def _error_rows(exc: RetentionError) -> pl.DataFrame:
    """A problem frame (severity error) for what stopped the ledger: each located
    problem of an :class:`InputError`, else the error's own message."""
    problems = exc.problems if isinstance(exc, InputError) else []
    if not problems:
        problems = [Problem(exc.message, check="ledger")]
    return pl.DataFrame(
        {
            LINE: [p.line for p in problems],
            "_check": [900] * len(problems),
            "check": [p.check or "ledger" for p in problems],
            "column": [p.column for p in problems],
            "message": [p.message for p in problems],
            "value": [p.value for p in problems],
            "severity": ["error"] * len(problems),
        },
        schema={LINE: pl.Int64, "_check": pl.Int32, "check": pl.String, "column": pl.String,
                "message": pl.String, "value": pl.String, "severity": pl.String},
    )  # fmt: skip


def validate(loaded: Loaded, config: Config) -> tuple[pl.DataFrame, list[str]]:
    """The validation table for a file loaded with ``on_invalid="report"``.

    Returns the rows (``check, severity, column, rows, examples``; errors
    first) and the warnings that are not tied to rows.
    """
    path = loaded.source.path
    parts = []
    if loaded.problems is not None and loaded.problems.height:
        parts.append(loaded.problems.with_columns(severity=pl.lit("error")))
    cal = FiscalCalendar(config.fiscal_year)
    if loaded.shape is Shape.snapshots and loaded.frame.height:
        gaps = snapshot_gaps(loaded, cal)
        if gaps.height:
            what = (
                "its last ARR is carried through (snapshots.carry_forward)"
                if config.snapshots.carry_forward
                else "read as churn, then reactivation"
            )
            gaps = gaps.with_columns(
                pl.format("{}: {}", pl.col("message"), pl.lit(what)),
                title=pl.lit(f"{SNAPSHOT_GAP.title}: {what}"),
            )
            parts.append(gaps.with_columns(severity=pl.lit("warning")))
    warnings = list(loaded.warnings)
    if loaded.frame.height:
        try:
            ledger = build_ledger(loaded, cal, config=config, dimensions=[])
            warnings += ledger.warnings
        except RetentionError as exc:  # a ledger-level problem is an error finding: exit 2
            parts.append(_error_rows(exc))
    schema = {"check": pl.String, "severity": pl.String, "column": pl.String,
              "rows": pl.Int64, "examples": pl.String}  # fmt: skip
    if not parts:
        table = pl.DataFrame(schema=schema)
    else:
        found = pl.concat(parts, how="diagonal_relaxed")
        example = pl.format(
            "{}:{}{}",
            pl.lit(path),
            pl.col(LINE),
            pl.when(pl.col("value").is_not_null())
            .then(pl.format(" ({})", pl.col("value").str.slice(0, 40)))
            .otherwise(pl.lit("")),
        )
        # grouped by check id; the label is the check's title (or its message, where
        # the message is the title: e.g. one group per movement type)
        if "title" not in found.columns:
            found = found.with_columns(title=pl.lit(None, pl.String))
        label = pl.coalesce(pl.col("title"), title_of(pl.col("_id"), pl.col("message")))
        table = (
            found.rename({"check": "_id"})
            .with_columns(check=label, _ex=example)
            .group_by("severity", "_id", "check", "column")
            .agg(
                pl.col(LINE).n_unique().cast(pl.Int64).alias("rows"),
                pl.col("_ex").head(EXAMPLES).str.join("; ").alias("examples"),
                pl.col(LINE).min().alias("_first"),
                pl.col("_check").min().alias("_order"),
            )
            # errors first, then by first line; checks first seen on one line in the
            # order that line's problems are listed (deterministic on ties)
            .sort(pl.col("severity") != "error", "_first", "_order", "column", "check")
            .select(*schema)
        )
    return table, warnings


def validate_result(loaded: Loaded, config: Config) -> Result:
    """The :class:`Result` of ``retention validate``."""
    table, warnings = validate(loaded, config)
    errors = int(table.filter(pl.col("severity") == "error")["rows"].sum() or 0)
    n_err = table.filter(pl.col("severity") == "error").height
    n_warn = table.filter(pl.col("severity") == "warning").height + len(warnings)
    src = loaded.source
    if n_err:
        title = (
            f"{src.path}: {n_err} kind(s) of error in {errors:,} of {src.rows_read:,} rows, "
            f"{n_warn} warning(s)"
        )
    else:
        title = f"{src.path}: no errors in {src.rows_read:,} rows, {n_warn} warning(s)"
    info: dict[str, Any] = {
        "path": src.path,
        "sha256": src.sha256,
        "rows_read": src.rows_read,
        "rows_used": loaded.rows_used,
        "rows_skipped": loaded.skipped,
        "shape": loaded.shape.value,
        **loaded.accounting(),
    }
    if loaded.excluded:
        summary = loaded.summary()
        warnings = [*warnings, summary] if summary else warnings
    return Result(
        command="validate",
        title=title,
        frame=table,
        keys=VALIDATE_KEYS,
        by=(),
        input=info,
        options={},
        definitions={"calendar": config.fiscal_year.model_dump(mode="json")},
        caption=(
            "errors stop every command (exit 2) unless --on-invalid skip leaves those rows out; "
            "warnings do not"
        ),
        notes=tuple(warnings),
        head=(),
        rows_key="checks",
    )
