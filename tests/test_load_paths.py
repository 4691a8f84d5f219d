"""The load path's shortcuts give what the detailed checks give.

The one-pass reader checks an id, date or dimension once per distinct text and
maps the values back; the frame checks (movement states, repeated snapshots)
take one cheap pass and run the detailed check only when it fires.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from retention_cli.errors import InputError
from retention_cli.inputs import _runs, _states_agree, fast_load, parse_table, read_table
from retention_cli.inputs.checks import movement_state_problems
from retention_cli.inputs.read import LINE


def full(path: Path) -> pl.DataFrame:
    raw, source = read_table(str(path))
    return parse_table(raw, source).frame


@pytest.mark.parametrize(
    "text",
    [
        # padded ids and dimensions, rows out of order, one date written twice
        "date,account_id,segment,arr\n2025-02-28, a ,SMB ,5\n2025-01-31,b, Ent,7\n"
        "2025-01-31,a,SMB,5\n2025-02-28,b,,0\n",
        "date,account_id,type,amount,segment\n2025-03-05,b,new,7,Ent\n"
        "2025-01-05,a ,new,100.5, SMB\n2025-02-05,a,expansion,20,SMB\n",
        "account_id,start_date,end_date,arr\n a,2025-01-01,,100\nb,2025-02-01,2025-05-01,50.5\n"
        "a,2025-03-01,2025-04-01,1\n",
    ],
)
def test_fast_reader_equals_the_full_parser(tmp_path: Path, text: str) -> None:
    path = tmp_path / "f.csv"
    path.write_text(text)
    fast = fast_load(str(path), columns=None, shape=None, separator=None)
    assert fast is not None
    assert fast.frame.schema["account_id"] == pl.Categorical
    got = fast.frame.with_columns(pl.col(pl.Categorical).cast(pl.String))
    assert_frame_equal(got, full(path))


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ("date,account_id,arr\n2025-01-31,a,1\n2025-01-31,b,1\n2025-01-31,a,2\n", "duplicate_snapshot"),
        ("date,account_id,arr\n2025-01-31,a,1\n2025-01-31,a,2\n", "duplicate_snapshot"),
        ("date,account_id,arr\n2025-01-31,a,1\n2025-02-31,a,2\n", "bad_date"),
        ("date,account_id,arr\n2025-01-31,a\x00,1\n", "nul_in_id"),
        ("date,account_id,arr,segment\n2025-01-31,a,1,S\n2025-02-28, ,2,S\n", "missing_value"),
        ("date,account_id,type,amount\n2025-02-05,a,new,5\n2025-01-05,a,new,5\n", "new_with_arr"),
        ("date,account_id,type,amount\n2025-01-05,a,new,5\n2025-01-05,b,churn,5\n", "churn_without_arr"),
        ("account_id,start_date,end_date,arr\na,2025-01-01,,1\nb,2025-01-01,,1\na,2025-01-01,,1\n",
         "duplicate_row"),
    ],
)  # fmt: skip
def test_each_shortcut_still_finds_the_problem(tmp_path: Path, text: str, check: str) -> None:
    path = tmp_path / "f.csv"
    path.write_text(text)
    from retention_cli.inputs import load

    with pytest.raises(InputError) as err:
        load(str(path))
    assert check in {p.check for p in err.value.problems}


@pytest.mark.parametrize("batch", range(10))
def test_running_arr_in_one_pass_agrees_with_the_detailed_check(batch: int) -> None:
    """200 random logs in 10 batches (the quick suite samples the first: conftest.SAMPLED)."""
    rng = random.Random(17 + batch)
    types = ["new", "expansion", "contraction", "churn", "reactivation"]
    for trial in range(20):
        n = rng.randint(1, 30)
        accounts = [rng.choice("abcd") for _ in range(n)]
        if trial % 2:
            accounts.sort()
        frame = pl.DataFrame(
            {
                "account_id": accounts,
                "date": [rng.randint(0, 5) for _ in range(n)],
                "type": [rng.choice(types) for _ in range(n)],
                "amount": [rng.choice([-5, -3, 3, 5, 8]) for _ in range(n)],
                LINE: list(range(2, n + 2)),
            },
            schema_overrides={"date": pl.Date},
        )
        if trial % 3 == 0:
            frame = frame.sort("account_id", "date", LINE)
        expected = movement_state_problems(frame).height == 0
        assert _states_agree(frame) == expected, frame
        cats = frame.with_columns(pl.col("account_id").cast(pl.Categorical))
        assert _states_agree(cats) == expected, frame


def test_runs_say_whether_rows_are_grouped_and_ordered() -> None:
    def runs(accounts: list[str], days: list[int], *, strict: bool = True) -> bool:
        frame = pl.DataFrame({"account_id": accounts, "date": days})
        return _runs(frame.with_columns(pl.col("date").cast(pl.Date)), "date", strict=strict)

    assert runs(["a", "a", "b"], [1, 2, 1])
    assert not runs(["a", "b", "a"], [1, 1, 2])  # a comes back
    assert not runs(["a", "a"], [1, 1])
    assert runs(["a", "a"], [1, 1], strict=False)
    assert not runs(["a", "a"], [2, 1], strict=False)


def test_preset_signatures_are_the_presets_columns() -> None:
    from retention_cli.inputs import presets

    full = tuple(
        (name, frozenset(presets._norm(h) for h in presets.data(name).get("columns", {}).values()))
        for name in presets.names()
    )
    assert presets._signatures() == full
    # the shipped index is what the YAML says (regenerate: write presets.column_index())
    index = json.loads(presets._dir().joinpath(presets.INDEX).read_text(encoding="utf-8"))
    assert index == presets.column_index(), "inputs/presets/index.json is stale"
