"""NRR in account batches (issue 17 item 3): the same bytes as in one batch.

A large ledger is counted one batch of whole accounts at a time and the batches'
integer sums are added before any ratio (:mod:`retention_cli.batches`). These
tests force small batches (``RETENTION_BATCH_ROWS``) and compare with one batch.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import retention_cli as rc
from retention_cli.batches import (
    BATCH_ROWS,
    ENV_BATCH_ROWS,
    account_batches,
    account_parts,
    account_runs,
    add_batches,
    batch_count,
    batch_rows,
)
from retention_cli.cli import app
from retention_cli.config import Config, Policies
from retention_cli.inputs import load_frame
from retention_cli.metrics import reporting_periods, retention
from retention_cli.metrics.retention import retention_finish, retention_sums
from retention_cli.render.json import to_json
from retention_cli.service import MetricRun, RunOptions, compute, variants_result
from tests.conftest import ROOT

BASE = dt.date(2024, 11, 1)
AMOUNTS = st.sampled_from([0, 0, 100, 250, 1_000, 1_001, 5_000, 123_456])
SEGMENTS = st.sampled_from(["SMB", "ENT", "MM"])
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def rows_per_batch(rows: int | None) -> Iterator[None]:
    """``RETENTION_BATCH_ROWS`` set to ``rows`` (unset for None) inside the block."""
    old = os.environ.get(ENV_BATCH_ROWS)
    if rows is None:
        os.environ.pop(ENV_BATCH_ROWS, None)
    else:
        os.environ[ENV_BATCH_ROWS] = str(rows)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(ENV_BATCH_ROWS, None)
        else:
            os.environ[ENV_BATCH_ROWS] = old


def month_day(m: int, day: int = 15) -> dt.date:
    y, mo = divmod(BASE.month - 1 + m, 12)
    return dt.date(BASE.year + y, mo + 1, day)


@st.composite
def histories(draw: st.DrawFn) -> dict[str, list[tuple[int, str]]]:
    """Each account's (ARR cents, segment) at each month end; segments change (transfers)."""
    months = draw(st.integers(1, 16))
    n = draw(st.integers(1, 9))
    out = {}
    for i in range(n):
        start = draw(st.integers(0, months - 1))
        size = months - start
        values = draw(st.lists(AMOUNTS, min_size=size, max_size=size))
        segs = draw(st.lists(SEGMENTS, min_size=size, max_size=size))
        out[f"acc{i}"] = [(0, segs[0])] * start + list(zip(values, segs, strict=True))
    if all(v == 0 for h in out.values() for v, _ in h):
        first = out["acc0"]
        out["acc0"] = [*first[:-1], (999, first[-1][1])]
    return out


def as_snapshots(h: dict) -> pl.DataFrame:
    rows = [
        (month_day(m, 28).isoformat(), acc, f"{v / 100:.2f}", seg)
        for acc, months in h.items()
        for m, (v, seg) in enumerate(months)
        if v > 0
    ]
    return pl.DataFrame(rows, schema=["date", "account_id", "arr", "segment"], orient="row")


def as_movements(h: dict) -> pl.DataFrame:
    rows = []
    for acc, months in h.items():
        prev, ever = 0, False
        for m, (v, seg) in enumerate(months):
            if v == prev:
                continue
            if prev == 0:
                kind, amount = ("reactivation" if ever else "new"), v
            elif v == 0:
                kind, amount = "churn", -prev
            elif v > prev:
                kind, amount = "expansion", v - prev
            else:
                kind, amount = "contraction", v - prev
            ever = True
            rows.append((month_day(m).isoformat(), acc, kind, f"{amount / 100:.2f}", seg))
            prev = v
    return pl.DataFrame(
        rows, schema=["date", "account_id", "type", "amount", "segment"], orient="row"
    )


def as_subscriptions(h: dict) -> pl.DataFrame:
    rows: list[list[str]] = []
    for acc, months in h.items():
        prev = 0
        for m, (v, seg) in enumerate(months):
            if v != prev or (v and seg != rows[-1][4]):
                if prev > 0:
                    rows[-1][2] = month_day(m, 1).isoformat()
                if v > 0:
                    rows.append([acc, month_day(m, 1).isoformat(), "", f"{v / 100:.2f}", seg])
                prev = v
    return pl.DataFrame(
        rows, schema=["account_id", "start_date", "end_date", "arr", "segment"], orient="row"
    )


SHAPES = {"snapshots": as_snapshots, "movements": as_movements, "subscriptions": as_subscriptions}


def nrr_json(frame: pl.DataFrame, shape: str, config: Config, opts: RunOptions) -> str:
    loaded = load_frame(frame, shape=shape)
    return to_json(compute("nrr", loaded, config, opts))


def ledger_rows(frame: pl.DataFrame, shape: str, config: Config, opts: RunOptions) -> int:
    loaded = load_frame(frame, shape=shape)
    return MetricRun(loaded, config, opts).ledger.collect().height


@pytest.mark.slow
@SETTINGS
@given(
    h=histories(),
    shape=st.sampled_from(sorted(SHAPES)),
    grain=st.sampled_from(list(rc.Grain)),
    method=st.sampled_from(list(rc.Method)),
    window=st.integers(1, 13),
    by=st.sampled_from([(), ("segment",), ("acv_band",), ("segment", "arr_stage")]),
    grace=st.integers(0, 2),
    reactivation_window=st.sampled_from([None, 0, 2]),
    k=st.integers(2, 5),
)
def test_batched_nrr_json_is_byte_identical(
    h: dict,
    shape: str,
    grain: rc.Grain,
    method: rc.Method,
    window: int,
    by: tuple[str, ...],
    grace: int,
    reactivation_window: int | None,
    k: int,
) -> None:
    frame = SHAPES[shape](h)
    config = Config(policies=Policies(churn_grace=grace, reactivation_window=reactivation_window))
    opts = RunOptions(grain=grain, method=method, window=window, by=by)
    with rows_per_batch(None):
        whole = nrr_json(frame, shape, config, opts)
        rows = min(ledger_rows(frame, shape, config, opts), frame.height)
    # k parts of the input rows (snapshots, movements), k batches of the ledger rows
    with rows_per_batch(max(1, math.ceil(rows / k))):
        batched = nrr_json(frame, shape, config, opts)
    assert batched == whole


@pytest.mark.slow
@SETTINGS
@given(
    h=histories(),
    shape=st.sampled_from(sorted(SHAPES)),
    grain=st.sampled_from(list(rc.Grain)),
    window=st.integers(1, 13),
    per_batch=st.integers(1, 20),
)
def test_batched_returns_excluded_and_variants_agree(
    h: dict, shape: str, grain: rc.Grain, window: int, per_batch: int
) -> None:
    """count_returns=False (the variants' "returns excluded") in batches, frame and JSON."""
    frame = SHAPES[shape](h)
    ledger = rc.ledger_from_frame(frame, shape=shape)
    opts = RunOptions(grain=grain, window=window, by=("segment",))
    with rows_per_batch(None):
        whole = retention(ledger, grain=grain, window=window, count_returns=False, by=["segment"])
        whole_json = to_json(variants_result(load_frame(frame, shape=shape), Config(), opts))
    with rows_per_batch(per_batch):
        batched = retention(ledger, grain=grain, window=window, count_returns=False, by=["segment"])
        batched_json = to_json(variants_result(load_frame(frame, shape=shape), Config(), opts))
    assert batched.equals(whole, null_equal=True)
    assert batched_json == whole_json


def test_hand_example_two_batches_add_up() -> None:
    """The README's example counted as two batches, A and C, then B and D.

    At 2026-01 the 12-month cohort is the accounts with ARR at the end of 2025-01:
    A 1,000.00, B 2,000.00, C 1,000.00, D 500.00; at the end of 2026-01 they have
    A 1,500.00, B 1,500.00, C 800.00 (it came back), D 0 (churned).

    batch A, C: 2 logos, start 2,000.00, end 1,500 + 800 = 2,300.00,
                kept min(1,000, 1,500) + min(1,000, 800) = 1,800.00, 2 still paying
    batch B, D: 2 logos, start 2,500.00, end 1,500 + 0 = 1,500.00,
                kept min(2,000, 1,500) + min(500, 0) = 1,500.00, 1 still paying
    added:      4 logos, start 4,500.00, end 3,800.00, kept 3,300.00, 3 paying:
                NRR 3,800 / 4,500, GRR 3,300 / 4,500, logo retention 3 / 4.
    """
    ledger = rc.build_ledger(rc.load(str(ROOT / "examples/tiny_movements.csv")))
    assert ledger.accounts is not None
    code = dict(zip(ledger.accounts["account"], ledger.accounts["account_id"], strict=True))
    periods = reporting_periods(ledger, rc.Grain.month)

    def sums(names: list[str]) -> pl.DataFrame:
        part = ledger.frame.filter(pl.col("account_id").is_in([code[n] for n in names]))
        return retention_sums(part, periods, window=12, method=rc.Method.cohort, by=[])

    ac, bd = sums(["A", "C"]), sums(["B", "D"])
    cols = ["cohort_logos", "cohort_start_arr", "_cohort_end_arr", "_cohort_min_arr",
            "_retained_logos"]  # fmt: skip
    assert ac.filter(pl.col("period") == "2026-01").select(cols).row(0) == (
        2, 200_000, 230_000, 180_000, 2,
    )  # fmt: skip
    assert bd.filter(pl.col("period") == "2026-01").select(cols).row(0) == (
        2, 250_000, 150_000, 150_000, 1,
    )  # fmt: skip
    out = retention_finish(add_batches([ac, bd], ["period"]), ledger, periods, window=12, by=[])
    row = out.filter(pl.col("period") == "2026-01").row(0, named=True)
    assert (row["cohort_logos"], row["cohort_start_arr"], row["_cohort_end_arr"]) == (
        4, 450_000, 380_000,
    )  # fmt: skip
    assert (row["_cohort_min_arr"], row["_retained_logos"]) == (330_000, 3)
    assert (row["nrr"], row["grr"], row["logo_retention"]) == (3_800 / 4_500, 3_300 / 4_500, 0.75)
    # E and F (not in the cohort) add nothing: the two batches are the whole figure
    assert out.equals(retention(ledger, window=12), null_equal=True)


SEVERAL = """date,account_id,arr,segment
2025-01-31,A,100.00,SMB
2025-01-10,B,50.00,ENT
2025-01-20,B,60.00,ENT
2025-02-28,A,110.00,SMB
2025-02-28,B,60.00,MM
2025-02-05,C,70.00,SMB
2025-02-25,C,75.00,SMB
2025-04-30,A,120.00,SMB
2025-04-30,C,75.00,SMB
2025-04-30,D,10.00,ENT
2025-05-31,A,120.00,SMB
2025-05-31,B,80.00,ENT
2025-05-31,D,10.00,ENT
"""


@pytest.mark.parametrize("grace", [0, 1])
def test_parts_add_up_the_whole_file_warnings(
    grace: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several snapshots in a month (B, C), a month with none (2025-03) and a bridged
    gap (churn_grace 1: B's March) are counted over the whole file, not per part."""
    path = tmp_path / "several.csv"
    path.write_text(SEVERAL)
    config = Config(policies=Policies(churn_grace=grace))
    opts = RunOptions(window=1, by=("segment",))
    monkeypatch.delenv(ENV_BATCH_ROWS, raising=False)
    whole = to_json(compute("nrr", rc.load(str(path)), config, opts))
    assert "2 account-period(s) have several snapshots" in whole
    assert "no snapshots are dated in 1 period(s): 2025-03" in whole
    for rows in (1, 2, 3, 5):
        monkeypatch.setenv(ENV_BATCH_ROWS, str(rows))
        assert to_json(compute("nrr", rc.load(str(path)), config, opts)) == whole


def test_a_part_error_is_the_whole_file_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Negative ARR found in one part: the run says what the whole-file run says."""
    path = tmp_path / "negative.csv"
    path.write_text(
        "date,account_id,type,amount\n2025-01-05,A,new,100.00\n2025-01-06,B,new,50.00\n"
        "2025-02-06,B,contraction,-20.00\n2025-03-06,C,new,10.00\n"
    )
    said = []
    for rows in (None, 1, 2):
        loaded = rc.load(str(path))
        # B's cut made larger than its ARR after the load's checks: -150.00 at 2025-02
        cut = (pl.col("account_id").cast(pl.String) == "B") & (pl.col("type") == "contraction")
        loaded.frame = loaded.frame.with_columns(
            amount=pl.when(cut).then(pl.lit(-20_000, pl.Int64)).otherwise("amount")
        )
        with rows_per_batch(rows), pytest.raises(rc.InputError) as err:
            compute("nrr", loaded, Config(), RunOptions())
        said.append([str(err.value), *err.value.lines()])
    assert any("negative ARR" in line for line in said[0]), said[0]
    assert said[0] == said[1] == said[2]


def test_batches_cut_between_accounts() -> None:
    """Batches hold whole accounts, in ledger order, and cover every row once."""
    ledger = rc.build_ledger(rc.load(str(ROOT / "examples/saas_snapshots.csv")))
    whole = ledger.collect()
    parts = [p.collect() for p in account_batches(ledger, ["account_id", "period", "arr"],
                                                  per_batch=1000)]  # fmt: skip
    assert len(parts) == batch_count(whole.height, 1000) == 5
    assert pl.concat(parts).equals(whole.select("account_id", "period", "arr"))
    for before, after in itertools.pairwise(parts):
        assert before["account_id"][-1] < after["account_id"][0]
    assert len(account_batches(ledger, ["account_id"], per_batch=whole.height)) == 1


def test_batch_rows_knob(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_BATCH_ROWS, raising=False)
    assert batch_rows() == BATCH_ROWS
    monkeypatch.setenv(ENV_BATCH_ROWS, "12")
    assert batch_rows() == 12
    for junk in ("0", "-3", "many", ""):  # not a row count: the default (same figures anyway)
        monkeypatch.setenv(ENV_BATCH_ROWS, junk)
        assert batch_rows() == BATCH_ROWS
    assert batch_count(0, 10) == 1
    assert batch_count(10, 10) == 1
    assert batch_count(11, 10) == 2


@pytest.mark.parametrize(
    "args",
    [
        "nrr examples/saas_snapshots.csv --by segment --grain quarter -f json",
        "nrr examples/saas_movements.csv --method bridge --by region -f json",
        "nrr examples/saas_subscriptions.csv --by acv_band --window 6 -f json",
        "report examples/saas_movements.csv --grain quarter -f json",
    ],
)
def test_cli_output_is_the_same_in_batches(args: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv(ENV_BATCH_ROWS, raising=False)
    whole = CliRunner().invoke(app, args.split())
    assert whole.exit_code == 0, whole.stderr
    monkeypatch.setenv(ENV_BATCH_ROWS, "700")
    batched = CliRunner().invoke(app, args.split())
    assert batched.exit_code == 0, batched.stderr
    assert batched.stdout == whole.stdout


def _categorical(loaded: rc.Loaded) -> rc.Loaded:
    """``loaded`` with the fast reader's kind of ids (category codes)."""
    loaded.frame = loaded.frame.with_columns(pl.col("account_id").cast(pl.Categorical))
    return loaded


@pytest.mark.slow
@SETTINGS
@given(
    h=histories(),
    shape=st.sampled_from(["snapshots", "movements"]),
    order=st.sampled_from(["accounts", "dates", "shuffled"]),
    categorical=st.booleans(),
    by=st.sampled_from([(), ("segment",)]),
    grace=st.integers(0, 1),
    k=st.integers(2, 5),
    seed=st.integers(0, 2**16),
)
def test_parts_in_any_row_order_are_byte_identical(
    h: dict,
    shape: str,
    order: str,
    categorical: bool,
    by: tuple[str, ...],
    grace: int,
    k: int,
    seed: int,
) -> None:
    """Rows account by account (slices), by date or shuffled (filters), ids as text or
    category codes: the parts give the bytes of one run."""
    frame = SHAPES[shape](h)
    if order == "dates":
        frame = frame.sort("date", maintain_order=True)
    elif order == "shuffled":
        frame = frame.sample(fraction=1.0, shuffle=True, seed=seed)
    config = Config(policies=Policies(churn_grace=grace))
    opts = RunOptions(window=3, by=by)

    def run() -> str:
        loaded = load_frame(frame, shape=shape)
        return to_json(
            compute("nrr", _categorical(loaded) if categorical else loaded, config, opts)
        )

    with rows_per_batch(None):
        whole = run()
    with rows_per_batch(max(1, math.ceil(frame.height / k))):
        assert run() == whole


def _parts_of(ids: list[str], parts: int, *, categorical: bool = False) -> list[list[str]]:
    frame = pl.DataFrame({"account_id": ids, "_line": range(2, len(ids) + 2)})
    if categorical:
        frame = frame.with_columns(pl.col("account_id").cast(pl.Categorical))
    return [p.get_column("account_id").cast(pl.String).to_list()
            for p in account_parts(frame, parts)]  # fmt: skip


@pytest.mark.parametrize("categorical", [False, True])
def test_account_parts_cut_runs_into_slices(categorical: bool) -> None:
    """Rows account by account: slices cut at an account's first row, in file order."""
    ids = ["b"] * 3 + ["a"] * 2 + ["d"] + ["c"] * 4
    assert account_runs(pl.Series(ids)) is not None
    assert account_runs(pl.Series(ids)).to_list() == [0, 3, 5, 6]  # type: ignore[union-attr]
    assert _parts_of(ids, 2, categorical=categorical) == [ids[:5], ids[5:]]
    # a cut inside a run moves to the next account's first row (2 -> 3)
    assert _parts_of(ids, 3, categorical=categorical) == [ids[:3], ids[3:6], ids[6:]]
    # targets rows 2, 5 and 7: 7 is inside c's run, the last (no cut after it)
    assert _parts_of(ids, 4, categorical=categorical) == [ids[:3], ids[3:5], ids[5:]]
    assert _parts_of(ids, 50, categorical=categorical) == [ids[:3], ids[3:5], ids[5:6], ids[6:]]
    assert _parts_of(ids, 1, categorical=categorical) == [ids]
    assert _parts_of(["a"], 4, categorical=categorical) == [["a"]]


@pytest.mark.parametrize("categorical", [False, True])
def test_account_parts_of_scattered_rows_keep_accounts_whole(categorical: bool) -> None:
    """An account whose rows are apart (here a and b): no slices; each account in one part."""
    ids = ["a", "b", "a", "c", "b", "d", "d", "a"]
    assert account_runs(pl.Series(ids)) is None
    parts = _parts_of(ids, 3, categorical=categorical)
    assert sorted(i for p in parts for i in p) == sorted(ids)  # every row once
    for name in set(ids):
        holding = [p for p in parts if name in p]
        assert len(holding) == 1
        assert holding[0].count(name) == ids.count(name)


def test_a_part_with_category_codes_names_its_negative_account(tmp_path: Path) -> None:
    """A part keeps the ids' category codes (no accounts table): an error still names the account."""
    from dataclasses import replace

    from retention_cli.calendar import FiscalCalendar
    from retention_cli.ledger import build_ledger_part, ledger_span

    path = tmp_path / "negative.csv"
    path.write_text(
        "date,account_id,type,amount\n2025-01-05,A,new,100.00\n2025-01-06,B,new,50.00\n"
        "2025-02-06,B,contraction,-20.00\n2025-03-06,C,new,10.00\n"
    )
    loaded = _categorical(rc.load(str(path)))
    cut = (pl.col("account_id").cast(pl.String) == "B") & (pl.col("type") == "contraction")
    loaded.frame = loaded.frame.with_columns(  # after the load's checks
        amount=pl.when(cut).then(pl.lit(-20_000, pl.Int64)).otherwise("amount")
    )
    calendar, config = FiscalCalendar(), Config()
    span = ledger_span(loaded, calendar, config)
    part = replace(loaded, frame=loaded.frame.slice(1, 2))  # B alone
    with pytest.raises(rc.InputError) as err:
        build_ledger_part(part, calendar, config=config, dimensions=[], span=span)
    assert "account 'B' has negative ARR (-150.00)" in str(err.value.lines())
    ledger, _ = build_ledger_part(
        replace(loaded, frame=loaded.frame.slice(0, 1)), calendar, config=config, dimensions=[],
        span=span,
    )  # fmt: skip
    assert ledger.accounts is None
    assert ledger.collect().get_column("arr").to_list() == [10_000, 10_000, 10_000]
