"""Issue 15's last gaps: band order, every segment in --distribution, ARR-stage peers,
and what each bundled benchmark row records about itself."""

from __future__ import annotations

import csv
import io
import json

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import retention_cli as rc
from retention_cli import benchmarks
from retention_cli.benchmarks import SCHEMA, benchmark_table, listing, peer_caption, with_peers
from retention_cli.cli import app
from retention_cli.config import Bands, Config, band_labels, parse_config
from retention_cli.metrics.bands import band_rank, order_bands
from retention_cli.metrics.distribution import distribution
from retention_cli.service import RunOptions, compute, load_input
from tests.conftest import EXAMPLES, ROOT
from tests.test_properties import as_movements, histories

SAAS = str(EXAMPLES / "saas_movements.csv")
TINY = str(EXAMPLES / "tiny_movements.csv")
ACV = band_labels(Bands().acv)


def _segments(frame: pl.DataFrame, col: str) -> dict[str, list[str]]:
    """Per period, the segment values in row order (total rows left out)."""
    out: dict[str, list[str]] = {}
    for row in frame.iter_rows(named=True):
        if row[col] is not None:
            out.setdefault(row["period"], []).append(row[col])
    return out


# ----------------------------------------------------------------------------- band order
def test_band_rank_follows_the_lower_edge() -> None:
    rank = band_rank("acv_band", Bands())
    assert sorted(rank, key=rank.__getitem__) == [
        "<12k", "12k-25k", "25k-50k", "50k-100k", "100k-250k", "250k+",
    ]  # fmt: skip
    assert sorted(ACV) != ACV  # as text, 100k-250k would come before 12k-25k
    stage = band_rank("arr_stage", Bands())
    assert sorted(stage, key=stage.__getitem__) == ["<5M", "5M-25M", "25M+"]


@pytest.mark.parametrize("command", ["nrr", "bridge", "churn", "mix", "distribution"])
def test_band_segments_are_listed_by_lower_edge(command: str) -> None:
    # hazard: "100k-250k" listed before "12k-25k" and "<12k" last (text order)
    opts = RunOptions(by=("acv_band",))
    frame = compute(command, load_input(SAAS, Config(), opts), Config(), opts).frame
    per = _segments(frame, "acv_band")
    assert per
    for labels in per.values():
        assert labels == sorted(labels, key=ACV.index)
    # each period still opens with its total row, the periods in their order
    periods = frame["period"].unique(maintain_order=True).to_list()
    firsts = frame.with_row_index().group_by("period", maintain_order=True).first()
    assert firsts["period"].to_list() == periods
    assert firsts["acv_band"].is_null().all()


def test_band_order_changes_only_the_order() -> None:
    opts = RunOptions(by=("acv_band",))
    frame = compute("nrr", load_input(SAAS, Config(), opts), Config(), opts).frame
    cols = ["period", "acv_band"]
    bands = Bands()
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=1).sort(cols, nulls_last=False)
    again = order_bands(shuffled, ["acv_band"], ["acv_band"], bands)
    assert again.sort(cols).equals(frame.sort(cols))
    assert order_bands(frame, ["acv_band"], [], bands).equals(frame)  # a file column: as text


def test_band_order_with_a_second_dimension_and_custom_edges() -> None:
    # tiny: A 1,000→1,500, B 2,000→1,500, C 1,000, D 500; edges 1,000 and 2,000
    config = Config(bands=Bands(acv=[1_000, 2_000]))
    opts = RunOptions(by=("acv_band", "segment"))
    frame = compute("nrr", load_input(TINY, config, opts), config, opts).frame
    order = band_labels([1_000, 2_000])
    for period, rows in frame.filter(pl.col("acv_band").is_not_null()).group_by(
        "period", maintain_order=True
    ):
        keys = list(zip(rows["acv_band"], rows["segment"], strict=True))
        assert keys == sorted(keys, key=lambda k: (order.index(k[0]), k[1])), period


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_band_order_reaches_csv_and_json(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    args = ["nrr", "examples/saas_movements.csv", "--by", "acv_band", "--from", "2026-06"]
    result = CliRunner().invoke(app, [*args, "-f", fmt])
    assert result.exit_code == 0, result.stderr
    if fmt == "csv":
        text = "\n".join(line for line in result.stdout.splitlines() if not line.startswith("#"))
        bands = [r["acv_band"] for r in csv.DictReader(io.StringIO(text))]
    else:
        bands = [r["acv_band"] for r in json.loads(result.stdout)["periods"]]
    assert bands[0] in ("(total)", None)
    assert bands[1:] == ACV


# ----------------------------------------------------------------------------- distribution
def test_a_segment_without_a_cohort_gets_a_row() -> None:
    # hazard: a stage the company is not in that period silently missing from the table
    opts = RunOptions(by=("arr_stage",), grain=rc.Grain.quarter)
    frame = compute("distribution", load_input(SAAS, Config(), opts), Config(), opts).frame
    per = _segments(frame, "arr_stage")
    assert all(labels == ["<5M", "5M-25M"] for labels in per.values())
    empty = frame.filter((pl.col("period") == "FY2026-Q2") & (pl.col("arr_stage") == "<5M"))
    row = empty.row(0, named=True)
    assert row["cohort_logos"] == 0
    assert row["cohort_start_arr"] == 0
    for key in ("nrr", "grr", "nrr_low", "account_nrr_median", "grew_share", "left_share"):
        assert row[key] is None, key
    assert row["_why_nrr_low"] == "no cohort"
    before = frame.filter((pl.col("period") == "FY2024-Q1") & (pl.col("arr_stage") == "<5M"))
    assert before["cohort_logos"].to_list() == [None]  # a window before the data: unknown


@settings(max_examples=30, deadline=None)
@given(h=histories(), window=st.integers(1, 6), grain=st.sampled_from(list(rc.Grain)))
def test_distribution_lists_every_segment_and_keeps_its_intervals(
    h: dict, window: int, grain: rc.Grain
) -> None:
    led = rc.ledger_from_frame(as_movements(h), shape="movements")
    kw = {"grain": grain, "window": window, "resamples": 100}
    out = distribution(led, by=["segment"], **kw)
    segments = led.frame.select(pl.col("segment").fill_null("(none)").unique()).collect()
    periods = out["period"].n_unique()
    assert out.height == periods * (segments.height + 1)  # every segment, every period
    empty = out.filter(pl.col("cohort_logos") == 0)
    assert empty["nrr"].is_null().all()
    assert empty["nrr_low"].is_null().all()
    # the total row is the unsegmented figure, its interval bytes included
    total = distribution(led, **kw)
    assert out.filter(pl.col("segment").is_null()).drop("segment").equals(total)
    for seg in segments["segment"].to_list():
        rows = out.filter(pl.col("segment") == seg)
        assert rows["period"].to_list() == total["period"].to_list()


# ----------------------------------------------------------------------------- ARR-stage peers
STAGE_ROWS = pl.DataFrame(
    {
        "source": ["test", "test", "test"],
        "edition": ["2099"] * 3,
        "dimension": ["acv_band", "arr_stage", "arr_stage"],
        "band": ["all-acv", "<5M", "5M+"],
        "lower": [None, None, 5_000_000],
        "upper": [None, 5_000_000, None],
        "nrr_median": [1.01, 1.02, 1.05],
        "grr_median": [0.91, 0.92, 0.95],
    },
    schema_overrides={"lower": pl.Int64, "upper": pl.Int64},
)


def _with_source(monkeypatch: pytest.MonkeyPatch, rows: pl.DataFrame) -> None:
    full = rows.with_columns(
        pl.lit(None, dtype).alias(c) for c, dtype in SCHEMA.items() if c not in rows.columns
    ).select(list(SCHEMA))
    filled = full.with_columns(
        basis=pl.lit("ARR"), method=pl.lit("cohort"), statistic=pl.lit("median")
    )
    table = pl.concat([benchmark_table(), filled])
    monkeypatch.setattr(benchmarks, "benchmark_table", lambda: table)


def test_arr_stage_rows_compare_with_the_stage_of_the_company(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _with_source(monkeypatch, STAGE_ROWS)
    opts = RunOptions(by=("arr_stage",), benchmark="test", grain=rc.Grain.quarter)
    frame = compute("nrr", load_input(SAAS, Config(), opts), Config(), opts).frame
    q2 = frame.filter(pl.col("period") == "FY2026-Q2")
    total = q2.filter(pl.col("arr_stage").is_null()).row(0, named=True)
    assert total["peer_band"] == "all-acv"  # the total row keeps its ACV comparison
    stage = q2.filter(pl.col("arr_stage") == "5M-25M").row(0, named=True)
    assert total["cohort_start_arr"] >= 500_000_000  # the company is past 5M at the window start
    assert (stage["peer_band"], stage["peer_nrr"], stage["peer_grr"]) == ("5M+", 1.05, 0.95)
    assert stage["nrr_vs_peer"] == pytest.approx(stage["nrr"] - 1.05)
    q1 = frame.filter((pl.col("period") == "FY2026-Q1") & (pl.col("arr_stage") == "<5M"))
    assert q1["peer_band"].to_list() == ["<5M"]


def test_a_source_without_stage_rows_says_so() -> None:
    frame = pl.DataFrame(
        {"period": ["p", "p"], "arr_stage": [None, "<5M"], "nrr": [1.0, 1.0], "grr": [0.9, 0.9],
         "cohort_logos": [2, 2], "cohort_start_arr": [2_000_000, 2_000_000]},
    )  # fmt: skip
    out = with_peers(frame, "saas-capital", by=["arr_stage"], stage=True)
    assert out["peer_band"].to_list() == ["<12k", None]  # never an ACV figure for a stage
    why = out["_why_peer_nrr"].to_list()
    assert why == [None, "saas-capital publishes no figure by ARR stage"]
    assert "ARR-stage rows" in peer_caption("saas-capital", "cohort", stage=True)


def test_retention_benchmarks_lists_each_row_with_its_method() -> None:
    table = benchmark_table()
    for row in table.iter_rows(named=True):
        assert row["basis"] in ("MRR", "ARR"), row
        assert row["method"] in ("cohort", "bridge"), row
        assert row["statistic"] in ("median", "mean"), row
        assert row["verification"], row
    listed = listing()
    assert {"statistic", "verification", "source_quote"} <= set(listed.columns)
    assert listed.height == table.height
    # what was found: no ARR-stage figure could be quoted from a source, so none is bundled
    assert table.filter(pl.col("dimension") == "arr_stage").height == 0


def test_stage_edges_come_from_the_config() -> None:
    config = parse_config({"bands": {"arr_stage": [1_000]}})
    assert band_rank("arr_stage", config.bands) == {"<1k": 0, "1k+": 1}


# ----------------------------------------------------------------------------- credits file
def test_a_credit_for_an_account_not_in_the_data_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # hazard: a misspelt account_id in the credits file quietly leaving its gain uncredited
    credits = tmp_path / "credits.csv"
    credits.write_text("date,account_id,credit\n2025-07-10,E,sales\n2025-07-11,Ee,cs\n")
    opts = RunOptions(credits=str(credits))
    result = compute("mix", load_input(TINY, Config(), opts), Config(), opts)
    assert any("1 credit row(s) name an account that is not in the data ('Ee')" in w
               for w in result.warnings)  # fmt: skip
    jul = result.frame.filter(pl.col("period") == "2025-07")
    assert jul.filter(pl.col("credit") == "sales")["new_arr"].to_list() == [300_000]
    assert "cs" not in jul["credit"].to_list()
    # a credits file of known accounts: no warning
    credits.write_text("date,account_id,credit\n2025-07-10,E,sales\n")
    result = compute("mix", load_input(TINY, Config(), opts), Config(), opts)
    assert not any("credit row" in w for w in result.warnings)


# ----------------------------------------------------------------------------- properties
@settings(max_examples=30, deadline=None)
@given(
    h=histories(),
    grain=st.sampled_from(list(rc.Grain)),
    command=st.sampled_from(["bridge", "nrr", "churn", "mix", "distribution"]),
)
def test_band_order_holds_for_any_history(h: dict, grain: rc.Grain, command: str) -> None:
    # edges in whole units: the histories' amounts (1.00 to 123,456) fall in every band
    from retention_cli.inputs import load_frame

    config = Config(bands=Bands(acv=[5, 50]))
    order = band_labels([5, 50])
    opts = RunOptions(by=("acv_band", "segment"), grain=grain, window=3)
    result = compute(command, load_frame(as_movements(h), shape="movements"), config, opts)
    frame = result.frame
    for _, rows in frame.group_by("period", maintain_order=True):
        assert rows["acv_band"][0] is None  # the total row first
        keys = [(order.index(b), s) for b, s in rows.select("acv_band", "segment").rows()[1:]]
        assert keys == sorted(keys)
    # only the order changed: the text-sorted frame has the same rows
    text = RunOptions(by=("segment",), grain=grain, window=3)
    plain = compute(command, load_frame(as_movements(h), shape="movements"), config, text)
    totals = frame.filter(pl.col("acv_band").is_null()).drop("acv_band")
    assert totals.equals(plain.frame.filter(pl.col("segment").is_null()))


def test_xlsx_lists_bands_by_lower_edge(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import fastexcel

    monkeypatch.chdir(ROOT)
    out = tmp_path / "nrr.xlsx"
    args = ["nrr", SAAS, "--by", "acv_band", "--from", "2026-06", "-o", str(out), "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    sheet = fastexcel.read_excel(str(out)).load_sheet("nrr").to_polars()
    assert sheet["acv_band"].to_list() == ["(total)", *ACV]
