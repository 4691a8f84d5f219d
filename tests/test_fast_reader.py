"""The one-pass reader for plain files must give exactly what the full parser gives,
and hand anything unusual to the full parser (which then reports or handles it)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from retention_cli.inputs import Loaded, _fast_load, load, parse_table, read_table
from retention_cli.ledger import build_ledger
from retention_cli.metrics import bridge, retention
from tests.conftest import EXAMPLES


def full_parse(path: Path) -> Loaded:
    raw, source = read_table(str(path))
    return parse_table(raw, source)


def as_text(loaded: Loaded) -> pl.DataFrame:
    """The frame with the fast reader's categoricals as the full parser's strings."""
    return loaded.frame.with_columns(pl.col(pl.Categorical).cast(pl.String))


@pytest.mark.parametrize(
    "name", ["saas_movements.csv", "saas_snapshots.csv", "saas_subscriptions.csv",
             "tiny_movements.csv", "tiny_snapshots.csv"],
)  # fmt: skip
def test_bundled_files_take_the_fast_path_and_match_the_full_parser(name: str) -> None:
    path = EXAMPLES / name
    fast = _fast_load(str(path), columns=None, shape=None, separator=None)
    assert fast is not None, "a plain file should not need the full parser"
    full = full_parse(path)
    assert_frame_equal(as_text(fast), full.frame)
    assert (fast.shape, fast.dimensions, fast.warnings) == (
        full.shape,
        full.dimensions,
        full.warnings,
    )
    assert fast.source == full.source  # same sha256 and row count
    # and the ledgers agree, account codes included
    assert_frame_equal(build_ledger(fast).collect(), build_ledger(full).collect())


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ('2025-01-31,a,"$1,000.00",SMB', "currency symbol and thousands separator"),
        ("2025-01-31,a,100.005,SMB", "sub-cent amount (rounded with a warning)"),
        ("2025-1-31,a,100,SMB", "not YYYY-MM-DD"),
        ("2025-01-31, ,100,SMB", "blank account"),
        ("2025-01-31,a,-5,SMB", "negative ARR"),
        ("2025-02-30,a,5,SMB", "impossible date"),
    ],
)
def test_anything_unusual_goes_to_the_full_parser(tmp_path: Path, line: str, why: str) -> None:
    path = tmp_path / "s.csv"
    path.write_text(f"date,account_id,arr,segment\n2025-01-31,b,100.00,SMB\n{line}\n")
    assert _fast_load(str(path), columns=None, shape=None, separator=None) is None, why


def test_sub_cent_values_still_load_through_the_full_parser(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text('date,account_id,arr\n2025-01-31,a,100.005\n2025-02-28,a,"$1,000"\n')
    loaded = load(str(path))
    assert loaded.frame["arr"].to_list() == [10001, 100000]  # 100.005 → 100.01, half away
    assert any("rounded" in w for w in loaded.warnings)


def test_parquet_takes_the_fast_path(tmp_path: Path) -> None:
    text = pl.read_csv(EXAMPLES / "saas_snapshots.csv", infer_schema=False)
    text.write_parquet(tmp_path / "s.parquet")
    fast = _fast_load(str(tmp_path / "s.parquet"), columns=None, shape=None, separator=None)
    assert fast is not None
    assert_frame_equal(as_text(fast), full_parse(EXAMPLES / "saas_snapshots.csv").frame)


accounts = st.sampled_from(["acme", "Beta", "beta", "ZZ top", "ünï", "a,b", "0042"])
months = st.integers(min_value=0, max_value=26)
cents = st.integers(min_value=0, max_value=10**9)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.tuples(accounts, months, cents, st.sampled_from(["A", "B", ""])),
                     min_size=1, max_size=40))  # fmt: skip
def test_random_plain_snapshots_agree(tmp_path: Path, rows: list) -> None:
    frame = pl.DataFrame(
        {
            "date": [f"{2024 + m // 12}-{m % 12 + 1:02d}-{1 + m % 28:02d}" for _, m, _, _ in rows],
            "account_id": [a for a, *_ in rows],
            "arr": [f"{c // 100}.{c % 100:02d}" for *_, c, _ in rows],
            "segment": [s for *_, s in rows],
        }
    )
    path = tmp_path / "r.csv"
    frame.write_csv(path)
    try:
        full = full_parse(path)
    except Exception:  # e.g. conflicting snapshots on one date: both must refuse
        with pytest.raises(Exception):  # noqa: B017, PT011
            load(str(path))
        return
    fast = load(str(path))
    assert_frame_equal(as_text(fast), full.frame)
    a, b = build_ledger(fast), build_ledger(full)
    assert_frame_equal(a.collect(), b.collect())
    assert_frame_equal(bridge(a, by=["segment"]), bridge(b, by=["segment"]))
    assert_frame_equal(retention(a, window=3), retention(b, window=3))
