"""Books of business (issue 15 item 2): retention per owner, reassignments apart.

The hazard: an account reassigned from one CSM to another must not show as churn
in one book and expansion in the other; each book's NRR must be the one
``nrr --by owner`` gives, and the books must add up to the company.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import retention_cli as rc
from retention_cli.metrics.books import BOOK_KEYS, books
from tests.conftest import EXAMPLES
from tests.test_transfers import SETTINGS, as_movements, as_snapshots, histories


def test_hand_example_tiny_books() -> None:
    L = rc.build_ledger(rc.load(str(EXAMPLES / "tiny_books.csv")), dimensions=["owner"])
    b = books(L, owner="owner", grain=rc.Grain.quarter, window=12)
    q = {r["owner"]: r for r in b.filter(pl.col("period") == "FY2026-Q1").iter_rows(named=True)}
    # the window runs April 2025 - March 2026; at its start ann holds A (1,000),
    # C (1,000) and D (500), bob holds B (2,000) and E (3,000)
    ann, bob, cara = q["ann"], q["bob"], q["cara"]
    assert (ann["cohort_logos"], ann["cohort_start_arr"]) == (3, 250_000)
    # at the end: A 1,500 (now bob's), C 800 (churned, back), D 750 (now cara's) = 3,050
    assert ann["nrr"] == pytest.approx(3_050 / 2_500)
    # GRR: min(1,000, 1,500) + min(1,000, 800) + min(500, 750) = 2,300
    assert ann["grr"] == pytest.approx(2_300 / 2_500)
    # movements of ann's cohort: A +500, D +250, C -200; 2,500 + 750 - 200 = 3,050
    assert (ann["expansion_arr"], ann["contraction_arr"], ann["churned_arr"]) == (75_000, 20_000, 0)
    # A and D moved away with their window-start ARR (1,000 + 500): never churn
    assert (ann["reassigned_out_arr"], ann["reassigned_out_logos"]) == (150_000, 2)
    # bob: B 2,000 -> 1,500, E 3,000 -> 4,000 (now cara's): 5,500 / 5,000; A came in
    assert bob["nrr"] == pytest.approx(1.1)
    assert (bob["reassigned_in_arr"], bob["reassigned_out_arr"]) == (100_000, 300_000)
    # cara held nothing at the window start: no ratio; D and E came in (500 + 3,000)
    assert (cara["cohort_logos"], cara["nrr"], cara["reassigned_in_arr"]) == (0, None, 350_000)
    total = q[None]
    assert total["cohort_start_arr"] == 750_000
    assert all(total[k] is None for k in BOOK_KEYS if k.startswith("reassigned"))


def test_books_cli_names_the_owner_flag(runner, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from retention_cli.cli import app
    from tests.conftest import ROOT

    monkeypatch.chdir(ROOT)
    r = runner.invoke(app, ["books", "examples/tiny_books.csv", "--owner", "csm"])
    assert r.exit_code == 2
    assert "--owner" in r.stderr
    assert "'csm'" in r.stderr
    r = runner.invoke(
        app,
        ["books", "examples/tiny_books.csv", "--owner", "owner", "--grain", "year", "-f", "csv"],
    )
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines()[1].split(",")[3] == "(total)"


@pytest.mark.slow
@SETTINGS
@given(
    h=histories(),
    window=st.integers(1, 13),
    grain=st.sampled_from(list(rc.Grain)),
    method=st.sampled_from(list(rc.Method)),
)
def test_books_add_up_and_match_nrr_by_owner(
    h: dict, window: int, grain: rc.Grain, method: rc.Method
) -> None:
    for frame, shape in ((as_snapshots(h), "snapshots"), (as_movements(h), "movements")):
        if frame.height == 0:
            continue
        L = rc.ledger_from_frame(frame.rename({"segment": "owner"}), shape=shape)
        b = books(L, owner="owner", grain=grain, window=window, method=method)
        r = rc.retention(L, grain=grain, window=window, method=method, by=["owner"])
        keys = ["period", "owner"]
        # each book's NRR, GRR and logo retention are those of nrr --by owner
        both = b.join(r, on=keys, how="full", nulls_equal=True, suffix="_r")
        for k in ("cohort_logos", "cohort_start_arr", "nrr", "grr", "logo_retention"):
            assert both[k].equals(both[f"{k}_r"]), k
        known = b.filter(pl.col("cohort_logos").is_not_null())
        books_only = known.filter(pl.col("owner").is_not_null())
        total = known.filter(pl.col("owner").is_null())
        # the books' start ARR sums to the company's (and so every additive figure)
        added = books_only.group_by("period").agg(
            pl.col("cohort_start_arr", "cohort_logos", "expansion_arr", "contraction_arr").sum(),
            pl.col("churned_arr", "_cohort_end_arr").sum(),
            (pl.col("reassigned_in_arr").sum() - pl.col("reassigned_out_arr").sum()).alias("net"),
            (pl.col("reassigned_in_logos").sum() - pl.col("reassigned_out_logos").sum()).alias(
                "net_logos"
            ),
        )
        joined = total.join(added, on="period", suffix="_books")
        for k in ("cohort_start_arr", "cohort_logos", "expansion_arr", "contraction_arr",
                  "churned_arr", "_cohort_end_arr"):  # fmt: skip
            assert (joined[k] == joined[f"{k}_books"]).all(), k
        # reassignments move ARR between books: they sum to zero
        assert (joined["net"] == 0).all()
        assert (joined["net_logos"] == 0).all()
        # start + expansion - contraction - churn = the cohort's end ARR (NRR's numerator)
        lhs = (
            known["cohort_start_arr"] + known["expansion_arr"] - known["contraction_arr"]
            - known["churned_arr"]
        )  # fmt: skip
        assert (lhs == known["_cohort_end_arr"]).all()
        # GRR = (start - contraction - churn) / start for the method in force
        kept = known.filter(pl.col("cohort_start_arr") > 0)
        grr = (kept["cohort_start_arr"] - kept["contraction_arr"] - kept["churned_arr"]) / kept[
            "cohort_start_arr"
        ]
        assert ((grr - kept["grr"]).abs() < 1e-12).all()


def test_explain_lists_a_books_accounts_and_reassignments() -> None:
    from retention_cli.config import Config
    from retention_cli.service import RunOptions, explain_result

    loaded = rc.load(str(EXAMPLES / "tiny_books.csv"))
    opts = RunOptions(grain=rc.Grain.quarter)
    ann = explain_result(
        loaded, Config(), opts, period="FY2026-Q1", metric="books", where={"owner": "ann"}
    )
    assert sorted(ann.frame.select("account_id", "class", "owner_at_end").rows()) == [
        ("A", "expanded+reassigned_out", "bob"),
        ("C", "churned_and_returned", "ann"),
        ("D", "expanded+reassigned_out", "cara"),
    ]
    cara = explain_result(
        loaded, Config(), opts, period="FY2026-Q1", metric="books", where={"owner": "cara"}
    ).frame
    # E and D came in with their window-start ARR; they are outside cara's NRR
    assert sorted(cara.select("account_id", "class", "reassigned_in_arr").rows()) == [
        ("D", "reassigned_in", 50_000),
        ("E", "reassigned_in", 300_000),
    ]
    assert cara["denominator_arr"].sum() == 0


@pytest.mark.slow
@SETTINGS
@given(h=histories(), window=st.integers(1, 6), grain=st.sampled_from(list(rc.Grain)))
def test_explain_of_every_book_adds_up(h: dict, window: int, grain: rc.Grain) -> None:
    from retention_cli.config import Config
    from retention_cli.service import RunOptions, explain_result

    loaded = rc.load_frame(as_movements(h).rename({"segment": "owner"}))
    L = rc.build_ledger(loaded)
    opts = RunOptions(grain=grain, window=window)
    names = L.frame.select(pl.col("owner").unique()).collect()["owner"].to_list()
    periods = rc.metrics.reporting_periods(L, grain)
    for p in periods.filter(pl.col("_last") - window >= L.first_period)["period"]:
        for name in names:
            # raises RuntimeError unless the accounts add up to the book's row exactly
            explain_result(loaded, Config(), opts, period=p, metric="books", where={"owner": name})
