"""The one-pass reader told which dimensions a run reads (``load(..., dimensions=)``):
the others are left out of the frame, yet the same files decline to the full parser
and every output stays the same."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from retention_cli import Config, RunOptions
from retention_cli.inputs import Loaded, fast_load, load
from retention_cli.render.json import to_json
from retention_cli.service import load_input, needed_dimensions, run_loaded
from tests.conftest import EXAMPLES

HEADER = "date,account_id,arr,segment,region,owner\n"
GOOD = "2025-01-31,a,100.00,SMB,NA,ann\n2025-02-28,a,120.00,SMB,NA,ann\n"


def fast(path: Path, dimensions: list[str] | None) -> object:
    return fast_load(str(path), columns=None, shape=None, separator=None, dimensions=dimensions)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("2025-01-31,b,5.00,SMB,NA\n", "short row: the unused last dimension reads as blank"),
        ("2025-01-31,b,5.00,SMB,NA,  \n", "blank last field (an unused dimension)"),
        ("2025-01-31,b,5.00,SMB,NA,bob,extra\n", "more fields than the header"),
    ],
)
@pytest.mark.parametrize("dims", [None, [], ["segment"], ["region"], ["owner"]])
def test_unused_dimensions_decline_as_before(
    tmp_path: Path, body: str, why: str, dims: list[str] | None
) -> None:
    path = tmp_path / "s.csv"
    path.write_text(HEADER + GOOD + body)
    assert fast(path, dims) is None, why


@pytest.mark.parametrize("dims", [None, [], ["owner"]])
def test_bad_utf8_in_an_unused_dimension_declines(tmp_path: Path, dims: list[str] | None) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes((HEADER + GOOD).encode() + b"2025-03-31,a,1.00,S\xff,NA,ann\n")
    assert fast(path, dims) is None


def test_a_wide_row_declines_when_the_unused_dimension_is_in_the_middle(tmp_path: Path) -> None:
    # Polars reports extra fields only when the scan reads every column
    path = tmp_path / "s.csv"
    path.write_text("date,account_id,arr,segment,owner\n2025-01-31,a,1.00,S,ann,extra\n")
    assert fast(path, ["owner"]) is None
    assert fast(path, []) is None


def test_unused_dimensions_leave_the_frame_not_the_listing(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(HEADER + GOOD)
    full = load(str(path))
    some = load(str(path), dimensions=["region"])
    assert some.dimensions == full.dimensions == ["segment", "region", "owner"]
    assert some.frame.columns == ["account_id", "date", "arr", "region", "_line"]
    assert_frame_equal(some.frame, full.frame.drop("segment", "owner"))
    assert (some.source, some.warnings) == (full.source, full.warnings)


def test_needed_dimensions() -> None:
    assert needed_dimensions("nrr", RunOptions(by=("segment",))) == ["segment"]
    assert needed_dimensions("report", RunOptions()) == []
    assert needed_dimensions("variants", RunOptions()) is None  # a view reads the frame
    assert needed_dimensions("mix", RunOptions(credit="owner")) is None


@pytest.mark.parametrize(
    ("name", "command", "by"),
    [
        ("saas_snapshots.csv", "nrr", ()),
        ("saas_snapshots.csv", "report", ("segment",)),
        ("saas_movements.csv", "bridge", ("segment",)),
        ("saas_movements.csv", "cohorts", ()),
        ("saas_subscriptions.csv", "churn", ()),
        ("saas_snapshots.csv", "variants", ()),
    ],
)
def test_runs_with_the_hint_give_the_same_output(name: str, command: str, by: tuple) -> None:
    path, config = str(EXAMPLES / name), Config()
    opts = RunOptions(by=by)
    outs = []
    for dims in (None, needed_dimensions(command, opts)):
        loaded = load_input(path, config, opts, dimensions=dims)
        outs.append(to_json(run_loaded(command, loaded, config, opts, release_input=True)))
    assert outs[0] == outs[1]


texts = st.sampled_from(["A", "b b", " c", "", "ü", "x,y", '"q"'])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 14), texts, texts, texts),
                  min_size=1, max_size=30),
    dims=st.lists(st.sampled_from(["seg", "reg", "own"]), unique=True),
)  # fmt: skip
def test_random_files_load_the_same_with_and_without_the_hint(
    tmp_path: Path, rows: list, dims: list[str]
) -> None:
    frame = pl.DataFrame(
        {
            "date": [f"{2024 + m // 12}-{m % 12 + 1:02d}-28" for _, m, *_ in rows],
            "account_id": [f"acct{a}" for a, *_ in rows],
            "arr": [f"{a * 7 + m}.50" for a, m, *_ in rows],
            "seg": [s for *_, s, _, _ in rows],
            "reg": [r for *_, r, _ in rows],
            "own": [o for *_, o in rows],
        }
    )
    path = tmp_path / "r.csv"
    frame.write_csv(path)

    def outcome(dims: list[str] | None) -> object:
        try:
            return fast(path, dims) is None, load(str(path), dimensions=dims)
        except Exception as exc:  # e.g. an account twice on a date: both refuse alike
            return type(exc), str(exc)

    full, some = outcome(None), outcome(dims)
    if not isinstance(full[1], Loaded) or not isinstance(some[1], Loaded):
        assert full == some
        return
    declined = full[0]
    assert some[0] == declined, "the hint must not change which files decline"
    dropped = [d for d in full[1].dimensions if d not in dims] if not declined else []
    assert_frame_equal(some[1].frame, full[1].frame.drop(dropped))
    assert some[1].dimensions == full[1].dimensions


def test_parquet_with_the_hint(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    pl.read_csv(EXAMPLES / "saas_snapshots.csv", infer_schema=False).write_parquet(path)
    full = fast_load(str(path), columns=None, shape=None, separator=None)
    some = fast_load(str(path), columns=None, shape=None, separator=None, dimensions=[])
    assert full is not None
    assert some is not None
    assert_frame_equal(some.frame, full.frame.drop(full.dimensions))
    assert some.dimensions == full.dimensions
