"""Money and date parsing rules of SPEC §2.2, value by value."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from retention_cli.inputs import money_cents, parse_date


def cents(values: list[str | None], multiplier: int = 1) -> list[int | None]:
    c, _, _ = money_cents(pl.col("s"), multiplier=multiplier)
    return pl.DataFrame({"s": values}, schema={"s": pl.String}).select(c)["s"].to_list()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.5", 123450),
        ("1,234.50", 123450),
        ("$1,234.50", 123450),
        ("(1,234.50)", -123450),  # parentheses = negative
        ("-1234.5", -123450),
        ("  42 ", 4200),
        ("€ 1,000", 100000),
        ("USD 1,000.10", 100010),
        ("0.125", 13),  # half away from zero, to the cent
        ("-0.125", -13),
        ("1,234,567.89", 123456789),
        ("0.1", 10),  # never binary float: 0.1 is exactly 10 cents
        (".5", 50),
    ],
)
def test_money_formats(text: str, expected: int) -> None:
    assert cents([text]) == [expected]


@pytest.mark.parametrize(
    "text", ["abc", "1.2.3", "12,34", "1,2345.00", "--5", "(-5)", "$", "", "1e", "1 234"]
)
def test_money_rejects(text: str) -> None:
    assert cents([text]) == [None]


def test_mrr_is_arr_times_twelve_before_rounding() -> None:
    # 83.3333 MRR × 12 = 999.9996 ARR -> 1000.00 (rounded once, after multiplying)
    assert cents(["83.3333"], multiplier=12) == [100000]
    # 0.1 × 12 = 1.20 exactly
    assert cents(["0.10"], multiplier=12) == [120]


def test_money_out_of_range_is_null() -> None:
    assert cents(["99999999999999999999999"]) == [None]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-15", dt.date(2026, 3, 15)),
        ("2026-03", dt.date(2026, 3, 1)),
        ("2026-03-15T10:20:30Z", dt.date(2026, 3, 15)),
        ("2026-03-15 23:59:59", dt.date(2026, 3, 15)),
        ("2026-03-15T10:20:30+05:30", dt.date(2026, 3, 15)),
        ("2026-02-30", None),
        ("03/15/2026", None),
        ("15 March 2026", None),
    ],
)
def test_dates(text: str, expected: dt.date | None) -> None:
    out = pl.DataFrame({"s": [text]}).select(parse_date(pl.col("s")))["s"].to_list()
    assert out == [expected]


def test_date_format_option() -> None:
    out = pl.DataFrame({"s": ["03/15/2026"]}).select(
        parse_date(pl.col("s"), date_format="%m/%d/%Y")
    )
    assert out["s"].to_list() == [dt.date(2026, 3, 15)]
