"""Time and peak memory of each command on generated data (not part of the test suite).

    python benchmarks/bench.py --accounts 50000 --months 36            # writes data, runs all
    python benchmarks/bench.py --accounts 50000 --months 36 --only nrr mix

Data is deterministic (hash-based, no RNG state): ``--accounts`` accounts over
``--months`` months as month-end snapshots and as the equivalent movement log,
with a segment column. Each command runs in a fresh process that reports its own peak RSS; figures
print as a Markdown table. Set ``POLARS_MAX_THREADS`` to pin the thread count.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).parent
DATA = HERE / "data"


def generate(accounts: int, months: int) -> tuple[Path, Path]:
    """Write ``snapshots_{accounts}x{months}.csv`` and ``movements_...csv``; return both paths."""
    DATA.mkdir(exist_ok=True)
    tag = f"{accounts}x{months}"
    snaps, moves = DATA / f"snapshots_{tag}.csv", DATA / f"movements_{tag}.csv"
    if snaps.exists() and moves.exists():
        return snaps, moves
    acc = pl.DataFrame({"a": pl.int_range(accounts, eager=True)})
    h = pl.col("a").hash(7)
    grid = (
        acc.with_columns(
            start=(h % months).cast(pl.Int32),
            life=(pl.col("a").hash(11) % (months * 2) + 1).cast(pl.Int32),
            base=(pl.col("a").hash(13) % 5_000_000 + 50_000).cast(pl.Int64),
            segment=pl.when(h % 10 < 6)
            .then(pl.lit("SMB"))
            .when(h % 10 < 9)
            .then(pl.lit("Mid-Market"))
            .otherwise(pl.lit("Enterprise")),
        )
        .with_columns(m=pl.int_ranges(0, months, dtype=pl.Int32))
        .explode("m")
        .filter((pl.col("m") >= pl.col("start")) & (pl.col("m") < pl.col("start") + pl.col("life")))
    )
    step = (pl.struct("a", "m").hash(17) % 100).cast(pl.Int64)
    pct = pl.when(step < 8).then(20).when(step < 12).then(-10).otherwise(0)
    grid = grid.with_columns(
        arr=pl.col("base") * (100 + pct.cum_sum().over("a", order_by="m")) // 100
    )
    grid = grid.with_columns(arr=pl.col("arr").clip(lower_bound=100))
    day = pl.date(2020 + pl.col("m") // 12, pl.col("m") % 12 + 1, 28)
    cents = pl.format(
        "{}.{}", pl.col("arr") // 100, (pl.col("arr") % 100).cast(pl.String).str.zfill(2)
    )
    grid.select(
        day.alias("date"),
        pl.format("ACC{}", "a").alias("account_id"),
        cents.alias("arr"),
        "segment",
    ).write_csv(snaps)
    prev = pl.col("arr").shift(1).over("a", order_by="m").fill_null(0)
    delta = pl.col("arr") - prev
    rows = grid.with_columns(_delta=delta, _first=pl.col("m") == pl.col("start")).filter(
        pl.col("_delta") != 0
    )
    churn = (
        grid.group_by("a")
        .agg(pl.col("m").max() + 1, pl.col("arr").last().alias("_last"), pl.col("segment").first())
        .filter(pl.col("m") < months)
    )
    amount = pl.col("_amount").abs()
    typed = pl.concat(
        [
            rows.select(
                "a", "m", "segment",
                pl.when(pl.col("_first")).then(pl.lit("new"))
                .when(pl.col("_delta") > 0).then(pl.lit("expansion"))
                .otherwise(pl.lit("contraction")).alias("type"),
                pl.col("_delta").alias("_amount"),
            ),
            churn.select("a", "m", "segment", pl.lit("churn").alias("type"),
                         (-pl.col("_last")).alias("_amount")),
        ],
        how="vertical_relaxed",
    )  # fmt: skip
    typed.sort("m", "a").select(
        pl.date(2020 + pl.col("m") // 12, pl.col("m") % 12 + 1, 15).alias("date"),
        pl.format("ACC{}", "a").alias("account_id"),
        "type",
        pl.format(
            "{}{}.{}",
            pl.when(pl.col("_amount") < 0).then(pl.lit("-")).otherwise(pl.lit("")),
            amount // 100,
            (amount % 100).cast(pl.String).str.zfill(2),
        ).alias("amount"),
        "segment",
    ).write_csv(moves)
    return snaps, moves


COMMANDS = {
    "nrr": ["nrr", "{moves}", "--grain", "quarter"],
    "bridge": ["bridge", "{moves}", "--by", "segment"],
    "churn": ["churn", "{moves}"],
    "mix": ["mix", "{moves}", "--grain", "quarter", "--by", "segment"],
    "cohorts": ["cohorts", "{moves}"],
    "report": ["report", "{moves}", "--grain", "quarter"],
    "nrr_snapshots": ["nrr", "{snaps}", "--grain", "quarter"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=50_000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--only", nargs="*", default=list(COMMANDS))
    args = ap.parse_args()
    t0 = time.perf_counter()
    snaps, moves = generate(args.accounts, args.months)
    rows = {p: sum(1 for _ in p.open()) - 1 for p in (snaps, moves)}
    print(f"data: {moves.name} {rows[moves]:,} rows, {snaps.name} {rows[snaps]:,} rows "
          f"({time.perf_counter() - t0:.1f} s to make or find)", file=sys.stderr)  # fmt: skip
    print("| command | input | seconds | peak RSS MiB |\n|---|---|---:|---:|")
    for name in args.only:
        argv = [a.format(moves=moves, snaps=snaps) for a in COMMANDS[name]]
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, *argv, "-f", "json", "-q"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        secs = time.perf_counter() - start
        kib = int(done.stderr.strip().splitlines()[-1].split()[-1])
        print(
            f"| `{' '.join(argv[:1] + argv[2:])}` | {Path(argv[1]).name} | {secs:.2f} | {kib / 1024:,.0f} |"
        )


_CHILD = """
import resource, runpy, sys
sys.argv = ["retention", *sys.argv[1:]]
try:
    runpy.run_module("retention_cli", run_name="__main__")
finally:
    sys.stderr.write(f"\\npeak_rss_kib {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n")
"""


if __name__ == "__main__":
    main()
