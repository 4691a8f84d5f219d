"""``churn_grace``: ``ledger.bridge_gaps`` against a month-by-month reading of the rule."""

from __future__ import annotations

import random

import polars as pl
import pytest

from retention_cli.ledger import bridge_gaps


def _by_hand(accounts: list[list[int]], grace: int) -> tuple[list[int], int]:
    """Each run of at most ``grace`` zero months between two months with ARR gets the ARR
    of the month before it."""
    out, gaps = [], 0
    for months in accounts:
        filled = list(months)
        i = 0
        while i < len(months):
            if months[i] == 0 and i > 0 and months[i - 1] > 0:
                j = i
                while j < len(months) and months[j] == 0:
                    j += 1
                if j < len(months) and j - i <= grace:
                    filled[i:j] = [months[i - 1]] * (j - i)
                    gaps += 1
                i = j
            else:
                i += 1
        out += filled
    return out, gaps


def _dense(accounts: list[list[int]]) -> pl.DataFrame:
    ids = [a for a, months in enumerate(accounts) for _ in months]
    periods = [p for months in accounts for p in range(len(months))]
    values = [v for months in accounts for v in months]
    return pl.DataFrame(
        {"account_id": ids, "period": periods, "value": values, "segment": ["x"] * len(ids)},
        schema={"account_id": pl.UInt32, "period": pl.Int32, "value": pl.Int64,
                "segment": pl.String},
    )  # fmt: skip


HAND = [
    [0, 0, 5],  # zeros before the first ARR: not a gap
    [5, 0, 5],
    [5, 0, 0, 7],
    [5, 0, 0, 0, 7],
    [5, 0],  # never back
    [0],
    [3, 0, 4, 0, 0, 9, 0],
    [8],
]


@pytest.mark.parametrize("grace", [1, 2, 3, 12])
def test_hand_made_accounts(grace: int) -> None:
    want, gaps = _by_hand(HAND, grace)
    got, n = bridge_gaps(_dense(HAND).lazy(), grace)
    frame = got.collect()
    assert frame["value"].to_list() == want
    assert n == gaps
    assert frame.columns == ["account_id", "period", "value", "segment"]


@pytest.mark.parametrize("seed", range(6))
def test_random_accounts(seed: int) -> None:
    rng = random.Random(seed)
    accounts = [
        [rng.choice((0, 0, 100, 250)) for _ in range(rng.randint(1, 14))] for _ in range(300)
    ]
    for grace in (1, 2, 4):
        want, gaps = _by_hand(accounts, grace)
        got, n = bridge_gaps(_dense(accounts).lazy(), grace)
        assert got.collect()["value"].to_list() == want
        assert n == gaps
