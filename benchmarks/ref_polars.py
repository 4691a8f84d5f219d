"""Plain Polars reference: the month bridge and 12-month NRR/GRR/logo retention.

A typed lazy scan (dates as Date, money as Decimal(18, 2) then Int64 cents, accounts as
Categorical so each has an integer code), then the dense month spine *by position*: a
flat column of ``accounts × months`` ARR values, account by account, month lo..hi in
each, so that row ``i`` is account ``i // M`` in month ``lo + i % M``. One value per
account and month is placed by index (no join, no sort of the spine); the neighbours are
plain shifts (a month before: ``shift(1)``, the window start: ``shift(12)``) masked to 0
where they would cross into the account before; a month before an account's first row
has ARR 0, so the spine may start at ``lo`` for every account. Sums by month give the
bridge and the ratios. ``python benchmarks/ref_polars.py FILE OUT.json``."""

from __future__ import annotations

import polars as pl
from refs_common import WINDOW, main


def compute(path: str, kind: str) -> dict[str, list[list[int]]]:
    """Bridge and ratio rows (refs_common layout) of the CSV file ``path``."""
    value = "arr" if kind == "snapshots" else "amount"
    cents = (pl.col(value) * 100).cast(pl.Int64)
    if kind == "movements":  # a contraction or churn given as a positive magnitude removes ARR
        negative = pl.col("type").is_in(["contraction", "churn"])
        cents = pl.when(negative).then(-cents.abs()).otherwise(cents)
    types = {"date": pl.Date, "account_id": pl.Categorical, value: pl.Decimal(18, 2)}
    rows = (
        pl.scan_csv(path, schema_overrides=types)
        .select(
            account=pl.col("account_id").to_physical(),  # the account's integer code
            p=pl.col("date").dt.year().cast(pl.Int32) * 12 + pl.col("date").dt.month() - 1,
            date="date",
            cents=cents,
        )
        .collect()
    )
    lo = int(rows["p"].min()) - (1 if kind == "movements" else 0)  # type: ignore[arg-type]
    hi = int(rows["p"].max())  # type: ignore[arg-type]
    months, accounts = hi - lo + 1, int(rows["account"].max()) + 1  # type: ignore[arg-type]
    # the position of (account, month) in the spine
    rows = rows.with_columns(i=pl.col("account").cast(pl.Int64) * months + pl.col("p") - lo)
    if kind == "snapshots":  # the latest date of the month wins
        points = rows.sort("i", "date").filter(pl.col("i").ne_missing(pl.col("i").shift(-1)))
    else:  # a month's movements add up
        points = rows.group_by("i").agg(pl.col("cents").sum())
    spine = pl.zeros(accounts * months, pl.Int64, eager=True).scatter(points["i"], points["cents"])
    row = pl.int_range(accounts * months, dtype=pl.Int64, eager=True)
    if kind == "movements":  # ARR = the running sum of the account's amounts
        run = spine.cum_sum()  # over the whole column: subtract what came before the account
        spine = run - run.shift(1, fill_value=0).gather(row // months * months)
    # "seen" (ARR > 0 in an earlier month) is "the account's first month with ARR > 0 is
    # before this one": the first positive row of each account in the spine's order
    positive = pl.DataFrame({"account": row // months, "m": row % months}).filter(spine > 0)
    first = positive.filter(pl.col("account").ne_missing(pl.col("account").shift(1)))
    first_month = pl.repeat(months, accounts, dtype=pl.Int64, eager=True)  # none: never
    first_month = first_month.scatter(first["account"], first["m"])
    b = pl.col("b")
    frame = (
        pl.LazyFrame({"b": spine, "m": row % months})
        .with_columns(
            a=pl.when(pl.col("m") >= 1).then(b.shift(1)).otherwise(0),  # ARR a month before
            s=pl.when(pl.col("m") >= WINDOW).then(b.shift(WINDOW)).otherwise(0),  # window start
            seen=pl.lit(first_month).gather(pl.int_range(pl.len()) // months) < pl.col("m"),
        )
        # the bridge starts at lo + 1; a row with ARR 0 now, a month before and at the window
        # start adds nothing to any sum
        .filter((pl.col("m") >= 1) & ((b != 0) | (pl.col("a") != 0) | (pl.col("s") != 0)))
    )
    a, s, seen = pl.col("a"), pl.col("s"), pl.col("seen")
    arrive = (a == 0) & (b > 0)
    zero = pl.lit(0, pl.Int64)
    sums = frame.group_by("m").agg(
        a.sum().alias("start"),
        pl.when(arrive & ~seen).then(b).otherwise(zero).sum().alias("new"),
        pl.when(arrive & seen).then(b).otherwise(zero).sum().alias("reactivation"),
        pl.when((a > 0) & (b > a)).then(b - a).otherwise(zero).sum().alias("expansion"),
        pl.when((b > 0) & (b < a)).then(a - b).otherwise(zero).sum().alias("contraction"),
        pl.when((a > 0) & (b == 0)).then(a).otherwise(zero).sum().alias("churned"),
        b.sum().alias("end"),
        (s > 0).sum().cast(pl.Int64).alias("cohort_logos"),
        pl.when(s > 0).then(s).otherwise(zero).sum().alias("cohort_start"),
        pl.when(s > 0).then(b).otherwise(zero).sum().alias("retained"),
        pl.when(s > 0).then(pl.min_horizontal(b, s)).otherwise(zero).sum().alias("gross"),
        ((s > 0) & (b > 0)).sum().cast(pl.Int64).alias("kept"),
    )
    out = (  # every month of the bridge, also one where every sum is 0
        pl.LazyFrame({"m": range(1, months)}, schema={"m": pl.Int64})
        .join(sums, on="m", how="left", maintain_order="left")
        .fill_null(0)
        .with_columns(p=pl.col("m") + lo)
        .collect()
    )
    bridge = out.select("p", "start", "new", "reactivation", "expansion", "contraction",
                        "churned", "end").rows()  # fmt: skip
    windowed = out.filter((pl.col("m") >= WINDOW) & (pl.col("cohort_logos") > 0))
    ratios = windowed.select(
        "p", "cohort_logos", "cohort_start", "retained", "gross", "kept"
    ).rows()
    return {"bridge": [list(r) for r in bridge], "ratios": [list(r) for r in ratios]}


if __name__ == "__main__":
    main(compute)
