"""``explain`` of a cohort metric reads its accounts' dimensions from the input at the window
start (``metrics.explain.dimensions_at``): the same rows as a ledger carrying every dimension."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest

import retention_cli as rc
from retention_cli.config import Config
from retention_cli.errors import UsageError
from retention_cli.inputs import Loaded
from retention_cli.metrics.bridge import reporting_periods
from retention_cli.metrics.explain import explain
from retention_cli.service import RunOptions, explain_result

SEGMENTS = ("SMB", "Mid", "Ent", None)
REGIONS = ("EU", "US", None)


def _snapshots(seed: int, *, blanks: bool = True) -> pl.DataFrame:
    """Snapshots over a year: gaps, returns, several in a month, dimensions that change or
    go blank, rows in no particular order."""
    rng = random.Random(seed)
    rows = []
    for a in range(40):
        months = sorted(rng.sample(range(12), rng.randint(1, 12)))
        for m in months:
            for d in rng.sample(range(1, 29), rng.choice((1, 1, 1, 2))):  # at times two a month
                day = dt.date(2024 + (m // 12), m % 12 + 1, d)
                rows.append(
                    {
                        "date": day.isoformat(),
                        "account_id": f"acct-{a:02d}",
                        "arr": f"{rng.choice((0, 100, 250, 900, 1200))}.{rng.randint(0, 99):02d}",
                        "segment": rng.choice(SEGMENTS if blanks else SEGMENTS[:-1]),
                        "region": rng.choice(REGIONS),
                    }
                )
    rng.shuffle(rows)
    return pl.DataFrame(rows)


def _movements(seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    rows = []
    for a in range(30):
        arr, seen = 0, False
        for m in sorted(rng.sample(range(14), rng.randint(1, 8))):
            if arr == 0:
                kind, amount = ("reactivation" if seen else "new"), rng.choice((300, 700))
            else:
                kind = rng.choice(("expansion", "contraction", "churn"))
                amount = {"expansion": 200, "contraction": -100, "churn": -arr}[kind]
            arr, seen = arr + amount, True
            day = dt.date(2024 + m // 12, m % 12 + 1, rng.randint(1, 28))  # one a month
            rows.append(
                {
                    "date": day.isoformat(),
                    "account_id": f"m{a}",
                    "type": kind,
                    "amount": f"{amount}.00",
                    "segment": rng.choice(SEGMENTS),
                }
            )
    rng.shuffle(rows)
    return pl.DataFrame(rows)


def _reference(loaded: Loaded, period: str, metric: str, where: dict[str, str]) -> pl.DataFrame:
    """The rows from a ledger that carries every dimension through every month."""
    led = rc.build_ledger(loaded)
    return explain(led, period=period, metric=metric, window=3, where=where)


def _check(data: pl.DataFrame, shape: str, where: dict[str, str] | None = None) -> int:
    loaded = rc.load_frame(data, shape=shape)
    led = rc.build_ledger(loaded)
    checked = 0
    for p in reporting_periods(led, rc.Grain.month).iter_rows(named=True):
        if p["_last"] - 3 < led.first_period:
            continue
        for metric in ("nrr", "grr"):
            opts = RunOptions(window=3)
            try:
                got = explain_result(
                    loaded, Config(), opts, period=p["period"], metric=metric, where=where
                )
            except UsageError:  # no account in that segment then: none in the ledger's either
                assert _reference(loaded, p["period"], metric, where or {}).height == 0
                continue
            want = explain(led, period=p["period"], metric=metric, window=3, where=where)
            assert got.frame.equals(want), (shape, p["period"], metric)
            assert got.options["dimensions"] == list(led.dimensions)
            checked += got.frame.height
    return checked


@pytest.mark.parametrize("seed", range(4))
def test_snapshot_dimensions_as_the_ledger_carries_them(seed: int) -> None:
    assert _check(_snapshots(seed), "snapshots") > 0


@pytest.mark.parametrize("seed", range(2))
def test_without_blank_values(seed: int) -> None:
    assert _check(_snapshots(seed, blanks=False), "snapshots") > 0


@pytest.mark.parametrize("seed", range(2))
def test_restricted_to_a_segment(seed: int) -> None:
    _check(_snapshots(seed), "snapshots", where={"segment": "SMB"})


@pytest.mark.parametrize("seed", range(3))
def test_movement_dimensions_as_the_ledger_carries_them(seed: int) -> None:
    assert _check(_movements(seed), "movements") > 0


def test_subscription_dimensions_as_the_ledger_carries_them() -> None:
    data = pl.read_csv("examples/saas_subscriptions.csv", infer_schema=False)
    assert _check(data, "subscriptions") > 0
