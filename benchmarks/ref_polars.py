"""Plain Polars reference: the month bridge and 12-month NRR/GRR/logo retention as a lazy
scan, a dense month spine and shifts on rows sorted by account and month; money as
Decimal(18, 2) then Int64 cents. ``python benchmarks/ref_polars.py FILE OUT.json``."""

from __future__ import annotations

import polars as pl
from refs_common import WINDOW, main


def compute(path: str, kind: str) -> dict[str, list[list[int]]]:
    """Bridge and ratio rows (refs_common layout) of the CSV file ``path``."""
    value = "arr" if kind == "snapshots" else "amount"
    rows = pl.scan_csv(path, schema_overrides={"date": pl.Date, "account_id": pl.String,
                                               value: pl.Decimal(18, 2)}).select(
        "account_id",
        "date",
        p=pl.col("date").dt.year().cast(pl.Int32) * 12 + pl.col("date").dt.month().cast(pl.Int32) - 1,
        cents=(pl.col(value) * 100).cast(pl.Int64),
        type=pl.col("type") if kind == "movements" else pl.lit(None, pl.String),
    )  # fmt: skip
    # a contraction or churn given as a positive magnitude removes ARR
    negative = pl.col("type").is_in(["contraction", "churn"])
    rows = rows.with_columns(
        cents=pl.when(negative).then(-pl.col("cents").abs()).otherwise("cents")
    )
    if kind == "snapshots":  # the latest date of the month wins
        points = rows.group_by("account_id", "p").agg(pl.col("cents").sort_by("date").last())
    else:  # a month's movements add up
        points = rows.group_by("account_id", "p").agg(pl.col("cents").sum())
    points = points.collect()
    lo = int(points["p"].min()) - (1 if kind == "movements" else 0)  # type: ignore[arg-type]
    hi = int(points["p"].max())  # type: ignore[arg-type]
    spine = (
        points.lazy()
        .group_by("account_id")
        .agg(pl.int_ranges(pl.col("p").min(), hi + 1, dtype=pl.Int32).first().alias("p"))
        .explode("p")
    )
    ledger = spine.join(points.lazy(), on=["account_id", "p"], how="left").sort("account_id", "p")
    b = pl.col("cents").fill_null(0)
    if kind == "movements":
        b = b.cum_sum().over("account_id")
    acc = {"partition_by": "account_id"}
    pairs = ledger.with_columns(b=b).with_columns(
        a=pl.col("b").shift(1).over(**acc).fill_null(0),
        s=pl.col("b").shift(WINDOW).over(**acc).fill_null(0),
        seen=(pl.col("b") > 0).cum_max().shift(1).over(**acc).fill_null(False),
    )
    a, bb, s, seen = pl.col("a"), pl.col("b"), pl.col("s"), pl.col("seen")
    arrive = (a == 0) & (bb > 0)
    zero = pl.lit(0, pl.Int64)
    out = (
        pairs.filter(pl.col("p") > lo)
        .group_by("p")
        .agg(
            a.sum().alias("start"),
            pl.when(arrive & ~seen).then(bb).otherwise(zero).sum().alias("new"),
            pl.when(arrive & seen).then(bb).otherwise(zero).sum().alias("reactivation"),
            pl.when((a > 0) & (bb > a)).then(bb - a).otherwise(zero).sum().alias("expansion"),
            pl.when((bb > 0) & (bb < a)).then(a - bb).otherwise(zero).sum().alias("contraction"),
            pl.when((a > 0) & (bb == 0)).then(a).otherwise(zero).sum().alias("churned"),
            bb.sum().alias("end"),
            (s > 0).sum().cast(pl.Int64).alias("cohort_logos"),
            pl.when(s > 0).then(s).otherwise(zero).sum().alias("cohort_start"),
            pl.when(s > 0).then(bb).otherwise(zero).sum().alias("retained"),
            pl.when(s > 0).then(pl.min_horizontal(bb, s)).otherwise(zero).sum().alias("gross"),
            ((s > 0) & (bb > 0)).sum().cast(pl.Int64).alias("kept"),
        )
        .sort("p")
        .collect()
    )
    bridge = out.select("p", "start", "new", "reactivation", "expansion", "contraction",
                        "churned", "end").rows()  # fmt: skip
    windowed = out.filter((pl.col("p") - WINDOW >= lo) & (pl.col("cohort_logos") > 0))
    ratios = windowed.select(
        "p", "cohort_logos", "cohort_start", "retained", "gross", "kept"
    ).rows()
    return {"bridge": [list(r) for r in bridge], "ratios": [list(r) for r in ratios]}


if __name__ == "__main__":
    main(compute)
