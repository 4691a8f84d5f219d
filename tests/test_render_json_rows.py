"""The JSON rows written by Polars (``render.json.laid_rows``) are the rows ``json`` writes."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest

from retention_cli.render.json import Laid, document, laid_rows, layout, to_json
from retention_cli.result import Result

CENTS = [0, 1, -1, 5, 10, 50, 99, 100, -100, 105, 110, 12345, -12340, 10**15 - 1, -(10**15 - 1),
         10**14, 999_999_999_999_90, None]  # fmt: skip
TEXT = ["SMB", "é ü 中", 'say "hi"', "back\\slash", "tab\there", "line\nbreak", "\x1b[2J",
        "\x7f del", "\u202e bidi", "},\n      {", "", None]  # fmt: skip


def _result(frame: pl.DataFrame, keys: tuple[str, ...]) -> Result:
    return Result(command="explain", title="t", frame=frame, keys=keys, by=(), input=None,
                  options={}, definitions={}, caption="", head=())  # fmt: skip


def _both(result: Result) -> tuple[str, str]:
    """The document through the fast rows and through ``json`` (the rows as dicts)."""
    return to_json(result), to_json_slow(result)


def to_json_slow(result: Result) -> str:
    from retention_cli.render.json import _JSON_ESCAPES

    return layout(document(result)).translate(_JSON_ESCAPES) + "\n"


def test_money_is_the_float_repr_of_the_cents() -> None:
    rng = random.Random(7)
    cents = CENTS + [rng.randint(-(10**15) + 1, 10**15 - 1) for _ in range(3000)]
    cents += [rng.randint(-(10**6), 10**6) for _ in range(3000)]
    frame = pl.DataFrame({"start_arr": cents}, schema={"start_arr": pl.Int64})
    fast, slow = _both(_result(frame, ("start_arr",)))
    assert fast == slow
    assert isinstance(laid_rows(_result(frame, ("start_arr",))), Laid)


def test_money_too_large_for_15_digits_goes_through_json() -> None:
    frame = pl.DataFrame({"start_arr": [10**15, 123, -(10**17) - 7]})
    fast, slow = _both(_result(frame, ("start_arr",)))
    assert fast == slow


@pytest.mark.parametrize("dtype", [pl.String, pl.Categorical])
def test_text_with_and_without_escapes(dtype: pl.DataType) -> None:
    plain = pl.DataFrame({"segment": ["SMB", "é", None, "Ent"]}, schema={"segment": dtype})
    assert isinstance(laid_rows(_result(plain, ("segment",))), Laid)
    assert _both(_result(plain, ("segment",)))[0] == _both(_result(plain, ("segment",)))[1]
    odd = pl.DataFrame({"segment": TEXT}, schema={"segment": dtype})
    fast, slow = _both(_result(odd, ("segment",)))
    assert fast == slow


def test_every_kind_of_column() -> None:
    frame = pl.DataFrame(
        {
            "period": ["2026-01", "2026-02", "2026-03"],
            "start": [dt.date(2026, 1, 1), None, dt.date(999, 2, 3)],
            "cohort_logos": [3, None, -2],
            "nrr": [0.8444444444444444, None, 1e-7],
            "flag": [True, None, False],
            "start_arr": [150000, -5, None],
            "blank": [None, None, None],
            "u": pl.Series([1, 2, 2**64 - 1], dtype=pl.UInt64),
        }
    )
    keys = tuple(frame.columns)
    fast, slow = _both(_result(frame, keys))
    assert fast == slow


def test_no_rows_and_a_nested_column() -> None:
    empty = pl.DataFrame({"start_arr": []}, schema={"start_arr": pl.Int64})
    assert _both(_result(empty, ("start_arr",)))[0] == _both(_result(empty, ("start_arr",)))[1]
    nested = pl.DataFrame({"start_arr": [1], "l": [[1, 2]]})
    assert isinstance(laid_rows(_result(nested, ("start_arr", "l"))), list)


def test_columns_with_and_without_blanks_side_by_side() -> None:
    frame = pl.DataFrame(
        {
            "account_id": ["a", "b", "c"],
            "segment": pl.Series(["SMB", None, "Ent"], dtype=pl.Categorical),
            "start_arr": [100, 250, 5],
            "end_arr": [None, -250, 10**15],
            "nrr": [1.0, 0.1, None],
            "class": ["x", 'q"uote', "z"],
        }
    )
    result = _result(frame, tuple(frame.columns))
    assert isinstance(laid_rows(result), Laid)
    fast, slow = _both(result)
    assert fast == slow
