"""Fiscal calendars: week calendars against a published retail calendar, and --as-of.

The reference is the National Retail Federation (NRF) 4-5-4 retail calendar
(nrf.com, "4-5-4 Calendar"): the fiscal year starts in February, months have
4, 5 and 4 weeks in each quarter, weeks end on Saturday, and the year ends on
the Saturday nearest January 31; a 53-week year adds the week to January.
NRF names a year by the calendar year it starts in. Its published dates:

    fiscal 2017  Jan 29, 2017 - Feb 3, 2018   53 weeks
    fiscal 2022  Jan 30, 2022 - Jan 28, 2023  52 weeks
    fiscal 2023  Jan 29, 2023 - Feb 3, 2024   53 weeks
    fiscal 2024  Feb 4, 2024  - Feb 1, 2025   52 weeks
    fiscal 2025  Feb 2, 2025  - Jan 31, 2026  52 weeks

and fiscal 2024's months: Feb 4-Mar 2, Mar 3-Apr 6, Apr 7-May 4, May 5-Jun 1,
Jun 2-Jul 6, Jul 7-Aug 3, Aug 4-Aug 31, Sep 1-Oct 5, Oct 6-Nov 2,
Nov 3-Nov 30, Dec 1-Jan 4, Jan 5-Feb 1.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from retention_cli.calendar import FiscalCalendar
from retention_cli.cli import app
from retention_cli.config import FiscalYear
from retention_cli.options import Grain
from tests.conftest import EXAMPLES

D = dt.date
NRF = FiscalCalendar(
    FiscalYear(start_month=2, label="start", calendar="4-5-4", week_ends_on="saturday",
               year_end="nearest")
)  # fmt: skip
NRF_YAML = (
    "fiscal_year: {start_month: 2, label: start, calendar: 4-5-4, week_ends_on: saturday, "
    "year_end: nearest}\n"
)


@pytest.mark.parametrize(
    ("year", "first", "last", "weeks"),
    [
        (2017, D(2017, 1, 29), D(2018, 2, 3), 53),
        (2022, D(2022, 1, 30), D(2023, 1, 28), 52),
        (2023, D(2023, 1, 29), D(2024, 2, 3), 53),
        (2024, D(2024, 2, 4), D(2025, 2, 1), 52),
        (2025, D(2025, 2, 2), D(2026, 1, 31), 52),
    ],
)
def test_nrf_years(year: int, first: D, last: D, weeks: int) -> None:
    jan = NRF.period_of(first) + 11  # the year's last fiscal month
    assert NRF.label(jan, Grain.year) == f"FY{year}"
    assert NRF.bounds(jan, Grain.year) == (first, last)
    assert ((last - first).days + 1) // 7 == weeks
    # the 53rd week goes to the last month: January has 5 weeks in a 53-week year
    assert (NRF.month_end(jan) - NRF.month_start(jan)).days + 1 == (5 if weeks == 53 else 4) * 7


def test_nrf_2024_months_day_for_day() -> None:
    published = [
        (D(2024, 2, 4), D(2024, 3, 2)), (D(2024, 3, 3), D(2024, 4, 6)),
        (D(2024, 4, 7), D(2024, 5, 4)), (D(2024, 5, 5), D(2024, 6, 1)),
        (D(2024, 6, 2), D(2024, 7, 6)), (D(2024, 7, 7), D(2024, 8, 3)),
        (D(2024, 8, 4), D(2024, 8, 31)), (D(2024, 9, 1), D(2024, 10, 5)),
        (D(2024, 10, 6), D(2024, 11, 2)), (D(2024, 11, 3), D(2024, 11, 30)),
        (D(2024, 12, 1), D(2025, 1, 4)), (D(2025, 1, 5), D(2025, 2, 1)),
    ]  # fmt: skip
    first = NRF.period_of(D(2024, 2, 4))
    labels = [NRF.label(first + k, Grain.month) for k in range(12)]
    # a fiscal month is labelled by the calendar month it stands for
    assert labels == [f"2024-{m:02d}" for m in range(2, 13)] + ["2025-01"]
    assert [(NRF.month_start(first + k), NRF.month_end(first + k)) for k in range(12)] == published
    assert NRF.label(first + 2, Grain.quarter) == "FY2024-Q1"
    assert NRF.bounds(first + 2, Grain.quarter) == (D(2024, 2, 4), D(2024, 5, 4))
    assert NRF.resolve("FY2024-Q4") == (D(2024, 11, 3), D(2025, 2, 1))
    assert NRF.resolve("2024-03") == (D(2024, 3, 3), D(2024, 4, 6))


@pytest.mark.parametrize(
    "cal",
    [
        NRF,
        FiscalCalendar(FiscalYear(calendar="4-4-5", week_ends_on="sunday", year_end="last")),
        FiscalCalendar(FiscalYear(start_month=7, calendar="5-4-4", week_ends_on="friday")),
    ],
    ids=["nrf-454", "445-sunday-last", "544-july-friday"],
)  # one case per calendar (about 1-3 s each): pytest-xdist spreads them over its workers
def test_vector_and_scalar_agree_on_every_day(cal: FiscalCalendar) -> None:
    days = pl.date_range(D(2015, 1, 1), D(2031, 12, 31), eager=True)
    got = pl.DataFrame({"d": days}).select(cal.period_expr(pl.col("d")))["d"].to_list()
    assert got == [cal.period_of(d) for d in days.to_list()]
    for d, p in zip(days.to_list()[::37], got[::37], strict=True):
        assert cal.month_start(p) <= d <= cal.month_end(p)


@pytest.mark.parametrize("pattern", ["4-4-5", "4-5-4", "5-4-4"])
def test_week_patterns(pattern: str) -> None:
    cal = FiscalCalendar(FiscalYear(calendar=pattern, week_ends_on="saturday"))
    first = cal.period_of(D(2025, 1, 15)) // 12 * 12
    weeks = [
        ((cal.month_end(first + k) - cal.month_start(first + k)).days + 1) // 7 for k in range(3)
    ]
    assert "-".join(map(str, weeks)) == pattern


def test_calendar_command_with_nrf_config(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "nrf.yaml").write_text(NRF_YAML)
    out = runner.invoke(app, ["calendar", "--year", "FY2023", "-c", "nrf.yaml", "-f", "json"])
    assert out.exit_code == 0, out.stderr
    months = json.loads(out.stdout)["periods"]
    assert (months[0]["start"], months[-1]["end"]) == ("2023-01-29", "2024-02-03")
    assert months[-1]["days"] == 35  # January of a 53-week year


def test_week_calendar_reports_on_real_data(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "nrf.yaml").write_text(NRF_YAML)
    moves = str(EXAMPLES / "saas_movements.csv")
    out = runner.invoke(
        app, ["bridge", moves, "-c", "nrf.yaml", "--grain", "quarter", "-f", "json"]
    )
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["periods"][0]["period"] == "FY2023-Q4"  # Jan 2024 is in NRF fiscal 2023
    for row in doc["periods"]:  # still reconciles to the cent
        total = (row["start_arr"] + row["new_arr"] + row["reactivation_arr"] + row["expansion_arr"]
                 - row["contraction_arr"] - row["churned_arr"])  # fmt: skip
        assert round(total, 2) == row["end_arr"]
    assert doc["definitions"]["calendar"]["calendar"] == "4-5-4"
    assert doc["definitions"]["calendar"]["year_end"] == "nearest"


def test_as_of_leaves_out_later_rows(runner: CliRunner) -> None:
    tiny = str(EXAMPLES / "tiny_movements.csv")
    out = runner.invoke(app, ["bridge", tiny, "--as-of", "2025-10-04", "-f", "json"])
    assert out.exit_code == 0, out.stderr
    periods = json.loads(out.stdout)["periods"]
    # the data runs to 2026-01; as of 4 October 2025, C's return (5 October) is unknown
    assert periods[-1]["period"] == "2025-10"
    assert periods[-1]["end_arr"] == 6500.0  # 1500 + 1500 + 0 + 500 + 3000
    assert "as of 2025-10-04" in out.stderr
    label = runner.invoke(app, ["bridge", tiny, "--as-of", "2025-10", "-f", "json"])
    assert json.loads(label.stdout)["periods"][-1]["end_arr"] == 7300.0  # C back at 800
    early = runner.invoke(app, ["nrr", tiny, "--as-of", "2020-01-01"])
    assert early.exit_code == 2
    assert "no data on or before that day" in early.stderr


def test_bundled_nrf_config_is_the_nrf_calendar() -> None:
    from retention_cli.config import load_config

    cal = FiscalCalendar(load_config(EXAMPLES.parent / "configs" / "nrf-454.yaml").fiscal_year)
    assert cal.resolve("FY2024") == (D(2024, 2, 4), D(2025, 2, 1))
    assert cal.resolve("FY2023") == (D(2023, 1, 29), D(2024, 2, 3))
