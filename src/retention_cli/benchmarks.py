"""Published NRR/GRR medians bundled with the tool, and the peer columns they give.

The figures live in ``data/benchmarks.csv`` (package data), one row per
(source, edition, dimension, band), each with its sample, basis (MRR or ARR),
method (cohort or bridge), statistic (median or mean), publication, URL, a
``source_quote`` saying where the number was read and a ``verification``
saying how far a second source confirms it. Only figures found stated in a
citable source are bundled; none by ARR stage is bundled yet (none was found
with a source that can be quoted).

A row of ``nrr --benchmark SOURCE`` is compared with the source's median for
the ACV band its cohort's average ACV (cohort start ARR ÷ cohort logos, at the
window start) falls in. With ``--by acv_band`` that is the segment's own band;
on a total row it is the company's typical contract size. A band row of the
source wins over its ``all`` row; no row at all leaves the peer columns null,
with the reason in a note. With ``--by arr_stage`` an ARR-stage row is compared
with the source's ``arr_stage`` row for the company's ARR instead.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import polars as pl

from retention_cli.errors import UsageError

SCHEMA = {
    "source": pl.String,
    "edition": pl.String,
    "dimension": pl.String,
    "band": pl.String,
    "lower": pl.Int64,
    "upper": pl.Int64,
    "nrr_median": pl.Float64,
    "grr_median": pl.Float64,
    "nrr_p25": pl.Float64,
    "nrr_p75": pl.Float64,
    "sample": pl.String,
    "basis": pl.String,
    "method": pl.String,
    "statistic": pl.String,
    "publication": pl.String,
    "url": pl.String,
    "source_quote": pl.String,
    "verification": pl.String,
}
"""The columns of ``data/benchmarks.csv`` (money edges in whole US dollars)."""

PEER_KEYS = ("peer_band", "peer_nrr", "nrr_vs_peer", "peer_grr", "grr_vs_peer")
"""The columns ``--benchmark`` adds to ``nrr`` (and to the report's summary)."""

LISTING_KEYS = (
    "source", "edition", "dimension", "band", "peer_nrr", "peer_grr", "peer_nrr_p25",
    "peer_nrr_p75", "basis", "method", "statistic", "sample", "publication", "url",
    "source_quote", "verification",
)  # fmt: skip
"""The columns of ``retention benchmarks``."""


@lru_cache(maxsize=1)
def benchmark_table() -> pl.DataFrame:
    """Every bundled benchmark row, as in ``data/benchmarks.csv``."""
    raw = files("retention_cli").joinpath("data/benchmarks.csv").read_bytes()
    return pl.read_csv(raw, schema=SCHEMA)


def sources() -> list[str]:
    """The bundled source names, in file order."""
    return list(dict.fromkeys(benchmark_table()["source"].to_list()))


def source_rows(source: str, *, param: str = "benchmark") -> pl.DataFrame:
    """The rows of one source; a :class:`UsageError` (about ``param``) naming the
    known ones otherwise."""
    rows = benchmark_table().filter(pl.col("source") == source)
    if rows.height == 0:
        msg = f"no bundled benchmark {source!r}"
        raise UsageError(msg, param=param, hint=f"known: {', '.join(sources())}")
    return rows


def listing(source: str | None = None) -> pl.DataFrame:
    """The bundled rows (of ``source``, else all) under the ``benchmarks`` keys."""
    rows = benchmark_table() if source is None else source_rows(source, param="source")
    return rows.rename(
        {
            "nrr_median": "peer_nrr",
            "grr_median": "peer_grr",
            "nrr_p25": "peer_nrr_p25",
            "nrr_p75": "peer_nrr_p75",
        }
    ).select(LISTING_KEYS)


def _matched(out: pl.DataFrame, amount: str, rows: pl.DataFrame) -> pl.DataFrame:
    """``_row`` and the source row (``band``, medians) whose edges hold ``amount`` (cents)."""
    return (
        out.select("_row", amount)
        .join(rows, how="cross")
        .filter(
            pl.col(amount).is_not_null()
            & (pl.col("lower").is_null() | (pl.col(amount) >= pl.col("lower") * 100))
            & (pl.col("upper").is_null() | (pl.col(amount) < pl.col("upper") * 100))
        )
        .select("_row", "band", "nrr_median", "grr_median")
    )


def with_peers(
    frame: pl.DataFrame, source: str, *, by: list[str] | None = None, stage: bool = False
) -> pl.DataFrame:
    """``frame`` (an ``nrr`` frame) with the peer columns of ``source`` added.

    ``peer_band`` names the source's band the row is compared with; ``peer_nrr``
    and ``peer_grr`` are its medians (fractions); ``nrr_vs_peer`` and
    ``grr_vs_peer`` the row's figure minus the median (fractions: 0.03 is 3
    percentage points). Null where the row has no ratio or the source no row
    for its band (``_why_`` columns say why).

    A row is compared with the ACV band its cohort's average ACV falls in. With
    ``stage`` (``--by arr_stage``), a row of an ARR stage is compared
    instead with the source's ARR-stage row that holds the company's ARR at the
    window start (the cohort start ARR of the period's total row; ``by`` names
    the segment columns); the total row keeps its ACV band.
    """
    by = list(by or [])
    rows = source_rows(source)
    bands = rows.filter(pl.col("dimension") == "acv_band")
    stages = rows.filter(pl.col("dimension") == "arr_stage")
    overall = rows.filter(pl.col("dimension") == "all")
    acv = (  # the cohort's average ARR in cents; null for an empty or unknown cohort
        pl.when(pl.col("cohort_logos") > 0)
        .then(pl.col("cohort_start_arr") / pl.col("cohort_logos"))
        .alias("_acv")
    )
    out = frame.with_row_index("_row").with_columns(acv)
    if stage and by and "arr_stage" in frame.columns:
        company = out.filter(pl.all_horizontal(pl.col(d).is_null() for d in by)).select(
            "period", pl.col("cohort_start_arr").alias("_company")
        )
        out = out.join(company, on="period", how="left").with_columns(
            _stage=pl.col("arr_stage").is_not_null(),
            _company=pl.when(pl.col("cohort_logos") > 0).then("_company"),
        )
    else:
        out = out.with_columns(_stage=pl.lit(False), _company=pl.lit(None, pl.Int64))
    matched = pl.concat(
        [
            _matched(out.filter(~pl.col("_stage")), "_acv", bands),
            _matched(out.filter(pl.col("_stage")), "_company", stages),
        ]
    )
    out = out.join(matched, on="_row", how="left")
    if overall.height:
        first = overall.row(0, named=True)
        fall = pl.col("band").is_null() & pl.col("_acv").is_not_null() & ~pl.col("_stage")
        out = out.with_columns(
            pl.when(fall).then(pl.lit(first["band"])).otherwise("band").alias("band"),
            pl.when(fall)
            .then(pl.lit(first["nrr_median"]))
            .otherwise("nrr_median")
            .alias("nrr_median"),
            pl.when(fall)
            .then(pl.lit(first["grr_median"]))
            .otherwise("grr_median")
            .alias("grr_median"),
        )
    no_cohort = pl.col("_acv").is_null()
    no_stage = pl.col("_stage") & pl.lit(stages.height == 0)
    stage_gap = pl.col("_stage") & pl.col("band").is_null()

    def why(median: str, what: str) -> pl.Expr:
        return (
            pl.when(no_cohort)
            .then(pl.lit("no cohort, so no contract size to pick a band by"))
            .when(no_stage)
            .then(pl.lit(f"{source} publishes no figure by ARR stage"))
            .when(stage_gap)
            .then(pl.lit(f"{source} publishes no {what} median for this ARR stage"))
            .when(pl.col(median).is_null())
            .then(pl.lit(f"{source} publishes no {what} median for this band"))
        )

    return (
        out.sort("_row")
        .with_columns(
            peer_band=pl.col("band"),
            peer_nrr=pl.col("nrr_median"),
            nrr_vs_peer=pl.col("nrr") - pl.col("nrr_median"),
            peer_grr=pl.col("grr_median"),
            grr_vs_peer=pl.col("grr") - pl.col("grr_median"),
            _why_peer_nrr=why("nrr_median", "NRR"),
            _why_peer_grr=why("grr_median", "GRR"),
        )
        .drop("_row", "_acv", "_stage", "_company", "band", "nrr_median", "grr_median")
    )


def peer_caption(source: str, method: str, *, stage: bool = False) -> str:
    """The caption's peer part: what the figures are, and where their definition
    differs from the one in force (basis ARR; ``method``; medians)."""
    rows = source_rows(source)
    first = rows.row(0, named=True)
    text = f"peer: {source} {first['edition']} medians by ACV band (cohort average ACV)"
    if stage:
        text += "; ARR-stage rows by the company's ARR at the window start"
    differs = []
    basis = set(rows["basis"].to_list())
    if basis != {"ARR"}:
        differs.append(f"theirs are on {'/'.join(sorted(basis))}, these on ARR")
    their = set(rows["method"].to_list())
    if their != {method}:
        differs.append(f"their method is {'/'.join(sorted(their))}, this is {method}")
    stats = set(rows["statistic"].to_list())
    if stats != {"median"}:
        differs.append(f"theirs include {'/'.join(sorted(stats - {'median'}))}s, not medians")
    if differs:
        text += " · definitions differ: " + "; ".join(differs)
    return text


__all__ = [
    "LISTING_KEYS",
    "PEER_KEYS",
    "benchmark_table",
    "listing",
    "peer_caption",
    "source_rows",
    "sources",
    "with_peers",
]
