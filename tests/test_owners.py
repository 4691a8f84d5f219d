"""Bands, benchmarks, the account-level distribution and the growth summary (issue 15, items 4-7).

Every number is worked by hand on examples/tiny_movements.csv:

    account  Jan-2025  ... Jan-2026   (ARR at the end of the month)
    A        1,000     (exp. Jun +500)          1,500
    B        2,000     (contr. Sep -500)        1,500
    C        1,000     (churn Apr, back Oct)      800
    D          500     (churn Nov)                  0
    E            -     (new Jul 3,000)          3,000
    F            -     (new Jan-2026 700)         700

The 12-month window ending 2026-01 starts after Jan-2025: cohort A, B, C, D,
start ARR 4,500, end ARR 1,500 + 1,500 + 800 + 0 = 3,800.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retention_cli as rc
from retention_cli.benchmarks import benchmark_table, listing, with_peers
from retention_cli.config import Bands, Config, band_labels, parse_config
from retention_cli.errors import ConfigError, UsageError
from retention_cli.metrics.bands import band_of
from retention_cli.metrics.distribution import bootstrap, distribution
from retention_cli.service import RunOptions, compute, compute_report, load_input
from tests.conftest import EXAMPLES
from tests.test_properties import as_movements, histories

TINY = str(EXAMPLES / "tiny_movements.csv")


def _row(frame: pl.DataFrame, period: str, **segment: str | None) -> dict:
    keep = pl.col("period") == period
    for col, value in segment.items():
        keep &= pl.col(col).is_null() if value is None else pl.col(col) == value
    rows = frame.filter(keep)
    assert rows.height == 1
    return rows.row(0, named=True)


# ----------------------------------------------------------------------------- bands
def test_band_edges_include_the_lower_edge_only() -> None:
    # hazard: an account at exactly 12,000.00 counted in both bands, or in neither
    labels = band_labels([12_000, 25_000, 50_000, 100_000, 250_000])
    assert labels == ["<12k", "12k-25k", "25k-50k", "50k-100k", "100k-250k", "250k+"]
    cents = pl.DataFrame({"c": [0, 1_199_999, 1_200_000, 2_499_999, 2_500_000, 25_000_000]})
    got = cents.select(band_of(pl.col("c"), [12_000, 25_000, 250_000]).alias("c"))["c"].to_list()
    assert got == ["<12k", "<12k", "12k-25k", "12k-25k", "25k-250k", "250k+"]
    assert band_labels([5_000_000, 25_000_000]) == ["<5M", "5M-25M", "25M+"]


def test_band_edges_must_ascend() -> None:
    with pytest.raises(ConfigError, match="ascending"):
        parse_config({"bands": {"acv": [25_000, 12_000]}})


def test_acv_band_is_the_band_at_the_window_start() -> None:
    # bands 1k / 2k: A 1,000 and C 1,000 in 1k-2k (lower edge inclusive), B 2,000 in 2k+,
    # D 500 in <1k, all at the end of Jan-2025 (the window start for 2026-01)
    config = Config(bands=Bands(acv=[1_000, 2_000]))
    opts = RunOptions(by=("acv_band",))
    frame = compute("nrr", load_input(TINY, config, opts), config, opts).frame
    mid = _row(frame, "2026-01", acv_band="1k-2k")
    # start 1,000 + 1,000 = 2,000; end 1,500 + 800 = 2,300; kept 1,000 + 800 = 1,800
    assert (mid["cohort_logos"], mid["cohort_start_arr"]) == (2, 200_000)
    assert mid["nrr"] == pytest.approx(2_300 / 2_000)
    assert mid["grr"] == pytest.approx(1_800 / 2_000)
    top = _row(frame, "2026-01", acv_band="2k+")  # B: 2,000 → 1,500
    assert (top["nrr"], top["grr"]) == (pytest.approx(0.75), pytest.approx(0.75))
    low = _row(frame, "2026-01", acv_band="<1k")  # D: 500 → 0
    assert (low["nrr"], low["grr"]) == (0.0, 0.0)


def test_arr_stage_is_the_company_total_per_period() -> None:
    # total ARR at the end of Jan-2025 is 4,500: below the 5,000 edge; Jul-2025 7,000 above it
    config = Config(bands=Bands(arr_stage=[5_000]))
    opts = RunOptions(by=("arr_stage",))
    frame = compute("bridge", load_input(TINY, config, opts), config, opts).frame
    assert _row(frame, "2025-01", arr_stage="<5k")["end_arr"] == 450_000
    assert _row(frame, "2025-07", arr_stage="5k+")["end_arr"] == 700_000


def test_a_file_column_named_acv_band_wins_with_a_warning(tmp_path) -> None:
    # hazard: silently replacing the user's own banding with ours
    path = tmp_path / "m.csv"
    text = (EXAMPLES / "tiny_movements.csv").read_text().replace("segment", "acv_band")
    path.write_text(text)
    opts = RunOptions(by=("acv_band",))
    result = compute("nrr", load_input(str(path), Config(), opts), Config(), opts)
    assert set(result.frame["acv_band"].drop_nulls()) == {"SMB", "Enterprise"}
    assert any("the file has a column 'acv_band'" in w for w in result.warnings)


def test_an_unknown_by_column_names_the_computed_ones() -> None:
    opts = RunOptions(by=("acv",))
    with pytest.raises(UsageError) as err:
        compute("nrr", load_input(TINY, Config(), opts), Config(), opts)
    assert "acv_band, arr_stage" in (err.value.hint or "")


# ----------------------------------------------------------------------------- benchmarks
def test_every_bundled_figure_has_its_citation() -> None:
    # hazard: a number in the data file that nobody can trace back to a publication
    table = benchmark_table()
    assert table.height > 0
    for row in table.iter_rows(named=True):
        for col in ("source", "edition", "sample", "basis", "method", "publication", "url"):
            assert row[col], (col, row)
        assert row["url"].startswith("https://")
        assert row["source_quote"]
        assert len(row["source_quote"]) > 20
        for col in ("nrr_median", "grr_median"):
            assert row[col] is None or 0 < row[col] < 2
    assert listing().height == table.height


def test_peer_columns_for_the_company_band() -> None:
    # 2026-01: average ACV = 4,500 / 4 = 1,125 → the <12k band: median NRR 100%, GRR 90%
    opts = RunOptions(benchmark="saas-capital")
    result = compute("nrr", load_input(TINY, Config(), opts), Config(), opts)
    row = _row(result.frame, "2026-01")
    assert (row["peer_band"], row["peer_nrr"], row["peer_grr"]) == ("<12k", 1.0, 0.9)
    assert row["nrr_vs_peer"] == pytest.approx(3_800 / 4_500 - 1.0)  # -15.6 pp
    assert row["grr_vs_peer"] == pytest.approx(3_300 / 4_500 - 0.9)  # -16.7 pp
    assert "peer_nrr" in result.keys
    assert "theirs are on MRR, these on ARR" in result.caption
    assert result.options["benchmark"] == "saas-capital"
    assert "benchmark" not in result.definitions  # same figures, same definitions hash


def test_each_acv_band_segment_gets_its_own_peer_band() -> None:
    frame = pl.DataFrame(
        {"nrr": [1.1, 1.0], "grr": [0.9, 0.8], "cohort_logos": [2, 1],
         "cohort_start_arr": [2_000_000, 30_000_000]}  # 10,000 avg: <12k; 300,000: 250k+
    )  # fmt: skip
    out = with_peers(frame, "saas-capital")
    assert out["peer_band"].to_list() == ["<12k", "250k+"]
    assert out["peer_nrr"].to_list() == [1.0, 1.1]


def test_an_empty_cohort_gets_no_peer() -> None:
    # hazard: 0 / 0 = NaN average ACV falling through to the source's overall median
    frame = pl.DataFrame(
        {"nrr": [None], "grr": [None], "cohort_logos": [0], "cohort_start_arr": [0]},
        schema={"nrr": pl.Float64, "grr": pl.Float64, "cohort_logos": pl.Int64,
                "cohort_start_arr": pl.Int64},
    )  # fmt: skip
    out = with_peers(frame, "saas-capital")
    assert out.row(0, named=True)["peer_band"] is None
    assert out["_why_peer_nrr"].to_list() == ["no cohort, so no contract size to pick a band by"]


def test_an_unknown_benchmark_names_the_known_ones() -> None:
    opts = RunOptions(benchmark="nope")
    with pytest.raises(UsageError) as err:
        compute("nrr", load_input(TINY, Config(), opts), Config(), opts)
    assert err.value.param == "benchmark"
    assert "saas-capital" in (err.value.hint or "")


def test_without_benchmark_nothing_changes() -> None:
    opts = RunOptions()
    result = compute("nrr", load_input(TINY, Config(), opts), Config(), opts)
    assert "peer_nrr" not in result.frame.columns
    assert "benchmark" not in result.definitions


# ----------------------------------------------------------------------------- distribution
def test_distribution_by_hand() -> None:
    opts = RunOptions()
    frame = compute("distribution", load_input(TINY, Config(), opts), Config(), opts).frame
    row = _row(frame, "2026-01")
    # account NRR: D 0/500 = 0, B 1,500/2,000 = 0.75, C 800/1,000 = 0.8, A 1,500/1,000 = 1.5
    # linear percentiles over 4 values: p25 at 0.75 → 0 + 0.75 × 0.75 = 0.5625;
    # median (0.75 + 0.8) / 2 = 0.775; p75 at 2.25 → 0.8 + 0.25 × 0.7 = 0.975
    assert row["account_nrr_min"] == 0.0
    assert row["account_nrr_p25"] == pytest.approx(0.5625)
    assert row["account_nrr_median"] == pytest.approx(0.775)
    assert row["account_nrr_p75"] == pytest.approx(0.975)
    assert row["account_nrr_max"] == 1.5
    # start ARR 4,500: grew A 1,000; steady none; shrank B + C 3,000; left D 500
    assert row["grew_share"] == pytest.approx(1_000 / 4_500)
    assert row["steady_share"] == 0.0
    assert row["shrank_share"] == pytest.approx(3_000 / 4_500)
    assert row["left_share"] == pytest.approx(500 / 4_500)
    assert row["nrr"] == pytest.approx(3_800 / 4_500)
    assert row["grr"] == pytest.approx(3_300 / 4_500)
    # 4 accounts < 30: an interval, around the figure
    assert row["nrr_low"] <= row["nrr"] <= row["nrr_high"]
    assert 0 <= row["grr_low"] <= row["grr"] <= row["grr_high"] <= 1


def test_bootstrap_is_deterministic_under_its_seed() -> None:
    start = pl.Series([100_000, 200_000, 100_000, 50_000])
    end = pl.Series([150_000, 150_000, 80_000, 0])
    one = bootstrap(start, end, resamples=500, level=0.9, seed="0:2026-01:")
    assert one == bootstrap(start, end, resamples=500, level=0.9, seed="0:2026-01:")
    assert one != bootstrap(start, end, resamples=500, level=0.9, seed="1:2026-01:")


def test_large_cohorts_get_no_interval() -> None:
    config = parse_config({"distribution": {"min_accounts": 4}})
    opts = RunOptions()
    result = compute("distribution", load_input(TINY, config, opts), config, opts)
    row = _row(result.frame, "2026-01")
    assert row["nrr_low"] is None
    assert any("4 accounts or more" in n for n in result.notes)


@settings(max_examples=40, deadline=None)
@given(h=histories(), window=st.integers(1, 6), grain=st.sampled_from(list(rc.Grain)))
def test_distribution_invariants(h: dict, window: int, grain: rc.Grain) -> None:
    led = rc.ledger_from_frame(as_movements(h), shape="movements")
    out = distribution(led, grain=grain, window=window, by=["segment"], resamples=100)
    again = distribution(led, grain=grain, window=window, by=["segment"], resamples=100)
    assert out.equals(again)  # same seed, same frame
    for r in out.filter(pl.col("cohort_logos") > 0).iter_rows(named=True):
        lo, hi = r["account_nrr_min"], r["account_nrr_max"]
        assert lo <= r["account_nrr_p25"] <= r["account_nrr_median"] <= r["account_nrr_p75"] <= hi
        shares = r["grew_share"] + r["steady_share"] + r["shrank_share"] + r["left_share"]
        assert shares == pytest.approx(1.0)
        if r["nrr_low"] is not None:
            assert r["nrr_low"] <= r["nrr_high"]
            assert r["grr_low"] <= r["grr_high"] <= 1


# ----------------------------------------------------------------------------- summary
def test_summary_by_hand() -> None:
    opts = RunOptions()
    report = compute_report(load_input(TINY, Config(), opts), Config(), opts)
    assert next(iter(report.sections)) == "summary"  # the report opens with it
    frame = report.sections["summary"].frame
    apr = _row(frame, "2025-04")  # C churns 1,000: net new -1,000 = 0 acquired + (-1,000) retained
    assert (apr["net_new_arr"], apr["acquisition_net_new_arr"], apr["retention_net_new_arr"]) == (
        -100_000,
        0,
        -100_000,
    )
    oct_ = _row(frame, "2025-10")  # C comes back at 800: reactivation is retention's
    assert (oct_["acquisition_net_new_arr"], oct_["retention_net_new_arr"]) == (0, 80_000)
    jan = _row(frame, "2026-01")  # F new 700
    assert (jan["end_arr"], jan["net_new_arr"], jan["acquisition_net_new_arr"]) == (
        750_000,
        70_000,
        70_000,
    )
    # retained per $1 new: cohort end ARR 3,800 / end ARR of accounts won in the window
    # (E 3,000 + F 700 = 3,700) = 1.027
    assert jan["retention_to_acquisition"] == pytest.approx(3_800 / 3_700)
    assert jan["nrr"] == pytest.approx(3_800 / 4_500)


@settings(max_examples=40, deadline=None)
@given(h=histories(), grain=st.sampled_from(list(rc.Grain)))
def test_summary_split_sums_to_net_new_exactly(h: dict, grain: rc.Grain) -> None:
    loaded = rc.load_frame(as_movements(h))
    opts = RunOptions(grain=grain, by=("segment",))
    frame = compute_report(loaded, Config(), opts, sections_wanted=("summary",))
    rows = frame.sections["summary"].frame.drop_nulls("net_new_arr")
    split = rows["acquisition_net_new_arr"] + rows["retention_net_new_arr"]
    assert (split == rows["net_new_arr"]).all()
