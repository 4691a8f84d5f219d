"""Seeded, vectorised benchmark data: snapshots, the matching movement log and subscriptions.

    python benchmarks/generate.py --shape independent --out benchmarks/data
    python benchmarks/generate.py --shape project --accounts 300000 --months 36
    python benchmarks/generate.py --shape sparse --day random --dims 2 --returns 0.1

A *shape* is a named set of knobs (see :data:`SHAPES`); any knob given on the
command line overrides the shape's value:

* ``--gaps absent|zero``: a churned account's months are missing rows (absent)
  or rows with ARR 0 (zero: every month after the account's first has a row);
* ``--dims N``: dimension columns, from segment, region, owner, industry, plan,
  channel (1 to 6);
* ``--day end|first|random``: the day of month of snapshot dates (month end, the
  1st, or a random day of the month);
* ``--single S``: share of accounts with a single month of ARR;
* ``--returns R``: share of churned accounts that come back (after a gap);
* ``--arr segment|lognormal|pareto``: the ARR distribution.

The ``project`` shape is the original model (monthly churn, expansion and
return hazards by segment; its knobs ``--single`` and ``--returns`` do not
apply). The other shapes draw each account's lifetime at once: a start month,
a lifetime, maybe one gap and a return, ARR that moves every six months.

Every draw is a hash of (seed, account, month, purpose), so the same arguments
give the same bytes, and there is no Python loop over rows. Writes
``snapshots_{TAG}.csv`` (one row per account-month with ARR, or with 0 while
churned under ``--gaps zero``), ``movements_{TAG}.csv`` (the same history as
new / expansion / contraction / churn / reactivation rows),
``subscriptions_{TAG}.csv`` (each run of constant ARR as one subscription) and,
with ``--parquet``, the same as Parquet. ``TAG`` names the shape, the size and
every knob that differs from the shape's own.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

SEGMENTS = (  # name, share, median ARR (currency units), monthly churn, expansion, contraction
    ("SMB", 0.6, 6_000, 0.025, 0.04, 0.02),
    ("Mid-Market", 0.3, 30_000, 0.012, 0.05, 0.02),
    ("Enterprise", 0.1, 120_000, 0.006, 0.06, 0.015),
)
RETURN_RATE = 0.04  # project shape: a churned account's chance to come back, per month
FIRST_YEAR = 2020
# extra dimension columns after segment: name, values (an account draws one, uniformly)
DIMENSIONS = (
    ("region", ("NA", "EMEA", "APAC", "LATAM")),
    ("owner", tuple(f"rep_{i:03d}" for i in range(1, 201))),
    (
        "industry",
        ("Software", "Retail", "Finance", "Health", "Media", "Manufacturing", "Education"),
    ),
    ("plan", ("Starter", "Growth", "Pro", "Enterprise")),
    ("channel", ("Direct", "Partner", "Marketplace", "Self-serve")),
)
KINDS = ("snapshots", "movements", "subscriptions")


@dataclass(frozen=True)
class Shape:
    """The knobs of one data shape (see the module docstring)."""

    model: str  # "project" (monthly hazards) or "lifetime" (one draw per account)
    accounts: int
    months: int
    gaps: str = "absent"  # absent | zero
    dims: int = 1
    day: str = "end"  # end | first | random
    single: float = 0.0
    returns: float = 0.0
    arr: str = "segment"  # segment | lognormal | pareto
    ids: str = "ACC{}"  # account id format
    life: float = 30.0  # mean lifetime in months (lifetime model)


SHAPES = {
    # today's generator: month-end dates, one dimension, hazards by segment (~11M rows at 700k)
    "project": Shape("project", 700_000, 36),
    # like issue 17's independent file: 1st-of-month dates, churn and return leave gaps,
    # segment/region/owner, lognormal ARR; 700,000 accounts (625,000 there) give its ~10M
    # rows from this model
    "independent": Shape(
        "lifetime",
        700_000,
        36,
        dims=3,
        day="first",
        returns=0.3,
        arr="lognormal",
        ids="acct_{:07d}",
    ),
    # many single-month accounts, random day of month, five dimensions, 40% come back,
    # heavy-tailed ARR (~10M rows)
    "sparse": Shape(
        "lifetime",
        1_100_000,
        36,
        dims=5,
        day="random",
        single=0.3,
        returns=0.4,
        arr="pareto",
        ids="C-{}",
        life=24.0,
    ),
}


def _uniform(seed: int, *cols: pl.Expr | str, salt: int) -> pl.Expr:
    """A uniform (0, 1) draw from the hash of the given columns."""
    h = pl.struct(*cols).hash(seed * 1_000_003 + salt)
    return ((h % (2**32)).cast(pl.Float64) + 0.5) / 2**32


def _normal(seed: int, salt: int) -> pl.Expr:
    """A standard normal draw per account (Box-Muller)."""
    return (-2 * _uniform(seed, "a", salt=salt).log()).sqrt() * (
        2 * math.pi * _uniform(seed, "a", salt=salt + 1)
    ).cos()


def _segment(seed: int) -> pl.Expr:
    u = _uniform(seed, "a", salt=1)
    seg = pl.when(u < SEGMENTS[0][1]).then(0).when(u < SEGMENTS[0][1] + SEGMENTS[1][1])
    return seg.then(1).otherwise(2)


def histories(accounts: int, months: int, seed: int = 7, first: int = 0) -> pl.LazyFrame:
    """Project model: one row per account and month from its start, ARR in cents (0 while
    churned), for accounts ``first`` to ``first + accounts - 1`` (draws depend on the
    account, not the batch)."""
    acc = pl.LazyFrame({"a": pl.int_range(first, first + accounts, eager=True, dtype=pl.Int64)})
    # a standard normal by Box-Muller, for lognormal ARR around the segment's median
    normal = (-2 * _uniform(seed, "a", salt=2).log()).sqrt() * (
        2 * math.pi * _uniform(seed, "a", salt=3)
    ).cos()
    pick = {name: pl.lit(values) for name, values in zip(("median", "churn", "exp", "con"),
            zip(*(s[2:] for s in SEGMENTS), strict=True), strict=True)}  # fmt: skip
    base = acc.with_columns(
        _seg=_segment(seed),
        start=(_uniform(seed, "a", salt=4) * months).floor().cast(pl.Int32),
    ).with_columns(
        segment=pl.col("_seg").replace_strict({i: s[0] for i, s in enumerate(SEGMENTS)}),
        base=(pick["median"].list.get(pl.col("_seg")) * (normal * 0.6).exp() * 100).round(0).cast(pl.Int64),
        _p_churn=pick["churn"].list.get(pl.col("_seg")),
        _p_exp=pick["exp"].list.get(pl.col("_seg")),
        _p_con=pick["con"].list.get(pl.col("_seg")),
    )  # fmt: skip
    grid = base.with_columns(m=pl.int_ranges(pl.col("start"), months, dtype=pl.Int32)).explode("m")
    first_m = pl.col("m") == pl.col("start")
    u_churn, u_back, u_move = (_uniform(seed, "a", "m", salt=s) for s in (5, 6, 7))
    # status: the last churn or return event so far decides (vectorised forward fill)
    event = (
        pl.when(first_m).then(pl.lit(True))
        .when(u_churn < pl.col("_p_churn")).then(pl.lit(False))
        .when(u_back < RETURN_RATE).then(pl.lit(True))
    )  # fmt: skip
    over = {"partition_by": "a", "order_by": "m"}
    move = (
        pl.when(first_m).then(0)
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


def lifetimes(shape: Shape, accounts: int, seed: int = 7, first: int = 0) -> pl.LazyFrame:
    """Lifetime model: each account draws a start month, a lifetime (1 month for a
    ``single`` share), and with probability ``returns`` a gap after which it comes back
    for good; ARR moves every six months. Same columns as :func:`histories`."""
    months = shape.months
    acc = pl.LazyFrame({"a": pl.int_range(first, first + accounts, eager=True, dtype=pl.Int64)})
    u = {salt: _uniform(seed, "a", salt=salt) for salt in (4, 11, 12, 13, 14, 15)}
    single = u[11] < shape.single
    life = (-(u[12].log()) * shape.life).floor().cast(pl.Int32) + 1
    back = (-(u[14].log()) * 6).floor().cast(pl.Int32) + 1
    if shape.arr == "pareto":  # alpha 1.2 from 3,000, capped at 5M (currency units)
        base = (3_000 / u[15].pow(1 / 1.2)).clip(upper_bound=5_000_000)
    elif shape.arr == "lognormal":  # median ~13,000
        base = (_normal(seed, 2) + 9.5).exp()
    else:  # by segment, as the project model
        medians = pl.lit([s[2] for s in SEGMENTS]).list.get(_segment(seed))
        base = medians * (_normal(seed, 2) * 0.6).exp()
    grid = (
        acc.with_columns(
            segment=_segment(seed).replace_strict({i: s[0] for i, s in enumerate(SEGMENTS)}),
            start=(u[4] * months).floor().cast(pl.Int32),
            life=pl.when(single).then(pl.lit(1, pl.Int32)).otherwise(life),
            back=pl.when(~single & (u[13] < shape.returns)).then(back).otherwise(10_000),
            base=base,
        )
        .with_columns(m=pl.int_ranges("start", months, dtype=pl.Int32))
        .explode("m")
        .with_columns(k=pl.col("m") - pl.col("start"))
    )
    on = (pl.col("k") < pl.col("life")) | (pl.col("k") >= pl.col("life") + pl.col("back"))
    step = pl.when((pl.col("k") > 0) & (pl.col("k") % 6 == 0))
    factor = step.then(1 + 0.2 * (_uniform(seed, "a", "m", salt=16) - 0.45)).otherwise(1.0)
    level = factor.cum_prod().over(partition_by="a", order_by="m")
    cents = (pl.col("base") * level * 100).round(0).cast(pl.Int64).clip(lower_bound=100)
    return grid.select("a", "m", "segment", arr=pl.when(on).then(cents).otherwise(0))


def _history(shape: Shape, accounts: int, seed: int, first: int) -> pl.LazyFrame:
    """The account-month history of ``shape``'s model."""
    if shape.model == "project":
        return histories(accounts, shape.months, seed, first)
    return lifetimes(shape, accounts, seed, first)


def _first_day(m: pl.Expr) -> pl.Expr:
    return pl.date(FIRST_YEAR + m // 12, m % 12 + 1, 1)


def _date(m: pl.Expr, day: str, seed: int) -> pl.Expr:
    """The snapshot date in month ``m`` for the ``day`` knob."""
    if day == "first":
        return _first_day(m)
    if day == "random":
        length = _first_day(m).dt.month_end().dt.day().cast(pl.Int32)
        offset = (_uniform(seed, "a", "m", salt=20) * length).floor().cast(pl.Int32)
        return _first_day(m) + pl.duration(days=offset)
    return _first_day(m).dt.month_end()


def _money(cents: pl.Expr) -> pl.Expr:
    a = cents.abs()
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.format("{}{}.{}", sign, a // 100, (a % 100).cast(pl.String).str.zfill(2))


def _account(shape: Shape) -> pl.Expr:
    if shape.ids == "acct_{:07d}":
        return pl.format("acct_{}", pl.col("a").cast(pl.String).str.zfill(7))
    prefix = shape.ids.replace("{}", "")
    return pl.format(prefix + "{}", "a")


def _dims(shape: Shape, seed: int) -> list[pl.Expr]:
    """Dimension columns after ``segment``: one draw per account."""
    out = []
    for i, (name, values) in enumerate(DIMENSIONS[: shape.dims - 1]):
        pick = (_uniform(seed, "a", salt=30 + i) * len(values)).floor().cast(pl.Int32)
        out.append(pl.lit(list(values)).list.get(pick).alias(name))
    return out


def snapshots(h: pl.LazyFrame, shape: Shape, seed: int = 7) -> pl.LazyFrame:
    """One row per account-month with ARR > 0 (``gaps="zero"``: also its 0 months after
    the first)."""
    keep = pl.col("arr") > 0
    if shape.gaps == "zero":
        keep = keep.cum_sum().over(partition_by="a", order_by="m") > 0
    return h.filter(keep).select(
        _date(pl.col("m"), shape.day, seed).alias("date"),
        _account(shape).alias("account_id"),
        _money(pl.col("arr")).alias("arr"),
        "segment",
        *_dims(shape, seed),
    )


def movements(h: pl.LazyFrame, shape: Shape, seed: int = 7) -> pl.LazyFrame:
    """The same history as movements (mid-month, or the snapshot day with ``--day``)."""
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
    date = (
        pl.date(FIRST_YEAR + pl.col("m") // 12, pl.col("m") % 12 + 1, 15)
        if shape.day == "end"
        else _date(pl.col("m"), shape.day, seed)
    )
    return (
        h.with_columns(type=kind, amount=pl.col("arr") - prev)
        .filter(pl.col("type").is_not_null())
        .select(
            date.alias("date"),
            _account(shape).alias("account_id"),
            "type",
            _money(pl.col("amount")).alias("amount"),
            "segment",
            *_dims(shape, seed),
        )
    )


def subscriptions(h: pl.LazyFrame, shape: Shape, seed: int = 7) -> pl.LazyFrame:
    """Each run of constant ARR > 0 as one subscription: from the 1st of its first month to
    the 1st of the month after its last (empty while it lasts to the end of the data)."""
    over = {"partition_by": "a", "order_by": "m"}
    run = (
        (pl.col("arr") != pl.col("arr").shift(1).over(**over).fill_null(-1)).cum_sum().over(**over)
    )
    runs = (
        h.with_columns(run=run)
        .filter(pl.col("arr") > 0)
        .group_by("a", "run", maintain_order=True)
        .agg(
            pl.col("m").min().alias("m0"),
            pl.col("m").max().alias("m1"),
            pl.col("arr").first(),
            pl.col("segment").first(),
        )
    )
    end = pl.when(pl.col("m1") < shape.months - 1).then(_first_day(pl.col("m1") + 1))
    return runs.select(
        pl.format("S{}-{}", "a", "run").alias("subscription_id"),
        _account(shape).alias("account_id"),
        _first_day(pl.col("m0")).alias("start_date"),
        end.alias("end_date"),
        _money(pl.col("arr")).alias("arr"),
        "segment",
        *_dims(shape, seed),
    )


BATCH = 1_000_000  # accounts per batch: bounds the generator's memory at any size


def tag(shape_name: str, shape: Shape) -> str:
    """The file tag: shape name, size, and every knob that differs from the named shape."""
    named = SHAPES[shape_name]
    extra = [
        f"{f.name}-{getattr(shape, f.name)}"
        for f in dataclasses.fields(Shape)
        if f.name not in ("accounts", "months") and getattr(shape, f.name) != getattr(named, f.name)
    ]
    base = f"{shape.accounts}x{shape.months}"
    if shape_name != "project":
        base = f"{shape_name}_{base}"
    return "_".join([base, *extra])


def write(
    accounts: int | None = None,
    months: int | None = None,
    out: Path = Path(__file__).parent / "data",
    *,
    shape: str = "project",
    parquet: bool = False,
    seed: int = 7,
    kinds: tuple[str, ...] = ("snapshots", "movements"),
    **knobs: object,
) -> dict[str, Path]:
    """Write the files (kept if they exist); return their paths by kind (and
    ``{kind}_parquet`` with ``parquet``).

    ``knobs`` override fields of the named shape. Accounts are generated in batches
    of :data:`BATCH` and appended, so 100M rows need no more memory than 1M accounts do.
    """
    spec = dataclasses.replace(
        SHAPES[shape],
        **{k: v for k, v in knobs.items() if v is not None},
        accounts=accounts or SHAPES[shape].accounts,
        months=months or SHAPES[shape].months,
    )
    if not 1 <= spec.dims <= len(DIMENSIONS) + 1:
        raise SystemExit(f"--dims must be 1 to {len(DIMENSIONS) + 1}")
    out.mkdir(parents=True, exist_ok=True)
    name = tag(shape, spec)
    paths = {kind: out / f"{kind}_{name}.csv" for kind in kinds}
    make = {"snapshots": snapshots, "movements": movements, "subscriptions": subscriptions}
    todo = [kind for kind in kinds if not paths[kind].exists()]
    partial = {kind: paths[kind].with_suffix(".csv.partial") for kind in todo}
    handles = {kind: partial[kind].open("wb") for kind in todo}
    try:
        for first in range(0, spec.accounts, BATCH):
            if not todo:
                break
            size = min(BATCH, spec.accounts - first)
            h = _history(spec, size, seed, first).collect().lazy()
            for kind in todo:
                make[kind](h, spec, seed).collect().write_csv(
                    handles[kind], include_header=first == 0
                )
    finally:
        for f in handles.values():
            f.close()
    for kind in todo:
        partial[kind].rename(paths[kind])
    if parquet:
        for kind in kinds:
            pq = paths[kind].with_suffix(".parquet")
            if not pq.exists():
                tmp = pq.with_suffix(".parquet.partial")
                pl.scan_csv(paths[kind], infer_schema=False).sink_parquet(tmp)
                tmp.rename(pq)
            paths[f"{kind}_parquet"] = pq
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", choices=sorted(SHAPES), default="project")
    ap.add_argument("--accounts", type=int, help="default: the shape's (about 10M snapshot rows)")
    ap.add_argument("--months", type=int, help="default: the shape's (36)")
    ap.add_argument("--gaps", choices=("absent", "zero"))
    ap.add_argument("--dims", type=int, help=f"dimension columns, 1 to {len(DIMENSIONS) + 1}")
    ap.add_argument("--day", choices=("end", "first", "random"))
    ap.add_argument("--single", type=float, help="share of single-month accounts")
    ap.add_argument("--returns", type=float, help="share of churned accounts that return")
    ap.add_argument("--arr", choices=("segment", "lognormal", "pareto"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    ap.add_argument("--parquet", action="store_true", help="also write Parquet")
    ap.add_argument("--kinds", default="snapshots,movements", help=f"comma-separated, of {KINDS}")
    args = ap.parse_args()
    t0 = time.perf_counter()
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    if bad := set(kinds) - set(KINDS):
        raise SystemExit(f"--kinds: unknown {sorted(bad)}; choose from {KINDS}")
    paths = write(
        args.accounts, args.months, args.out, shape=args.shape, parquet=args.parquet,
        seed=args.seed, kinds=kinds, gaps=args.gaps, dims=args.dims, day=args.day,
        single=args.single, returns=args.returns, arr=args.arr,
    )  # fmt: skip
    for kind, path in paths.items():
        print(f"{kind}: {path} ({path.stat().st_size / 2**20:,.1f} MiB)")
    print(f"{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
