"""The ``retention.yaml`` config: Pydantic models, safe YAML loading, clear errors."""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import re
import reprlib
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from retention_cli.defaults import CANONICAL_COLUMNS as CANONICAL_COLUMNS
from retention_cli.defaults import DEFAULT_CONFIG_NAME as DEFAULT_CONFIG_NAME
from retention_cli.defaults import OPEN_END_DATES as OPEN_END_DATES
from retention_cli.defaults import PER_YEAR as PER_YEAR
from retention_cli.defaults import band_labels as band_labels
from retention_cli.errors import ConfigError

MAX_ALIAS_NODES = 10_000
"""Values that YAML aliases (``*name``) may add to a document when expanded: a
few repeated blocks are fine, an alias bomb ("billion laughs") is refused."""
MAX_SHOWN = 200
"""Characters of a value quoted in an error message; longer values are cut."""
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FiscalYear(_Strict):
    """When the fiscal year starts and how it is named."""

    start_month: int = Field(1, ge=1, le=12, description="month (1-12) the fiscal year starts in")
    label: Literal["end", "start"] = Field(
        "end", description="name the fiscal year by the calendar year it ends in, or starts in"
    )
    calendar: Literal["standard", "4-4-5", "4-5-4", "5-4-4"] = Field(
        "standard",
        description="standard: fiscal months are calendar months; 4-4-5, 4-5-4, 5-4-4: weeks "
        "per month in each quarter",
    )
    week_ends_on: Literal[
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    ] = Field("saturday", description="week calendars: the weekday every fiscal week ends on")
    year_end: Literal["last", "nearest"] = Field(
        "last",
        description="week calendars: the year ends on the last week_ends_on of the month before "
        "start_month, or on the one nearest that month's last day",
    )

    @model_serializer(mode="wrap")
    def _dump(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        if self.calendar == "standard":  # week settings mean nothing here: keep records equal
            data.pop("week_ends_on", None)
            data.pop("year_end", None)
        return data

    @property
    def weeks(self) -> tuple[int, ...] | None:
        """Weeks in each of the 12 fiscal months; None for the standard calendar.

        A 53-week year adds one to the last month.
        """
        if self.calendar == "standard":
            return None
        quarter = tuple(int(n) for n in self.calendar.split("-"))
        return quarter * 4

    def describe(self) -> str:
        """One line for captions, e.g. ``standard calendar, FY starts February, named by end year``."""
        text = (
            f"{self.calendar} calendar, FY starts {MONTH_NAMES[self.start_month - 1]}, "
            f"named by {self.label} year"
        )
        if self.calendar != "standard":
            day, before = self.week_ends_on.capitalize(), MONTH_NAMES[(self.start_month - 2) % 12]
            if self.year_end == "last":
                text += f", year ends on the last {day} of {before}"
            else:
                text += f", year ends on the {day} nearest the end of {before}"
        return text


class Policies(_Strict):
    """Definition policies of SPEC §4 that change how movements are classified."""

    reactivation: Literal["reactivation", "as_new"] = Field(
        "reactivation",
        description="count a returning account as reactivation, or as new",
    )
    reactivation_window: int | None = Field(
        None,
        ge=0,
        description="a return after more than this many fiscal months at zero ARR counts as new "
        "(default: no limit)",
    )
    churn_grace: int = Field(
        0,
        ge=0,
        le=120,
        description="a gap of at most this many fiscal months at zero ARR, then back, is not churn: "
        "the account's ARR is carried through it",
    )

    def describe(self) -> str:
        """One line for captions, e.g. ``returns counted as reactivation``."""
        text = f"returns counted as {self.reactivation.replace('_', ' ')}"
        if self.reactivation_window is not None and self.reactivation == "reactivation":
            text += f" within {self.reactivation_window} month(s) of churn, else as new"
        if self.churn_grace:
            text += f" · gaps of up to {self.churn_grace} month(s) bridged (churn_grace)"
        return text


class Snapshots(_Strict):
    """How snapshot files are read."""

    carry_forward: bool = Field(
        False,
        description="an account missing from a period keeps its last ARR instead of churning",
    )
    combine: Literal["error", "sum"] = Field(
        "error",
        description="two rows of one account on one date with no item_id column: an error "
        "naming both lines (error), or line items whose ARR is summed (sum)",
    )


class Amount(_Strict):
    """What the money column measures (SPEC §2.1, issue 14 §2)."""

    unit: Literal["arr", "mrr"] | None = Field(
        None,
        description="the amount column (movements, or a snapshot/subscription `amount` without an "
        "interval column) is ARR or MRR (MRR is turned into ARR x 12); default: arr, or the "
        "value column's own name (arr/mrr)",
    )
    minor_units: bool = Field(
        False,
        description="amounts are integer minor units (cents): divided by 100, except in "
        "zero-decimal currencies (JPY, KRW, ...), which are never divided",
    )
    blank: Literal["error", "exclude"] = Field(
        "error",
        description="a snapshot or subscription row whose value is blank: an error (error), or "
        "left out and counted as having no recurring revenue (exclude; e.g. a HubSpot deal "
        "with no hs_arr)",
    )


class Billing(_Strict):
    """How a price per billing interval becomes ARR."""

    interval: str | None = Field(
        None,
        description="the billing interval when the file has no interval column, or it is blank "
        "(day, week, month, quarter, year)",
    )
    per_year: dict[str, int] = Field(
        default_factory=lambda: dict(PER_YEAR),
        description="intervals in one year; e.g. {day: 360} reads a daily price as x30 per month",
    )
    interval_count: int = Field(
        1,
        ge=1,
        le=1200,
        description="billing intervals per billing period when the file has no interval_count "
        "column, or it is blank (e.g. interval: month, interval_count: 12 for a 12-month term)",
    )

    @field_validator("per_year", mode="before")
    @classmethod
    def _per_year(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = dict(PER_YEAR)
        for key, n in value.items():
            if str(key) not in PER_YEAR:
                msg = f"unknown interval {shown(key)}; expected one of: {', '.join(PER_YEAR)}"
                raise ValueError(msg)
            if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
                msg = f"{key}: a positive whole number of intervals per year, not {shown(n)}"
                raise ValueError(msg)
            out[str(key)] = n
        return out

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() not in PER_YEAR:
            msg = f"unknown interval {shown(value)}; expected one of: {', '.join(PER_YEAR)}"
            raise ValueError(msg)
        return value.strip().lower() if value is not None else None


class Statuses(_Strict):
    """Which values of the ``status`` column count, and which are excluded.

    A counted status's rows are used; an excluded one's are left out and counted
    by status; any other value is an error, unless ``other: exclude``. Compared
    ignoring case and surrounding spaces.
    """

    count: tuple[str, ...] = Field((), description="statuses whose rows count")
    exclude: tuple[str, ...] = Field((), description="statuses whose rows are left out, counted")
    other: Literal["error", "exclude"] = Field(
        "error", description="a status in neither list: an error naming it, or excluded"
    )

    @field_validator("count", "exclude", mode="before")
    @classmethod
    def _texts(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(str(v).strip().lower() for v in value)
        return value

    def overlap(self) -> set[str]:
        """Statuses named in both lists."""
        return set(self.count) & set(self.exclude)


class Subscriptions(_Strict):
    """How subscription files are read."""

    open_end_dates: tuple[dt.date, ...] = Field(
        OPEN_END_DATES,
        description="end dates that mean 'no end': such a subscription is still active "
        "(an empty list reads every end date literally)",
    )
    ends_after_term: bool = Field(
        False,
        description="each row is one contract term: without an end date (or with no end_date "
        "column) it ends one billing period (interval x interval_count; one year when no "
        "interval) after its start (Salesforce opportunities, HubSpot deals)",
    )


class Limits(_Strict):
    """Bounds on the work one run may do."""

    max_months: int = Field(
        1200,
        ge=1,
        le=12_000,
        description="the most fiscal months the data may span (1,200 = 100 years); a wider "
        "span is an error naming the earliest and latest dates",
    )
    max_input_mb: int = Field(
        2048,
        ge=1,
        description="the most MiB a compressed (.gz) input or standard input may expand to",
    )
    max_expansion: int = Field(
        50,
        ge=1,
        description="past 64 MiB, the most times its own size a .gz input may expand to",
    )


class Economics(_Strict):
    """Unit-economics settings (SPEC §8)."""

    cac_lag: int = Field(
        0,
        ge=0,
        le=60,
        description="reported periods between sales & marketing spend and the logos it wins",
    )
    ltv_cap_years: float = Field(
        5, gt=0, le=100, description="LTV is capped at this many years of ARPA × gross margin"
    )
    gross_margin: float | None = Field(
        None,
        gt=0,
        le=1,
        description="gross margin (fraction) for periods the spend file gives none for",
    )


class Bands(_Strict):
    """The computed dimensions ``acv_band`` and ``arr_stage`` (``--by acv_band``).

    Edges are whole currency units, ascending; each band includes its lower edge
    and excludes its upper one (``12000`` starts the band ``12k-25k``).
    """

    acv: list[int] = Field(
        default_factory=lambda: [12_000, 25_000, 50_000, 100_000, 250_000],
        description="edges of an account's ARR band at the window start (default: SaaS "
        "Capital's ACV bands <12k, 12k-25k, 25k-50k, 50k-100k, 100k-250k, 250k+)",
    )
    arr_stage: list[int] = Field(
        default_factory=lambda: [5_000_000, 25_000_000],
        description="edges of the company's ARR stage per period (default 0-5M, 5M-25M, 25M+)",
    )

    @field_validator("acv", "arr_stage")
    @classmethod
    def _ascending(cls, value: list[int]) -> list[int]:
        if any(v <= 0 for v in value):
            msg = f"band edges must be positive amounts, not {shown(value)}"
            raise ValueError(msg)
        if any(b <= a for a, b in itertools.pairwise(value)):
            msg = f"band edges must be in ascending order without repeats, not {shown(value)}"
            raise ValueError(msg)
        return value


class Distribution(_Strict):
    """``nrr --distribution``: the account-level spread and its small-cohort interval."""

    min_accounts: int = Field(
        30,
        ge=0,
        le=100_000,
        description="a cohort with fewer accounts gets a bootstrap interval on NRR and GRR",
    )
    level: float = Field(0.9, gt=0, lt=1, description="coverage of the bootstrap interval")
    resamples: int = Field(1000, ge=100, le=20_000, description="bootstrap resamples per cohort")
    seed: int = Field(0, ge=0, description="seed of the bootstrap (same seed, same bytes)")


class Fx(_Strict):
    """Currency conversion into one reporting currency.

    Each rate is reporting-currency units per one unit of the currency, e.g.
    ``EUR: 1.0856`` for USD reporting.
    """

    reporting_currency: str = Field(..., description="ISO code every amount is converted to")
    rates: dict[str, Decimal] = Field(default_factory=dict)
    rates_file: str | None = Field(
        None,
        min_length=1,
        description="dated rates: a CSV of date, currency, rate (relative to the config file); "
        "a rate applies from its date until the currency's next one",
    )
    rate_date: Literal["period_end", "service_start"] = Field(
        "period_end",
        description="dated rates: convert each account's ARR at the rates of each period's end "
        "(moves in rates show as fx_impact_arr), or each row once at the rates of its own date "
        "(a snapshot's date, a subscription's start)",
    )
    constant: bool = Field(
        False, description="dated rates: restate every period at one rate set (constant currency)"
    )
    constant_at: dt.date | None = Field(
        None,
        description="constant: the day whose rates restate every period (default: the end of "
        "the data's last month)",
    )

    _base: Path = PrivateAttr(default_factory=Path)
    """The directory a relative ``rates_file`` is read from (the config file's)."""

    @model_validator(mode="after")
    def _dated(self) -> Fx:
        if self.rates_file is None:
            extra = [k for k in ("constant", "constant_at") if k in self.model_fields_set]
            extra += ["rate_date"] if "rate_date" in self.model_fields_set else []
            if extra:
                msg = f"{extra[0]} needs dated rates: add rates_file"
                raise ValueError(msg)
        elif self.rates:
            msg = "give rates or rates_file, not both"
            raise ValueError(msg)
        if self.constant_at is not None and not self.constant:
            msg = "constant_at needs constant: true"
            raise ValueError(msg)
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        if self.rates_file is None:  # static rates: the record is what it always was
            for key in ("rates_file", "rate_date", "constant", "constant_at"):
                data.pop(key, None)
        return data

    @property
    def dated(self) -> bool:
        """True when rates come from a dated ``rates_file``."""
        return self.rates_file is not None

    @property
    def restates(self) -> bool:
        """True when the ledger restates every month at dated rates (fx_impact_arr).

        Each month at its own end's rates (``rate_date: period_end``), or all at one
        rate set (``constant``).
        """
        return self.dated and (self.constant or self.rate_date == "period_end")

    def rates_path(self) -> Path:
        """Where ``rates_file`` is read from."""
        assert self.rates_file is not None
        path = Path(self.rates_file)
        return path if path.is_absolute() else self._base / path

    def based_at(self, base: Path) -> Fx:
        """Read a relative ``rates_file`` from ``base`` (the config file's directory)."""
        self._base = base
        return self

    @field_validator("reporting_currency")
    @classmethod
    def _code(cls, value: str) -> str:
        code = value.strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", code):
            msg = f"{shown(value)} is not a 3-letter currency code"
            raise ValueError(msg)
        return code

    @field_validator("rates", mode="before")
    @classmethod
    def _rates(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = {}
        for code, rate in value.items():
            key = str(code).strip().upper()
            if not re.fullmatch(r"[A-Z]{3}", key):
                msg = f"{shown(code)} is not a 3-letter currency code"
                raise ValueError(msg)
            text = str(rate).strip()  # str(1.0856) == "1.0856": exact, not the binary float
            try:
                dec = Decimal(text)
            except InvalidOperation:
                msg = f"rate for {key} is not a number: {shown(rate)}"
                raise ValueError(msg) from None
            if not dec.is_finite() or dec <= 0:
                msg = f"rate for {key} must be a positive number, not {shown(rate)}"
                raise ValueError(msg)
            if dec.as_tuple().exponent < -12:  # type: ignore[operator]  # kept exactly, or refused
                msg = f"rate for {key} has more than 12 decimals: {shown(rate)}"
                raise ValueError(msg)
            if dec > 10**6:  # cents × rate must fit an exact Decimal(38, 12)
                msg = f"rate for {key} must be at most 1,000,000, not {shown(rate)}"
                raise ValueError(msg)
            out[key] = dec
        return out

    def rate_text(self) -> dict[str, str]:
        """Every known currency's rate as exact text, the reporting currency at 1."""
        return {self.reporting_currency: "1", **{k: str(v) for k, v in self.rates.items()}}


MOVEMENT_TYPE_NAMES = ("new", "expansion", "contraction", "churn", "reactivation")


class Config(_Strict):
    """The whole ``retention.yaml``."""

    preset: str | None = Field(
        None, description="a shipped preset (`retention presets`) whose keys this config extends"
    )
    shape: Literal["movements", "snapshots", "subscriptions"] | None = Field(
        None, description="the input shape, instead of detecting it from the header"
    )
    date_format: str | None = Field(
        None, description="a strftime format for dates that are not ISO (e.g. %m/%d/%Y)"
    )
    delimiter: str | None = Field(
        None, min_length=1, description="field delimiter: one character, or tab (default: detected)"
    )
    sheet: str | None = Field(None, description=".xlsx: the worksheet to read")
    grain: Literal["month", "quarter", "year"] | None = Field(
        None, description="default reporting grain (--grain wins)"
    )
    window: int | None = Field(
        None, ge=1, le=1200, description="default trailing window in fiscal months (--window wins)"
    )
    by: tuple[str, ...] | None = Field(
        None, description="default dimension(s) to break results down by (--by wins)"
    )
    columns: dict[str, str] = Field(default_factory=dict)
    amount: Amount = Field(default_factory=Amount)
    billing: Billing = Field(default_factory=Billing)
    statuses: Statuses | None = None
    cancellation: Literal["at_request", "at_period_end"] = Field(
        "at_request",
        description="with a canceled_at column: revenue stops at the cancellation request "
        "(at_request), or at end_date / period_end (at_period_end)",
    )
    discounts: Literal["forever_only", "all", "none"] = Field(
        "all",
        description="with discount columns: subtract every discount (all), only those whose "
        "discount_duration is forever (forever_only), or none",
    )
    movement_types: dict[str, str] = Field(
        default_factory=dict,
        description="the file's movement type values to the canonical ones "
        "(e.g. new_biz: new); matched ignoring case. In a subscription file they make a "
        "mapped `type` column each line's sign: contraction and churn lines subtract",
    )
    fiscal_year: FiscalYear = Field(default_factory=FiscalYear)
    policies: Policies = Field(default_factory=Policies)
    snapshots: Snapshots = Field(default_factory=Snapshots)
    subscriptions: Subscriptions = Field(default_factory=Subscriptions)
    limits: Limits = Field(default_factory=Limits)
    economics: Economics = Field(default_factory=Economics)
    fx: Fx | None = None
    bands: Bands = Field(default_factory=Bands)
    distribution: Distribution = Field(default_factory=Distribution)
    decimal: Literal["point", "comma"] = Field(
        "point",
        description="the decimal mark of amounts: point (1,234.56) or comma (1.234,56)",
    )
    currency: str | None = Field(
        None,
        min_length=1,
        max_length=8,
        description="shown with money in tables, Markdown, HTML and XLSX: a symbol ($) or a code (USD)",
    )

    @field_validator("currency")
    @classmethod
    def _display_currency(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        if not text or any(not ch.isprintable() or ch.isdigit() for ch in text):
            msg = f"{shown(value)} is not a currency symbol or code (e.g. $ or USD)"
            raise ValueError(msg)
        return text

    @property
    def display_currency(self) -> str | None:
        """The currency human formats show with money.

        ``currency``, else the fx reporting currency, else none.
        """
        if self.currency is not None:
            return self.currency
        return self.fx.reporting_currency if self.fx is not None else None

    @field_validator("by", mode="before")
    @classmethod
    def _by(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("movement_types", mode="before")
    @classmethod
    def _movement_types(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = {}
        for key, canon in value.items():
            target = str(canon).strip().lower()
            if target not in MOVEMENT_TYPE_NAMES:
                msg = (
                    f"{shown(key)} maps to {shown(canon)}, not a movement type; expected one of: "
                    f"{', '.join(MOVEMENT_TYPE_NAMES)}"
                )
                raise ValueError(msg)
            out[str(key).strip().lower()] = target
        return out

    @field_validator("statuses")
    @classmethod
    def _statuses(cls, value: Statuses | None) -> Statuses | None:
        if value is not None and value.overlap():
            both = ", ".join(sorted(value.overlap()))
            msg = f"status(es) in both count and exclude: {both}"
            raise ValueError(msg)
        return value

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key not in CANONICAL_COLUMNS:
                msg = f"unknown canonical column {shown(key)}{_suggest(key, CANONICAL_COLUMNS)}"
                raise ValueError(msg)
        return value


STARTER_CONFIG = """\
# retention.yaml: read from the working directory (or --config FILE).
# Every key is optional; delete what you do not need. `retention --help` lists the commands.

# A vendor export (`retention presets` lists them): its rules fill every key
# this file does not set.
# preset: stripe

# Input options you would otherwise retype (a flag given wins):
# shape: subscriptions    # movements, snapshots or subscriptions (default: detected)
# date_format: "%m/%d/%Y" # for dates that are not ISO
# delimiter: ";"          # default: detected
# grain: quarter          # default reporting grain
# window: 12              # default trailing window, fiscal months
# by: [segment]           # default breakdown

# Your file's headers for the canonical columns, when they differ
# (headers match ignoring case, spaces, hyphens and underscores anyway).
columns:
  # account_id: "Customer ID"
  # date: "Event Date"
  # type: "Movement"
  # amount: "Amount (USD)"
  # arr: "ARR"
  # mrr: "MRR"            # MRR is turned into ARR x 12
  # start_date: "Start"
  # end_date: "End"       # exclusive; empty = still active
  # currency: "Currency"
  # used only when mapped (README "Reading your export"):
  # item_id: "Subscription ID"   # rows of one account and date are line items, summed
  # quantity: "Seats"            # ARR = amount x quantity x per year / interval_count
  # interval: "Billing Period"   # day, week, month, quarter, year, every 3 months
  # status: "Status"             # needs statuses: below

# amount: {unit: mrr, minor_units: false}  # what `amount` means; minor units = integer cents
# billing: {interval: month, interval_count: 12}  # when the file has no interval column(s)
# statuses: {count: [active, past_due], exclude: [trialing]}
# cancellation: at_request    # or at_period_end (with a canceled_at column)

fiscal_year:
  start_month: 1          # 1-12: the month the fiscal year starts in (2 = February)
  label: end              # FY named by the calendar year it ends in (end) or starts in (start)
  calendar: standard      # fiscal months are calendar months; or 4-4-5, 4-5-4, 5-4-4 (weeks)
  # week_ends_on: saturday  # week calendars: the weekday each fiscal week ends on
  # year_end: last          # week calendars: last <weekday> of the month before start_month,
  #                         # or nearest (the one nearest that month's end; NRF retail)

policies:
  reactivation: reactivation   # a returning account counts as reactivation; or as_new
  # reactivation_window: 12    # a return after more than 12 months at zero ARR counts as new
  churn_grace: 0               # months at zero ARR (then back) treated as never having left

snapshots:
  carry_forward: false    # true: an account missing from a month keeps its last ARR
  combine: error          # two rows of one account and date without item_id: error, or sum

subscriptions:
  # end dates that mean "no end" (the subscription stays active); the default list:
  # open_end_dates: [9999-12-31, 9999-12-30, 9999-12-01, 9999-01-01, 4712-12-31, 3000-01-01, 2999-12-31, 2099-12-31]
  # ends_after_term: true  # a row without an end runs one billing period (contract terms)

limits:
  max_months: 1200        # the most fiscal months the data may span (100 years)

economics:
  cac_lag: 0              # reported periods between S&M spend and the logos it wins
  ltv_cap_years: 5        # LTV is at most this many years of ARPA x gross margin
  # gross_margin: 0.78    # for periods the --spend file gives none for

# --by acv_band (an account's ARR band at the window start) and --by arr_stage
# (the company's ARR stage per period): band edges in whole currency units, a
# band holding its lower edge. Defaults: SaaS Capital's ACV bands; 0-5M, 5M-25M, 25M+.
# bands:
#   acv: [12000, 25000, 50000, 100000, 250000]
#   arr_stage: [5000000, 25000000]

# nrr --distribution: cohorts with fewer than min_accounts accounts get a seeded
# bootstrap interval (level) on NRR and GRR; the same seed gives the same bytes.
# distribution:
#   min_accounts: 30
#   level: 0.9
#   resamples: 1000
#   seed: 0

# Convert a `currency` column into one reporting currency (reporting-currency
# units per unit of each currency). A currency without a rate is an error.
# fx:
#   reporting_currency: USD
#   rates:
#     EUR: 1.0856
#     GBP: 1.2650

# Shown with money in tables, Markdown, HTML and XLSX: a symbol ($, €) or a
# code (USD); default: fx's reporting currency when set, else none.
# currency: $
"""
"""What ``retention init`` writes: every section, commented."""


# ----------------------------------------------------------------------------- safe YAML
_SHOW = reprlib.Repr()
_SHOW.maxstring = _SHOW.maxother = MAX_SHOWN
_SHOW.maxlevel, _SHOW.maxlist, _SHOW.maxtuple, _SHOW.maxdict, _SHOW.maxset = 3, 10, 10, 10, 10


def shown(value: Any, limit: int = MAX_SHOWN) -> str:
    """``repr(value)`` for an error message, at most ``limit`` characters.

    The repr is built bounded (never the whole of a huge value), then cut.

    Examples
    --------
    >>> shown("EUR")
    "'EUR'"
    >>> len(shown("x" * 10_000)) <= MAX_SHOWN
    True
    """
    text = _SHOW.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    word = word[:MAX_SHOWN]
    near = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    if near:
        return f"; did you mean {near[0]!r}?"
    return f"; expected one of: {', '.join(choices)}"


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Config
    for part in loc[:-1]:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None
        ann = model.model_fields[part].annotation
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    return model


def _explain(exc: ValidationError, source: str) -> ConfigError:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc)[:MAX_SHOWN] or "(top level)"
        if err["type"] == "extra_forbidden":
            model = _model_at(loc)
            known = list(model.model_fields) if model else []
            lines.append(f"unknown key {shown(key)}{_suggest(str(loc[-1]), known)}")
        elif err["type"] == "literal_error":
            allowed = err.get("ctx", {}).get("expected", "")
            lines.append(f"{key}: {shown(err['input'])} is not allowed; allowed values: {allowed}")
        else:
            msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
            lines.append(f"{key}: {msg[:1].lower() + msg[1:]} (got {shown(err.get('input'))})")
    msg = f"{source}: invalid config: " + "; ".join(lines)
    return ConfigError(msg, hint="run `retention init` to see a commented starter config")


def parse_config(data: Any, *, source: str = "config") -> Config:
    """Validate a mapping (as read from YAML) into a :class:`Config`."""
    if data is None:
        return Config()
    if not isinstance(data, dict):
        msg = f"{source}: the config must be a mapping of keys to values, not {type(data).__name__}"
        raise ConfigError(msg)
    # a section whose keys are all commented out (`columns:` alone) means "the defaults"
    data = {k: v for k, v in data.items() if not (v is None and k in Config.model_fields)}
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, source) from None


MAX_SMALL_FILE = 64 * 1024 * 1024
"""The largest config, baseline or thresholds file read (64 MiB)."""


def read_small_text(path: Path, what: str) -> str:
    """The text of a config-like file (``what``: "config", "baseline", …).

    Only a regular file of at most :data:`MAX_SMALL_FILE` bytes is read, so
    ``/dev/zero`` or a FIFO cannot hang or exhaust memory. A missing file raises
    ``FileNotFoundError`` as ``open`` would.
    """
    import stat

    mode = path.stat().st_mode  # FileNotFoundError propagates
    if not stat.S_ISREG(mode):
        msg = f"{path}: the {what} is not a regular file"
        raise ConfigError(msg, hint=f"give the path of a {what} file")
    if path.stat().st_size > MAX_SMALL_FILE:
        msg = f"{path}: the {what} is larger than {MAX_SMALL_FILE // 2**20} MiB"
        raise ConfigError(msg, hint=f"is this really a {what} file?")
    return path.read_text(encoding="utf-8-sig")


def load_config(path: Path | None) -> Config:
    """Read and validate a YAML config.

    ``path=None`` uses ``retention.yaml`` in the working directory when it
    exists, else the defaults.

    Examples
    --------
    >>> from pathlib import Path
    >>> from retention_cli import load_config
    >>> config = load_config(Path("configs/fiscal-feb.yaml"))
    >>> config.fiscal_year.start_month, config.fiscal_year.describe()
    (2, 'standard calendar, FY starts February, named by end year')
    """
    if path is None:
        default = Path(DEFAULT_CONFIG_NAME)
        if not default.is_file():
            return Config()
        path = default
    try:
        text = read_small_text(path, "config")
    except FileNotFoundError:
        msg = f"{path}: config file not found"
        raise ConfigError(msg, param="config", hint="check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot read config ({exc.__class__.__name__}: {exc})"
        raise ConfigError(msg) from None
    import yaml

    from retention_cli.safeyaml import load_yaml

    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        msg = f"{path}{where}: not valid YAML: {problem}"
        raise ConfigError(msg) from None
    config = parse_config(data, source=str(path))
    if config.fx is not None:  # a relative fx.rates_file is beside the config
        config.fx.based_at(path.parent)
    return config


def __getattr__(name: str) -> Any:
    # the safe YAML loader lives in :mod:`retention_cli.safeyaml`, imported only when
    # a YAML document is read (PyYAML costs start-up time a plain run does not need)
    if name in ("load_yaml", "SafeLoader", "YamlLimitError"):
        from retention_cli import safeyaml

        return getattr(safeyaml, name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
