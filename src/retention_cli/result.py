"""Results: plain frames plus a small metadata record that every renderer takes."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import polars as pl

SCHEMA_VERSION = 1

MONEY_KEYS = frozenset(
    {
        "start_arr",
        "new_arr",
        "reactivation_arr",
        "expansion_arr",
        "contraction_arr",
        "churned_arr",
        "end_arr",
        "cohort_start_arr",
        "gross_new_arr",
        "net_new_arr",
        "retained_arr",
        "acquired_arr",
        "arpa",
        "new_logo_acv",
        "sales_marketing",
        "customer_success",
        "net_burn",
        "cac",
        "ltv",
        "arr_at_window_start",
        "arr_at_end",
        "numerator_arr",
        "denominator_arr",
    }
)
"""Keys whose values are money (integer cents in frames, currency units in output)."""

RATIO_KEYS = frozenset(
    {
        "nrr",
        "grr",
        "logo_retention",
        "logo_churn_rate",
        "gross_revenue_churn",
        "net_revenue_churn",
        "period_logo_churn_rate",
        "period_gross_revenue_churn",
        "period_net_revenue_churn",
        "expansion_share",
        "acquisition_share",
        "reactivation_share",
        "gross_margin",
        "top1_share",
        "top10_share",
        "top20_share",
    }
)
"""Keys whose values are fractions (1.083 = 108.3%); so are cohort ages (``month_3``)."""

FACTOR_KEYS = frozenset(
    {
        "quick_ratio",
        "retention_to_acquisition",
        "ltv_to_cac",
        "magic_number",
        "burn_multiple",
        "cs_efficiency",
        "cac_payback_months",
    }
)
"""Keys whose values are plain multiples or counts of months (2.35, not a percentage)."""

AGE_KEY = re.compile(r"^(month|quarter|year)_\d+$")


@dataclass(frozen=True)
class Result:
    """What one command computed, ready for any renderer.

    ``frame`` has ``period, start, end``, the ``by`` columns, then ``keys``;
    money in integer cents. Other columns (prefixed ``_``) are internal.
    """

    command: str
    title: str
    frame: pl.DataFrame
    keys: tuple[str, ...]
    by: tuple[str, ...]
    input: dict[str, Any] | None
    options: dict[str, Any]
    definitions: dict[str, Any]
    caption: str
    warnings: tuple[str, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)
    table_limit: int | None = None
    """The terminal table shows the first rows only (``explain --top``)."""
    head: tuple[str, ...] = ("period", "start", "end")
    """The columns that say what a row is about, before ``by`` and ``keys``."""
    rows_key: str = "periods"
    """The JSON key of the rows."""
    stamp: str | None = None
    """When the run happened (only with ``--stamp``: output is otherwise timeless)."""

    @property
    def columns(self) -> list[str]:
        """Output columns in order: head (period, start, end), by..., keys."""
        return [*self.head, *self.by, *self.keys]

    @property
    def definitions_sha256(self) -> str:
        """Hash of the definitions in force; equal hashes mean comparable numbers."""
        return definitions_hash(self.definitions)


@dataclass(frozen=True)
class Report:
    """Several results over one input (``retention report``): one section each."""

    sections: dict[str, Result]
    input: dict[str, Any]
    options: dict[str, Any]
    definitions: dict[str, Any]
    warnings: tuple[str, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)
    command: str = "report"
    title: str = "Retention report"
    stamp: str | None = None

    @property
    def definitions_sha256(self) -> str:
        """Hash of the definitions in force."""
        return definitions_hash(self.definitions)


def definitions_hash(definitions: dict[str, Any]) -> str:
    """sha256 of the canonical JSON form of a definitions record."""
    text = json.dumps(definitions, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
