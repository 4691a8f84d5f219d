"""Metric keys as data: one :class:`KeySpec` per output column a command can show.

A key's kind says how its values are stored and shown (money in integer cents,
ratios as fractions, ...), its label is the terminal/Markdown/HTML header, and
its direction tells ``retention check`` which way is worse. Adding a metric key
is one line in :data:`KEYS` plus the metric that computes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache


class Kind(Enum):
    """How a key's values are stored and shown."""

    money = "money"
    """Integer cents in frames; currency units with two decimals in output."""
    ratio = "ratio"
    """A fraction (1.083 = 108.3%)."""
    factor = "factor"
    """A plain multiple (2.35) or a count of months (see ``unit``)."""
    pp = "pp"
    """A difference of two ratios, shown in percentage points."""
    count = "count"
    """A whole number (logos, days, rows)."""
    date = "date"
    """A calendar date (left-aligned)."""
    text = "text"
    """Text (left-aligned)."""
    plain = "plain"
    """Shown as it is: numbers right-aligned, text left-aligned, by the column's type."""
    measured = "measured"
    """A value in the unit of the metric the row names (``check``'s baseline and now)."""
    change = "change"
    """A signed change in the unit of the metric the row names (``check``'s change)."""
    flag = "flag"
    """A status word, shown upper-case (``check``'s PASS/FAIL)."""


class Direction(Enum):
    """Which way a metric gets worse, for ``retention check``."""

    higher_is_better = "higher_is_better"
    lower_is_better = "lower_is_better"
    neutral = "neutral"
    """No good direction (a share): a change either way counts."""
    unchecked = "unchecked"
    """Not a metric a threshold or baseline may name."""


UNITS = {
    Kind.money: "currency",
    Kind.ratio: "fraction",
    Kind.factor: "multiple",
    Kind.pp: "percentage points",
    Kind.count: "count",
}


@dataclass(frozen=True)
class KeySpec:
    """One output key: what it is, how it is shown, and which way is better."""

    key: str
    kind: Kind
    label: str
    direction: Direction = Direction.unchecked
    unit: str = ""
    """The unit of a value (``currency``, ``fraction``, ``months``); defaults by kind."""
    compared: bool = False
    """``check`` compares it with a baseline unless ``--metrics`` names others."""
    heat: bool = False
    """Shown as a heat-map cell where the command has a heat map (cohort ages)."""

    def __post_init__(self) -> None:
        if not self.unit:
            object.__setattr__(self, "unit", UNITS.get(self.kind, ""))

    @property
    def checkable(self) -> bool:
        """A threshold or baseline may name this key."""
        return self.direction is not Direction.unchecked


M, R, F, C, T, D = Kind.money, Kind.ratio, Kind.factor, Kind.count, Kind.text, Kind.date
UP, DOWN, EITHER = (
    Direction.higher_is_better,
    Direction.lower_is_better,
    Direction.neutral,
)

# fmt: off
_SPECS = (
    # row heads
    KeySpec("period", Kind.plain, "Period"),
    KeySpec("start", D, "Start"),
    KeySpec("end", D, "End"),
    # retention (nrr)
    KeySpec("window_start", D, "Window start"),
    KeySpec("cohort_logos", C, "Cohort logos", UP),
    KeySpec("cohort_start_arr", M, "Cohort start ARR", UP),
    KeySpec("nrr", R, "NRR", UP, compared=True),
    KeySpec("grr", R, "GRR", UP, compared=True),
    KeySpec("logo_retention", R, "Logo retention", UP, compared=True),
    KeySpec("logo_churn_rate", R, "Logo churn (window)", DOWN, compared=True),
    KeySpec("gross_revenue_churn", R, "Gross rev. churn (window)", DOWN, compared=True),
    KeySpec("net_revenue_churn", R, "Net rev. churn (window)", DOWN, compared=True),
    # churn (period rates)
    KeySpec("period_logo_churn_rate", R, "Logo churn (period)", DOWN, compared=True),
    KeySpec("period_gross_revenue_churn", R, "Gross rev. churn (period)", DOWN, compared=True),
    KeySpec("period_net_revenue_churn", R, "Net rev. churn (period)", DOWN, compared=True),
    # bridge
    KeySpec("start_arr", M, "Start ARR"),
    KeySpec("new_arr", M, "+ New", UP),
    KeySpec("reactivation_arr", M, "+ Reactivation", UP),
    KeySpec("expansion_arr", M, "+ Expansion", UP),
    KeySpec("contraction_arr", M, "− Contraction", DOWN),
    KeySpec("churned_arr", M, "− Churn", DOWN),
    KeySpec("fx_impact_arr", M, "± FX impact"),
    KeySpec("end_arr", M, "End ARR", UP),
    KeySpec("start_logos", C, "Start logos"),
    KeySpec("new_logos", C, "+ New logos", UP),
    KeySpec("reactivated_logos", C, "+ Reactivated"),
    KeySpec("churned_logos", C, "− Churned logos", DOWN),
    KeySpec("end_logos", C, "End logos", UP),
    KeySpec("transfer_in_arr", M, "+ Transfer in"),
    KeySpec("transfer_out_arr", M, "− Transfer out"),
    KeySpec("transfer_in_logos", C, "+ Transfer in logos"),
    KeySpec("transfer_out_logos", C, "− Transfer out logos"),
    # books of business
    KeySpec("reassigned_in_arr", M, "Reassigned in"),
    KeySpec("reassigned_out_arr", M, "Reassigned out"),
    KeySpec("reassigned_in_logos", C, "Accounts in"),
    KeySpec("reassigned_out_logos", C, "Accounts out"),
    # mix
    KeySpec("gross_new_arr", M, "Gross new ARR", UP),
    KeySpec("credit_share", R, "Share of gross new", EITHER),
    KeySpec("expansion_share", R, "Expansion share", EITHER),
    KeySpec("acquisition_share", R, "Acquisition share", EITHER),
    KeySpec("reactivation_share", R, "Reactivation share", EITHER),
    KeySpec("net_new_arr", M, "Net new ARR", UP),
    KeySpec("quick_ratio", F, "Quick ratio", UP),
    KeySpec("retained_arr", M, "Retained ARR", UP),
    KeySpec("acquired_arr", M, "Acquired ARR", UP),
    KeySpec("retention_to_acquisition", F, "Retained per acquired", UP),
    KeySpec("arpa", M, "ARPA", UP),
    KeySpec("new_logo_acv", M, "New-logo ACV", UP),
    KeySpec("top1_share", R, "Top 1"),
    KeySpec("top10_share", R, "Top 10"),
    KeySpec("top20_share", R, "Top 20"),
    # economics (spend inputs, then metrics)
    KeySpec("sales_marketing", M, "S&M spend"),
    KeySpec("customer_success", M, "CS spend"),
    KeySpec("gross_margin", R, "Gross margin", EITHER),
    KeySpec("net_burn", M, "Net burn"),
    KeySpec("cac", M, "CAC", DOWN),
    KeySpec("cac_payback_months", F, "CAC payback (mo)", DOWN, unit="months"),
    KeySpec("ltv", M, "LTV", UP),
    KeySpec("ltv_to_cac", F, "LTV:CAC", UP),
    KeySpec("magic_number", F, "Magic number", UP),
    KeySpec("burn_multiple", F, "Burn multiple", DOWN),
    KeySpec("cs_efficiency", F, "CS efficiency", UP),
    # report summary
    KeySpec("acquisition_net_new_arr", M, "From acquisition", UP),
    KeySpec("retention_net_new_arr", M, "From retention", UP),
    # --benchmark (and retention benchmarks)
    KeySpec("peer_band", T, "Peer band"),
    KeySpec("peer_nrr", R, "Peer NRR"),
    KeySpec("nrr_vs_peer", Kind.pp, "NRR vs peer"),
    KeySpec("peer_grr", R, "Peer GRR"),
    KeySpec("grr_vs_peer", Kind.pp, "GRR vs peer"),
    KeySpec("peer_nrr_p25", R, "Peer NRR p25"),
    KeySpec("peer_nrr_p75", R, "Peer NRR p75"),
    # nrr --distribution
    KeySpec("nrr_low", R, "NRR low"),
    KeySpec("nrr_high", R, "NRR high"),
    KeySpec("grr_low", R, "GRR low"),
    KeySpec("grr_high", R, "GRR high"),
    KeySpec("account_nrr_min", R, "Acct NRR min"),
    KeySpec("account_nrr_p25", R, "Acct NRR p25"),
    KeySpec("account_nrr_median", R, "Acct NRR median", UP),
    KeySpec("account_nrr_p75", R, "Acct NRR p75"),
    KeySpec("account_nrr_max", R, "Acct NRR max"),
    KeySpec("grew_share", R, "Grew", UP),
    KeySpec("steady_share", R, "Steady"),
    KeySpec("shrank_share", R, "Shrank", DOWN),
    KeySpec("left_share", R, "Left", DOWN),
    # explain
    KeySpec("account_id", T, "Account"),
    KeySpec("class", T, "Class"),
    KeySpec("arr_at_window_start", M, "ARR at window start"),
    KeySpec("arr_at_end", M, "ARR at end"),
    KeySpec("owner_at_end", T, "Owner at end"),
    KeySpec("numerator_arr", M, "Numerator"),
    KeySpec("denominator_arr", M, "Denominator"),
    # nrr --variants
    KeySpec("variant", Kind.plain, "Definition"),
    KeySpec("nrr_change", Kind.pp, "Δ NRR"),
    KeySpec("grr_change", Kind.pp, "Δ GRR"),
    KeySpec("what", Kind.plain, "What differs"),
    # calendar
    KeySpec("fiscal_year", T, "Fiscal year"),
    KeySpec("quarter", T, "Quarter"),
    KeySpec("days", Kind.plain, "Days"),
    # check
    KeySpec("metric", Kind.plain, "Metric"),
    KeySpec("check", Kind.plain, "Against"),
    KeySpec("baseline", Kind.plain, "Baseline"),
    KeySpec("now", Kind.plain, "Now"),
    KeySpec("change", Kind.plain, "Change"),
    KeySpec("limit", Kind.plain, "Limit"),
    KeySpec("status", Kind.plain, "Status"),
    KeySpec("reason", Kind.plain, "Why"),
)
# fmt: on

KEYS: dict[str, KeySpec] = {s.key: s for s in _SPECS}
"""Every named key, in a stable order (``check`` compares the ``compared`` ones in it)."""

AGE_PATTERN = re.compile(r"^(month|quarter|year)_(\d+)$")
"""Cohort age columns: ``month_3`` is the cell three fiscal months after acquisition."""


@lru_cache(maxsize=4096)
def spec_for(key: str) -> KeySpec:
    """The spec of ``key``: a named key, a cohort age (``quarter_2``: a ratio labelled
    ``2``), or for anything else (a dimension column) plain text under its own name."""
    spec = KEYS.get(key)
    if spec is not None:
        return spec
    age = AGE_PATTERN.match(key)
    if age is not None:
        return KeySpec(key, Kind.ratio, age.group(2), heat=True)
    return KeySpec(key, Kind.plain, key)


CHECKABLE = frozenset(k for k, s in KEYS.items() if s.checkable)
"""Every metric key a threshold or baseline may name."""

DEFAULT_COMPARED = tuple(k for k, s in KEYS.items() if s.compared)
"""Metrics ``check`` compares with a baseline unless told others, in report order."""

__all__ = [
    "AGE_PATTERN",
    "CHECKABLE",
    "DEFAULT_COMPARED",
    "KEYS",
    "Direction",
    "KeySpec",
    "Kind",
    "spec_for",
]
