"""Account roll-up (issue 14): every metric at the parent level.

A parent comes from a mapped ``parent_id`` column or from an accounts file
(``--accounts FILE``: ``account_id, parent_id``, one row per child). Each child's
ARR at the end of each fiscal month is worked out on its own (its snapshots,
subscriptions or movements, as without a roll-up) and the parent's ARR is the
sum of its children's, so ARR moving between two subsidiaries of one customer
in one month is neither churn nor new: the parent's ARR does not change. An
account with no parent stands for itself; a parent that has ARR of its own is
one of its own children. The parent's dimensions (``--by``) at a month are
those of its child with the most ARR then (ties: the first child by name).
Only one level is read: a parent that is itself listed as a child is an error.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from retention_cli.errors import InputError, Problem
from retention_cli.inputs import LINE, Loaded


def read_parents(path: str | Path) -> pl.DataFrame:
    """The accounts file as ``account, parent`` (child name → parent name).

    Headers match ``account_id`` and ``parent_id`` ignoring case; a row with a
    blank parent says the account has none (it stands for itself). A row with a
    blank account id (its parent would be lost), a child given two parents, or a
    parent that is itself a child, is an :class:`InputError` naming the lines.
    """
    name = str(path)
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except FileNotFoundError:
        raise InputError(
            name, [Problem("the accounts file does not exist")], param="accounts"
        ) from None
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(name, [Problem(f"cannot read the accounts file ({exc})")]) from None
    found = {c.strip().lower(): c for c in raw.columns}
    missing = [c for c in ("account_id", "parent_id") if c not in found]
    if missing:
        raise InputError(
            name,
            [Problem(f"missing column(s): {', '.join(missing)}", line=1)],
            hint="an accounts file has the columns account_id, parent_id (child → parent)",
        )
    pairs = raw.select(
        pl.int_range(2, raw.height + 2, dtype=pl.Int64).alias("_line"),
        pl.col(found["account_id"]).str.strip_chars().alias("account"),
        pl.col(found["parent_id"]).str.strip_chars().alias("parent"),
    )
    blank = pairs.filter(pl.col("account").fill_null("") == "")
    if blank.height:
        raise InputError(
            name,
            [
                Problem(
                    "blank account_id"
                    + (f" (parent {p!r})" if p else "")
                    + ": the row names no child account",
                    line,
                    "account_id",
                )
                for line, p in blank.select("_line", "parent").head(20).rows()
            ],
            total=blank.height,
            hint="give each row the child's account_id, or delete the rows that have none",
        )
    return check_parents(pairs.filter(pl.col("parent").fill_null("") != ""), name)


def check_parents(pairs: pl.DataFrame, name: str) -> pl.DataFrame:
    """``pairs`` (``_line``, ``account``, ``parent``) checked: one parent per child and
    one level only; returns ``account, parent`` without repeats."""
    twice = (
        pairs.unique(["account", "parent"], keep="first", maintain_order=True)
        .filter(pl.col("account").is_duplicated())
        .sort("_line")
    )
    problems = [
        Problem(f"account {a!r} has more than one parent (here {p!r})", line, "parent_id")
        for line, a, p in twice.select("_line", "account", "parent").head(20).rows()
    ]
    nested = pairs.filter(
        pl.col("parent").is_in(pairs["account"].implode()) & (pl.col("parent") != pl.col("account"))
    ).sort("_line")
    problems += [
        Problem(
            f"parent {p!r} is itself a child account: give {a!r} its top-level parent",
            line,
            "parent_id",
        )
        for line, a, p in nested.select("_line", "account", "parent").head(20).rows()
    ]
    if problems:
        raise InputError(name, problems, total=twice.height + nested.height)
    return pairs.select("account", "parent").unique(maintain_order=True)


def frame_parents(loaded: Loaded, parents: pl.DataFrame | None) -> pl.DataFrame | None:
    """The parents to roll up to: ``parents`` (an accounts file) and a mapped
    ``parent_id`` column of ``loaded`` together, checked as one list."""
    frame = loaded.frame
    # the reader keeps a mapped parent_id as _parent_id (a file's own unmapped column
    # of that name stays a dimension)
    col = next(
        (
            c
            for c in ("_parent_id", "parent_id")
            if c in frame.columns and c not in loaded.dimensions
        ),
        None,
    )
    if col is None:
        return parents
    pairs = frame.select(
        pl.col(LINE).alias("_line"),
        pl.col("account_id").cast(pl.String).alias("account"),
        pl.col(col).cast(pl.String).str.strip_chars().alias("parent"),
    ).filter(pl.col("parent").fill_null("") != "")
    if parents is not None:
        pairs = pl.concat(
            [pairs, parents.with_columns(_line=pl.lit(None, pl.Int64))], how="diagonal"
        )
    return check_parents(pairs, loaded.source.path)


def roll_up(
    data: pl.DataFrame, accounts: pl.DataFrame, parents: pl.DataFrame, dims: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """A dense ledger frame (``account_id`` codes, ``period``, ``arr``, ``dims``) summed
    to parents.

    ``accounts`` maps codes to names; ``parents`` child name → parent name.
    Returns the parents' frame (dense, sorted by account and period), the new
    ``account_id → account`` table (parents ranked by name) and ``child, account_id``
    (each old code → its parent's new code).
    """
    named = accounts.join(parents, on="account", how="left").with_columns(
        parent=pl.coalesce("parent", "account")
    )
    tops = named.select(pl.col("parent").unique().sort().alias("account")).with_row_index(
        "account_id"
    )
    codes = named.join(tops.rename({"account_id": "_top", "account": "parent"}), on="parent")
    child = codes.select(pl.col("account_id").alias("child"), pl.col("_top").alias("account_id"))
    # a parent's dimensions at a month: those of its child with the most ARR then
    lead = [pl.col("arr").neg(), pl.col("_child")]
    rolled = (
        data.rename({"account_id": "_child"})
        .join(child.rename({"child": "_child"}), on="_child")
        .group_by("account_id", "period")
        .agg(pl.col("arr").sum(), *(pl.col(d).sort_by(lead).first() for d in dims))
        .sort("account_id", "period")
        .select(
            pl.col("account_id").cast(data.schema["account_id"]),
            pl.col("period").cast(pl.Int32),
            pl.col("arr").cast(pl.Int64),
            *dims,
        )
    )
    tops = tops.with_columns(pl.col("account_id").cast(accounts.schema["account_id"]))
    child = child.with_columns(pl.col("account_id").cast(accounts.schema["account_id"]))
    return rolled, tops, child
