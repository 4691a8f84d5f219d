"""Fiscal calendars: base periods (fiscal months), their dates and labels (SPEC §6).

A base period is identified by an integer *period index*:
``fiscal_start_year * 12 + fiscal_month`` with ``fiscal_month`` in 0..11, so
consecutive fiscal months have consecutive indexes and a quarter or a year is
a run of 3 or 12 indexes. A reporting period at a longer grain is identified by
the index of its last fiscal month.
"""

from __future__ import annotations

import calendar as _stdcal
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from retention_cli.errors import UsageError
from retention_cli.options import Grain

if TYPE_CHECKING:
    from retention_cli.config import FiscalYear

_MONTH_LABEL = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER_LABEL = re.compile(r"^FY(\d{4})-?Q([1-4])$", re.IGNORECASE)
_YEAR_LABEL = re.compile(r"^FY(\d{4})$", re.IGNORECASE)
EARLIEST = dt.date(1000, 1, 1)
"""The first day a date in the data or an option may be: windows and the period
before the first reach back from it, so it keeps well inside what Python's dates
can hold. The last day depends on the calendar (:attr:`FiscalCalendar.latest`)."""
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _fiscal_year() -> FiscalYear:
    """The default fiscal year (Pydantic imported only when a calendar is built without one)."""
    from retention_cli.config import FiscalYear

    return FiscalYear()


@dataclass(frozen=True)
class FiscalCalendar:
    """A fiscal calendar: standard, or a week calendar (4-4-5, 4-5-4, 5-4-4).

    In the standard calendar fiscal months are calendar months; in a week
    calendar they are whole weeks, and a 53-week year puts its extra week in
    the last month. Labels name a fiscal month by its
    nominal calendar month (the month it stands for), in either kind.

    Parameters
    ----------
    fiscal_year
        The ``fiscal_year`` section of the config (start month and label style).
    """

    fiscal_year: FiscalYear = field(default_factory=_fiscal_year)

    @property
    def _offset(self) -> int:
        return self.fiscal_year.start_month - 1

    @property
    def latest(self) -> dt.date:
        """The last day a date in the data or an option may be.

        The fiscal year around it (and a week calendar's year end, found from the
        next year) must still end inside what Python's dates can hold (the year 9999).
        """
        if self.fiscal_year.weeks is not None:
            return dt.date(9997, 12, 31)
        return dt.date(9999 if self._offset == 0 else 9998, 12, 31)

    def check_day(self, day: dt.date, text: str, *, param: str) -> None:
        """Raise a :class:`UsageError` for ``param`` when ``day`` is out of range.

        The range is :data:`EARLIEST` … :attr:`latest`; ``day`` was read from ``text``.
        """
        if not EARLIEST <= day <= self.latest:
            msg = f"{text!r} is outside the dates this calendar can show ({EARLIEST} to {self.latest})"
            raise UsageError(msg, param=param, hint="use a date or period inside that range")

    def _check_months(self, first: int, last: int, text: str, *, param: str) -> None:
        """:meth:`check_day` for the fiscal months ``first`` … ``last`` (period indexes)."""
        if first < self.period_of(EARLIEST) or last > self.period_of(self.latest):
            msg = f"{text!r} is outside the dates this calendar can show ({EARLIEST} to {self.latest})"
            raise UsageError(msg, param=param, hint="use a date or period inside that range")

    # -- week calendars (4-4-5 and friends) -----------------------------------
    @property
    def _weekday(self) -> int:
        """ISO weekday (Monday = 1) that fiscal weeks end on."""
        return WEEKDAYS.index(self.fiscal_year.week_ends_on) + 1

    def year_end(self, start_year: int) -> dt.date:
        """Last day of the week-calendar fiscal year that starts in ``start_year``.

        The anchor is the last day of the month before ``start_month`` (in the
        year the fiscal year ends); the year ends on the last ``week_ends_on``
        on or before it, or (``nearest``) on the one nearest to it.
        """
        month = (self.fiscal_year.start_month - 2) % 12 + 1
        year = start_year + (1 if self.fiscal_year.start_month > 1 else 0)
        anchor = dt.date(year, month, _stdcal.monthrange(year, month)[1])
        back = (anchor.isoweekday() - self._weekday) % 7
        if self.fiscal_year.year_end == "nearest" and back > 3:
            return anchor + dt.timedelta(days=7 - back)
        return anchor - dt.timedelta(days=back)

    def _year_end_expr(self, start_year: pl.Expr) -> pl.Expr:
        month = (self.fiscal_year.start_month - 2) % 12 + 1
        year = start_year + (1 if self.fiscal_year.start_month > 1 else 0)
        anchor = pl.date(year, month, 1).dt.month_end()
        back = (anchor.dt.weekday().cast(pl.Int32) - self._weekday) % 7
        nearest = self.fiscal_year.year_end == "nearest"
        shift = pl.when(back > 3).then(7 - back).otherwise(-back) if nearest else -back
        return anchor + pl.duration(days=shift)

    def _week_month_lookup(self) -> dict[int, int]:
        """Week of the year (0..52) → fiscal month (0..11); week 52 (a 53rd) is in month 11."""
        weeks = self.fiscal_year.weeks or ()
        out, week = {}, 0
        for month, n in enumerate(weeks):
            for _ in range(n):
                out[week] = month
                week += 1
        out[52] = 11
        return out

    # -- dates -> period index ------------------------------------------------
    def period_expr(self, date: pl.Expr) -> pl.Expr:
        """Expression: the period index of the fiscal month containing ``date``."""
        if self.fiscal_year.weeks is None:
            return (
                date.dt.year().cast(pl.Int32) * 12
                + date.dt.month().cast(pl.Int32)
                - (1 + self._offset)
            )
        y = date.dt.year().cast(pl.Int32)
        # the fiscal year ends within days of the anchor month's end: y-1, y or y+1
        start_year = (
            pl.when(date <= self._year_end_expr(y - 1))
            .then(y - 1)
            .when(date <= self._year_end_expr(y))
            .then(y)
            .otherwise(y + 1)
        )
        first_day = self._year_end_expr(start_year - 1) + pl.duration(days=1)
        week = ((date - first_day).dt.total_days() // 7).cast(pl.Int32)
        month = week.replace_strict(self._week_month_lookup(), return_dtype=pl.Int32)
        return start_year * 12 + month

    def period_of(self, day: dt.date) -> int:
        """The period index of the fiscal month containing ``day``."""
        if self.fiscal_year.weeks is None:
            return day.year * 12 + day.month - 1 - self._offset
        y = day.year
        start_year = (
            y - 1 if day <= self.year_end(y - 1) else y if day <= self.year_end(y) else y + 1
        )
        first_day = self.year_end(start_year - 1) + dt.timedelta(days=1)
        return start_year * 12 + self._week_month_lookup()[(day - first_day).days // 7]

    # -- period index -> dates and labels -------------------------------------
    def _calendar_month(self, index: int) -> tuple[int, int]:
        c = index + self._offset
        return c // 12, c % 12 + 1

    def month_start(self, index: int) -> dt.date:
        """First day of fiscal month ``index``."""
        weeks = self.fiscal_year.weeks
        if weeks is None:
            y, m = self._calendar_month(index)
            return dt.date(y, m, 1)
        start_year, month = divmod(index, 12)
        first_day = self.year_end(start_year - 1) + dt.timedelta(days=1)
        return first_day + dt.timedelta(weeks=sum(weeks[:month]))

    def month_end(self, index: int) -> dt.date:
        """Last day of fiscal month ``index``."""
        if self.fiscal_year.weeks is None:
            y, m = self._calendar_month(index)
            return dt.date(y, m, _stdcal.monthrange(y, m)[1])
        if index % 12 == 11:
            return self.year_end(index // 12)
        return self.month_start(index + 1) - dt.timedelta(days=1)

    def grain_last(self, index: int, grain: Grain) -> int:
        """Index of the last fiscal month of the ``grain`` period containing ``index``."""
        n = grain.months
        return index + (n - 1 - (index % 12) % n)

    def grain_last_expr(self, index: pl.Expr, grain: Grain) -> pl.Expr:
        """Expression form of :meth:`grain_last`."""
        n = grain.months
        return index + (n - 1 - (index % 12) % n)

    def grain_first(self, last: int, grain: Grain) -> int:
        """Index of the first fiscal month of the ``grain`` period ending at ``last``."""
        return last - grain.months + 1

    def fiscal_year_name(self, index: int) -> int:
        """The number in ``FY2027`` for fiscal month ``index``."""
        start_year = index // 12
        bump = self.fiscal_year.label == "end" and self._offset != 0
        return start_year + 1 if bump else start_year

    def label(self, last: int, grain: Grain) -> str:
        """Label of the ``grain`` period ending at fiscal month ``last``.

        ``2026-03`` (the calendar month the fiscal month ends in), ``FY2027-Q1``, ``FY2027``.
        """
        if grain is Grain.month:
            y, m = self._calendar_month(last)
            return f"{y:04d}-{m:02d}"
        fy = self.fiscal_year_name(last)
        if grain is Grain.quarter:
            return f"FY{fy}-Q{(last % 12) // 3 + 1}"
        return f"FY{fy}"

    def bounds(self, last: int, grain: Grain) -> tuple[dt.date, dt.date]:
        """First and last day of the ``grain`` period ending at fiscal month ``last``."""
        return self.month_start(self.grain_first(last, grain)), self.month_end(last)

    # -- user text -> dates ---------------------------------------------------
    def resolve(self, text: str, *, param: str = "date_from") -> tuple[dt.date, dt.date]:
        """Turn a date or a period label into the first and last day it covers.

        Accepts ``2026-03-15``, ``2026-03`` (the fiscal month labelled so),
        ``FY2027-Q1`` and ``FY2027``; ``param`` names the parameter the text came
        from, for the error.
        """
        raw = text.strip()
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            day = None
        if day is not None:
            self.check_day(day, text, param=param)
            return day, day
        if m := _MONTH_LABEL.match(raw):
            y, mo = int(m.group(1)), int(m.group(2))
            if 1 <= mo <= 12:
                idx = y * 12 + mo - 1 - self._offset
                self._check_months(idx, idx, text, param=param)
                return self.bounds(idx, Grain.month)
        if m := _QUARTER_LABEL.match(raw):
            first = self._fy_first_index(int(m.group(1))) + (int(m.group(2)) - 1) * 3
            self._check_months(first, first + 2, text, param=param)
            return self.bounds(first + 2, Grain.quarter)
        if m := _YEAR_LABEL.match(raw):
            first = self._fy_first_index(int(m.group(1)))
            self._check_months(first, first + 11, text, param=param)
            return self.bounds(first + 11, Grain.year)
        msg = f"{text!r} is neither a date nor a period label"
        raise UsageError(msg, param=param, hint="use 2026-03-15, 2026-03, FY2027-Q1 or FY2027")

    def _fy_first_index(self, name: int) -> int:
        bump = self.fiscal_year.label == "end" and self._offset != 0
        start_year = name - 1 if bump else name
        return start_year * 12


def fiscal_year_table(cal: FiscalCalendar, year: str, grain: Grain = Grain.month) -> pl.DataFrame:
    """The periods of one fiscal year (``FY2027`` or ``2027``) with their dates.

    Columns: ``period`` (label), ``start``, ``end``, ``fiscal_year``, ``quarter``
    (``Q1``..``Q4``; null at year grain), ``days``.
    """
    text = year.strip()
    if re.fullmatch(r"\d{4}", text):
        text = f"FY{text}"
    if not _YEAR_LABEL.match(text):
        msg = f"{year!r} is not a fiscal year; use FY2027 or 2027"
        raise UsageError(msg, param="year")
    first = cal._fy_first_index(int(text[2:]))
    cal._check_months(first, first + 11, year, param="year")
    rows = []
    for last in range(first + grain.months - 1, first + 12, grain.months):
        start, end = cal.bounds(last, grain)
        rows.append(
            {
                "period": cal.label(last, grain),
                "start": start,
                "end": end,
                "fiscal_year": f"FY{cal.fiscal_year_name(last)}",
                "quarter": None if grain is Grain.year else f"Q{(last % 12) // 3 + 1}",
                "days": (end - start).days + 1,
            }
        )
    schema = {"period": pl.String, "start": pl.Date, "end": pl.Date, "fiscal_year": pl.String,
              "quarter": pl.String, "days": pl.Int64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema)
