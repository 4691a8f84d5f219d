"""Seeded, vectorised benchmark data: month-end snapshots and the matching movement log.

    python benchmarks/generate.py --accounts 300000 --months 36 --out benchmarks/data

Accounts are acquired over time (a steady stream), in three segments with
lognormal ARR by segment; each month an active account may churn, expand or
contract, and a churned one may come back. Every draw is a hash of (seed,
account, month, purpose), so the same arguments give the same bytes, and
there is no Python loop over rows. Writes ``snapshots_{A}x{M}.csv`` (one row
per account-month with ARR), ``movements_{A}x{M}.csv`` (the same history as
new / expansion / contraction / churn / reactivation rows), and the same as
Parquet with ``--parquet``.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import polars as pl

SEGMENTS = (  # name, share, median ARR (currency units), monthly churn, expansion, contraction
    ("SMB", 0.6, 6_000, 0.025, 0.04, 0.02),
    ("Mid-Market", 0.3, 30_000, 0.012, 0.05, 0.02),
    ("Enterprise", 0.1, 120_000, 0.006, 0.06, 0.015),
)
RETURN_RATE = 0.04  # a churned account's chance to come back, per month
FIRST_YEAR = 2020


def _uniform(seed: int, *cols: pl.Expr | str, salt: int) -> pl.Expr:
    """A uniform (0, 1) draw from the hash of the given columns."""
    h = pl.struct(*cols).hash(seed * 1_000_003 + salt)
    return ((h % (2**32)).cast(pl.Float64) + 0.5) / 2**32


def histories(accounts: int, months: int, seed: int = 7, first: int = 0) -> pl.LazyFrame:
    """One row per account and month with ARR in cents (0 while churned), for accounts
    ``first`` to ``first + accounts - 1`` (draws depend on the account, not the batch)."""
    acc = pl.LazyFrame({"a": pl.int_range(first, first + accounts, eager=True, dtype=pl.Int64)})
    u_seg = _uniform(seed, "a", salt=1)
    seg = pl.when(u_seg < SEGMENTS[0][1]).then(0).when(u_seg < SEGMENTS[0][1] + SEGMENTS[1][1])
    seg = seg.then(1).otherwise(2)
    # a standard normal by Box-Muller, for lognormal ARR around the segment's median
    normal = (-2 * _uniform(seed, "a", salt=2).log()).sqrt() * (
        2 * math.pi * _uniform(seed, "a", salt=3)
    ).cos()
    pick = {name: pl.lit(values) for name, values in zip(("median", "churn", "exp", "con"),
            zip(*(s[2:] for s in SEGMENTS), strict=True), strict=True)}  # fmt: skip
    base = acc.with_columns(
        _seg=seg,
        start=(_uniform(seed, "a", salt=4) * months).floor().cast(pl.Int32),
    ).with_columns(
        segment=pl.col("_seg").replace_strict({i: s[0] for i, s in enumerate(SEGMENTS)}),
        base=(pick["median"].list.get(pl.col("_seg")) * (normal * 0.6).exp() * 100).round(0).cast(pl.Int64),
        _p_churn=pick["churn"].list.get(pl.col("_seg")),
        _p_exp=pick["exp"].list.get(pl.col("_seg")),
        _p_con=pick["con"].list.get(pl.col("_seg")),
    )  # fmt: skip
    grid = base.with_columns(m=pl.int_ranges(pl.col("start"), months, dtype=pl.Int32)).explode("m")
    first = pl.col("m") == pl.col("start")
    u_churn, u_back, u_move = (_uniform(seed, "a", "m", salt=s) for s in (5, 6, 7))
    # status: the last churn or return event so far decides (vectorised forward fill)
    event = (
        pl.when(first).then(pl.lit(True))
        .when(u_churn < pl.col("_p_churn")).then(pl.lit(False))
        .when(u_back < RETURN_RATE).then(pl.lit(True))
    )  # fmt: skip
    over = {"partition_by": "a", "order_by": "m"}
    move = (
        pl.when(first).then(0)
        .when(u_move < pl.col("_p_exp")).then((u_move * 1000).cast(pl.Int64) % 40 + 10)
        .when(u_move < pl.col("_p_exp") + pl.col("_p_con")).then(-((u_move * 1000).cast(pl.Int64) % 30 + 10))
        .otherwise(0)
    )  # fmt: skip
    return grid.with_columns(
        _on=event.forward_fill().over(**over),
        _level=(100 + move.cum_sum().over(**over)).clip(lower_bound=20),
    ).select(
        "a",
        "m",
        "segment",
        arr=pl.when(pl.col("_on")).then(pl.col("base") * pl.col("_level") // 100).otherwise(0),
    )


def _month_end(m: pl.Expr) -> pl.Expr:
    return pl.date(FIRST_YEAR + m // 12, m % 12 + 1, 1).dt.month_end()


def _money(cents: pl.Expr) -> pl.Expr:
    a = cents.abs()
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.format("{}{}.{}", sign, a // 100, (a % 100).cast(pl.String).str.zfill(2))


def snapshots(h: pl.LazyFrame) -> pl.LazyFrame:
    """Month-end ARR rows for every account-month with ARR > 0."""
    return h.filter(pl.col("arr") > 0).select(
        _month_end(pl.col("m")).alias("date"),
        pl.format("ACC{}", "a").alias("account_id"),
        _money(pl.col("arr")).alias("arr"),
        "segment",
    )


def movements(h: pl.LazyFrame) -> pl.LazyFrame:
    """The same history as movements dated mid-month."""
    over = {"partition_by": "a", "order_by": "m"}
    prev = pl.col("arr").shift(1).over(**over).fill_null(0)
    seen = (pl.col("arr") > 0).cast(pl.Int32).cum_sum().over(**over) - (pl.col("arr") > 0).cast(
        pl.Int32
    )
    kind = (
        pl.when((prev == 0) & (pl.col("arr") > 0) & (seen == 0)).then(pl.lit("new"))
        .when((prev == 0) & (pl.col("arr") > 0)).then(pl.lit("reactivation"))
        .when((prev > 0) & (pl.col("arr") == 0)).then(pl.lit("churn"))
        .when(pl.col("arr") > prev).then(pl.lit("expansion"))
        .when(pl.col("arr") < prev).then(pl.lit("contraction"))
    )  # fmt: skip
    return (
        h.with_columns(type=kind, amount=pl.col("arr") - prev)
        .filter(pl.col("type").is_not_null())
        .select(
            pl.date(FIRST_YEAR + pl.col("m") // 12, pl.col("m") % 12 + 1, 15).alias("date"),
            pl.format("ACC{}", "a").alias("account_id"),
            "type",
            _money(pl.col("amount")).alias("amount"),
            "segment",
        )
    )


BATCH = 1_000_000  # accounts per batch: bounds the generator's memory at any size


def write(
    accounts: int,
    months: int,
    out: Path,
    *,
    parquet: bool = False,
    seed: int = 7,
    kinds: tuple[str, ...] = ("snapshots", "movements"),
) -> dict[str, Path]:
    """Write the files (kept if they exist); return their paths by kind.

    Accounts are generated in batches of :data:`BATCH` and appended, so 100M rows
    need no more memory than 1M accounts do.
    """
    out.mkdir(parents=True, exist_ok=True)
    tag = f"{accounts}x{months}"
    paths = {kind: out / f"{kind}_{tag}.csv" for kind in kinds}
    make = {"snapshots": snapshots, "movements": movements}
    todo = [kind for kind in kinds if not paths[kind].exists()]
    partial = {kind: paths[kind].with_suffix(".csv.partial") for kind in todo}
    handles = {kind: partial[kind].open("wb") for kind in todo}
    try:
        for first in range(0, accounts, BATCH):
            if not todo:
                break
            h = histories(min(BATCH, accounts - first), months, seed, first).collect().lazy()
            for kind in todo:
                make[kind](h).collect().write_csv(handles[kind], include_header=first == 0)
    finally:
        for f in handles.values():
            f.close()
    for kind in todo:
        partial[kind].rename(paths[kind])
    if parquet:
        for kind in kinds:
            pq = paths[kind].with_suffix(".parquet")
            if not pq.exists():
                pl.scan_csv(paths[kind], infer_schema=False).sink_parquet(pq)
            paths[f"{kind}_parquet"] = pq
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=300_000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    ap.add_argument("--parquet", action="store_true", help="also write Parquet")
    ap.add_argument("--kinds", default="snapshots,movements", help="which files (comma-separated)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    paths = write(
        args.accounts, args.months, args.out, parquet=args.parquet, seed=args.seed, kinds=kinds
    )
    for kind, path in paths.items():
        print(f"{kind}: {path} ({path.stat().st_size / 2**20:,.0f} MiB)")
    print(f"{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
