"""Expansion credit (issue 15, item 3): gross new ARR split by the team credited.

The bridge's new, reactivation and expansion ARR of each account in each step
(a fiscal month, or a whole period with ``--bridge net`` above month grain) is
given to the credits of that account dated inside the step:

* a movement log's credit column: each new, expansion or reactivation row
  credits its value (blank: ``uncredited``), weighted by its amount;
* a credits file (``date, account_id, credit``) for any shape: each row credits
  its value, all rows of one account and step weighing the same.

An account's gain is split over its credits in proportion to their weights, in
whole cents (largest remainder; ties by credit name), so every team's figures
add up exactly to the bridge. A gain with no credit in its step is
``uncredited``: never dropped. A credit row of an account the data does not
have is named in a warning (:func:`credit_warnings`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from retention_cli.calendar import FiscalCalendar
from retention_cli.errors import InputError, Problem, UsageError
from retention_cli.inputs import LINE, Loaded
from retention_cli.ledger import Ledger
from retention_cli.metrics.bridge import account_steps, reporting_periods
from retention_cli.metrics.frames import ratio
from retention_cli.options import BridgeMode, Grain
from retention_cli.rollup import frame_parents

if TYPE_CHECKING:
    from retention_cli.config import Policies

MAPPED = "_credit"
"""The frame column of the canonical ``credit`` column, when the mapping names one."""

UNCREDITED = "uncredited"
"""The credit of gross new ARR no credit row covers."""

CREDIT_KEYS = (
    "credit",
    "new_arr",
    "reactivation_arr",
    "expansion_arr",
    "gross_new_arr",
    "credit_share",
)
"""The keys of ``mix --credit``: one row per period and credited team."""

GAINS = ("new_arr", "reactivation_arr", "expansion_arr")


def movement_credits(loaded: Loaded, column: str, calendar: FiscalCalendar) -> pl.DataFrame:
    """The credit rows of a movement log's ``column``: ``account, period, credit, weight``.

    One per new, expansion or reactivation row, weighted by its amount in cents.
    """
    frame = loaded.frame
    return frame.filter(
        pl.col("type").is_in(["new", "expansion", "reactivation"]), pl.col("amount") > 0
    ).select(
        pl.col("account_id").cast(pl.String).alias("account"),
        calendar.period_expr(pl.col("date")).cast(pl.Int32).alias("period"),
        pl.col(column).cast(pl.String).str.strip_chars().replace("", None).alias("credit"),
        pl.col("amount").cast(pl.Int64).alias("weight"),
    )


def read_credits(path: str | Path, calendar: FiscalCalendar) -> pl.DataFrame:
    """A credits file (``date, account_id, credit``) as credit rows of weight 1.

    Headers match ignoring case; a date that is not ``YYYY-MM-DD`` is an error
    naming its line.
    """
    name = str(path)
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except FileNotFoundError:
        raise InputError(
            name, [Problem("the credits file does not exist")], param="credits"
        ) from None
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(name, [Problem(f"cannot read the credits file ({exc})")]) from None
    found = {c.strip().lower(): c for c in raw.columns}
    missing = [c for c in ("date", "account_id", "credit") if c not in found]
    if missing:
        raise InputError(
            name,
            [Problem(f"missing column(s): {', '.join(missing)}", line=1)],
            hint="a credits file has the columns date, account_id, credit",
        )
    rows = raw.select(
        pl.int_range(2, raw.height + 2, dtype=pl.Int64).alias(LINE),
        pl.col(found["date"]).str.strip_chars().alias("_text"),
        pl.col(found["account_id"]).str.strip_chars().alias("account"),
        pl.col(found["credit"]).str.strip_chars().replace("", None).alias("credit"),
    ).with_columns(_date=pl.col("_text").str.to_date("%Y-%m-%d", strict=False))
    bad = rows.filter(pl.col("_date").is_null())
    if bad.height:
        raise InputError(
            name,
            [
                Problem("not a YYYY-MM-DD date", line, "date", text)
                for line, text in bad.select(LINE, "_text").head(20).rows()
            ],
            total=bad.height,
        )
    return rows.select(
        "account",
        calendar.period_expr(pl.col("_date")).cast(pl.Int32).alias("period"),
        "credit",
        pl.lit(1, pl.Int64).alias("weight"),
    )


def credit_rows(
    loaded: Loaded,
    calendar: FiscalCalendar,
    *,
    column: str | None = None,
    path: str | None = None,
    parents: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The credit rows of a run: a movement log's ``column``, or a credits file.

    The file at ``path`` wins; then the column mapped as ``credit`` (config
    ``columns:``), which ``column`` may also name as ``credit``; each account is moved to its parent when the run
    rolls up.
    """
    if path is not None:
        rows = read_credits(path, calendar)
    else:
        mapped = MAPPED in loaded.frame.columns and column in (None, "credit")
        if loaded.shape.value != "movements":
            msg = (
                f"a credit column is read from a movement log, and this is {loaded.shape.value}: "
                "give the credits in a file (date, account_id, credit)"
            )
            raise UsageError(msg, param="credit", hint="use --credits FILE")
        column = MAPPED if mapped else column
        assert column is not None
        if column != MAPPED and column not in loaded.dimensions:
            dims = ", ".join(map(repr, loaded.dimensions)) or "none"
            msg = f"no column {column!r} in the file to take credits from (its dimensions: {dims})"
            raise UsageError(msg, param="credit")
        rows = movement_credits(loaded, column, calendar)
    parents = frame_parents(loaded, parents)
    if parents is not None:
        rows = rows.join(parents, on="account", how="left").select(
            pl.coalesce("parent", "account").alias("account"), "period", "credit", "weight"
        )
    return rows


def credit_warnings(credits: pl.DataFrame, ledger: Ledger) -> list[str]:
    """A warning for credit rows whose account is not in the data, else none.

    Their credit goes unused; the gains they meant stay ``uncredited``.
    """
    if ledger.accounts is None:
        return []
    unknown = credits.join(ledger.accounts, on="account", how="anti")
    if unknown.height == 0:
        return []
    names = unknown["account"].drop_nulls().unique().sort()
    shown = ", ".join(map(repr, names.head(3).to_list()))
    more = f" and {names.len() - 3} more" if names.len() > 3 else ""
    return [
        f"{unknown.height} credit row(s) name an account that is not in the data "
        f"({shown}{more}): their credit is not used, so those gains show as "
        f"{UNCREDITED} (check the account_id spelling)"
    ]


def _pairs(ledger: Ledger, periods: pl.DataFrame, grain: Grain, mode: BridgeMode) -> pl.DataFrame:
    """The bridge's steps (as :func:`retention_cli.metrics.bridge.bridge` takes them)."""
    if mode is BridgeMode.net or grain is Grain.month:
        pairs = periods.select(
            pl.col("period").alias("_key"),
            pl.col("_prev").alias("_from"),
            pl.col("_last").alias("_to"),
            pl.col("_last").alias("_dim_at"),
        )
    else:
        pairs = (
            periods.select(
                pl.col("period").alias("_key"),
                pl.int_ranges(pl.col("_prev") + 1, pl.col("_last") + 1, dtype=pl.Int32).alias(
                    "_to"
                ),
                pl.col("_last").alias("_dim_at"),
            )
            .explode("_to")
            .select("_key", (pl.col("_to") - 1).alias("_from"), "_to", "_dim_at")
        )
    if ledger.opening_balance:
        pairs = pairs.filter(pl.col("_from") >= ledger.first_period)
    return pairs


def credit_split(
    ledger: Ledger,
    credits: pl.DataFrame,
    *,
    grain: Grain = Grain.month,
    mode: BridgeMode = BridgeMode.net,
    policies: Policies | None = None,
) -> pl.DataFrame:
    """Gross new ARR per period split by credit (see the module notes).

    ``credits`` holds credit rows (``account, period, credit, weight``) of the
    ledger's accounts (see :func:`credit_rows`).
    Columns ``period, start, end`` and :data:`CREDIT_KEYS` (cents; ``credit_share``
    is the team's share of the period's gross new ARR), one row per period and
    credit, credits sorted with ``uncredited`` last. Per period the rows add up
    to the bridge's new, reactivation and expansion ARR exactly.
    """
    policies = policies or ledger.policies
    periods = reporting_periods(ledger, grain)
    pairs = _pairs(ledger, periods, grain, mode)
    steps = (
        account_steps(ledger, pairs, [], policies)
        .select("_key", "_from", "_to", "account_id", *GAINS)
        .with_columns(_gain=pl.sum_horizontal(*GAINS))
        .filter(pl.col("_gain") > 0)
    )
    assert ledger.accounts is not None
    coded = credits.join(ledger.accounts, on="account").select(
        pl.col("account_id").cast(ledger.accounts.schema["account_id"]),
        "period",
        pl.col("credit").fill_null(UNCREDITED),
        "weight",
    )
    step_keys = ["_key", "_from", "_to", "account_id"]
    matched = (
        steps.join(coded.lazy(), on="account_id")
        .filter((pl.col("period") > pl.col("_from")) & (pl.col("period") <= pl.col("_to")))
        .group_by(*step_keys, "credit")
        .agg(pl.col("weight").sum())
    )
    unmatched = steps.join(matched.select(step_keys).unique(), on=step_keys, how="anti").select(
        *step_keys, pl.lit(UNCREDITED).alias("credit"), pl.lit(1, pl.Int64).alias("weight")
    )
    shares = pl.concat([matched, unmatched]).join(steps, on=step_keys)
    # each step's gain over its credits by weight, in whole cents (largest remainder)
    w = pl.col("weight").cast(pl.Int128)
    total_w = w.sum().over(step_keys)
    exact = pl.col("_gain").cast(pl.Int128) * w
    floor = (exact // total_w).cast(pl.Int64)
    rest = (exact % total_w).cast(pl.Int64)
    short = pl.col("_gain") - floor.sum().over(step_keys)
    # the position of each credit in its step by remainder (largest first), then name
    ranked = shares.with_columns(_rest=rest).sort(
        [*step_keys, "_rest", "credit"], descending=[False] * 4 + [True, False]
    )
    rank = pl.int_range(1, pl.len() + 1).over(step_keys)
    alloc = floor + (rank <= short).cast(pl.Int64)
    split = ranked.with_columns(_alloc=alloc).select(
        "_key",
        "credit",
        *(pl.when(pl.col(k) > 0).then(pl.col("_alloc")).otherwise(0).alias(k) for k in GAINS),
    )
    sums = split.group_by("_key", "credit").agg(pl.col(k).sum() for k in GAINS).collect()
    names = sorted(set(sums["credit"].to_list()) - {UNCREDITED})
    names += [UNCREDITED] if UNCREDITED in sums["credit"] or not names else []
    grid = periods.select("period", "start", "end").join(
        pl.DataFrame({"credit": names}, schema={"credit": pl.String}), how="cross"
    )
    order = pl.DataFrame(
        {"credit": names, "_rank": list(range(len(names)))},
        schema={"credit": pl.String, "_rank": pl.Int64},
    )
    out = (
        grid.join(sums.rename({"_key": "period"}), on=["period", "credit"], how="left")
        .with_columns(pl.col(k).fill_null(0) for k in GAINS)
        .with_columns(gross_new_arr=pl.sum_horizontal(*GAINS))
        .with_columns(
            credit_share=ratio("gross_new_arr", pl.col("gross_new_arr").sum().over("period"))
        )
        .with_row_index("_p")
        .join(order, on="credit", how="left")
    )
    # periods in order (the grid's), credits in name order with uncredited last
    first = out.group_by("period").agg(pl.col("_p").min().alias("_first"))
    out = out.join(first, on="period").sort("_first", "_rank")
    if ledger.opening_balance:  # a snapshot file's first period has no movements
        opening = periods.filter(pl.col("_prev") < ledger.first_period)["period"]
        out = out.with_columns(
            pl.when(pl.col("period").is_in(opening.implode()))
            .then(None)
            .otherwise(pl.col(k))
            .alias(k)
            for k in CREDIT_KEYS[1:]
        )
    return out.select("period", "start", "end", *CREDIT_KEYS)
