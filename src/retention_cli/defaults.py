"""The default config without Pydantic (stdlib only: cheap to import).

A run with no ``--config`` and no ``retention.yaml`` uses the default config.
Building the Pydantic models of :mod:`retention_cli.config` costs about a tenth
of a second of start-up (importing Pydantic, then building every model's
validator); :func:`default_config` answers the same questions from plain values
and builds the models only if something asks for more than their defaults.
tests/test_startup.py compares every field, dump and description with the models'.

The constants the core reads from the config module without a config are here
too; :mod:`retention_cli.config` re-exports them.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from retention_cli.config import Config

CANONICAL_COLUMNS = (
    "account_id",
    "date",
    "type",
    "amount",
    "arr",
    "mrr",
    "start_date",
    "end_date",
    "currency",
    "item_id",
    "parent_id",
    "quantity",
    "interval",
    "interval_count",
    "status",
    "trial_end",
    "canceled_at",
    "period_end",
    "discount_amount",
    "discount_percent",
    "discount_duration",
    "rank",
    "credit",
)
DEFAULT_CONFIG_NAME = "retention.yaml"

PER_YEAR = {"day": 365, "week": 52, "month": 12, "quarter": 4, "year": 1}
"""Billing intervals in one year: ARR = amount x quantity x per_year / interval_count."""

OPEN_END_DATES = (
    dt.date(9999, 12, 31),
    dt.date(9999, 12, 30),
    dt.date(9999, 12, 1),
    dt.date(9999, 1, 1),
    dt.date(4712, 12, 31),
    dt.date(3000, 1, 1),
    dt.date(2999, 12, 31),
    dt.date(2099, 12, 31),
)
"""The "no end" markers billing systems and databases write into an end date
(9999-12-31 and its kin, Oracle's 4712-12-31, 2999-12-31, 3000-01-01, 2099-12-31)."""


def _money_label(value: int) -> str:
    """``12000`` → ``12k``, ``5000000`` → ``5M``: a band edge as a short label."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= size and value % (size // 10 or 1) == 0:
            return f"{value / size:g}{suffix}"
    return f"{value:,}"


def band_labels(edges: list[int]) -> list[str]:
    """Labels of the bands that ``edges`` cut.

    Each band includes its lower edge and excludes its upper one:
    ``[12000, 25000]`` → ``<12k``, ``12k-25k``, ``25k+``.
    """
    if not edges:
        return ["all"]
    names = [f"<{_money_label(edges[0])}"]
    names += [f"{_money_label(a)}-{_money_label(b)}" for a, b in itertools.pairwise(edges)]
    return [*names, f"{_money_label(edges[-1])}+"]


def _values() -> dict[str, Any]:
    """The default config's field values, sections as dicts (fresh objects each call)."""
    return {
        "preset": None, "shape": None, "date_format": None, "delimiter": None, "sheet": None,
        "grain": None, "window": None, "by": None, "columns": {},
        "amount": {"unit": None, "minor_units": False, "blank": "error"},
        "billing": {"interval": None, "per_year": dict(PER_YEAR), "interval_count": 1},
        "statuses": None, "cancellation": "at_request", "discounts": "all", "movement_types": {},
        "fiscal_year": {
            "start_month": 1, "label": "end", "calendar": "standard",
            "week_ends_on": "saturday", "year_end": "last",
            "weeks": None, "describe": "standard calendar, FY starts January, named by end year",
        },
        "policies": {
            "reactivation": "reactivation", "reactivation_window": None, "churn_grace": 0,
            "describe": "returns counted as reactivation",
        },
        "snapshots": {"carry_forward": False, "combine": "error"},
        "subscriptions": {"open_end_dates": OPEN_END_DATES, "ends_after_term": False},
        "limits": {"max_months": 1200, "max_input_mb": 2048, "max_expansion": 50},
        "economics": {"cac_lag": 0, "ltv_cap_years": 5, "gross_margin": None},
        "fx": None,
        "bands": {"acv": [12_000, 25_000, 50_000, 100_000, 250_000],
                  "arr_stage": [5_000_000, 25_000_000]},
        "distribution": {"min_accounts": 30, "level": 0.9, "resamples": 1000, "seed": 0},
        "decimal": "point", "currency": None, "display_currency": None,
    }  # fmt: skip


METHODS = ("describe",)
"""Values that stand for a method of the model (called with no arguments)."""

JSON_DUMPS = {
    "fiscal_year": {"start_month": 1, "label": "end", "calendar": "standard"},
    "policies": {"reactivation": "reactivation", "reactivation_window": None, "churn_grace": 0},
}
"""``model_dump(mode="json")`` of the sections every run records (in ``options``
and ``definitions``); the serializer leaves a standard calendar's week settings out."""


class Defaults:
    """The default config, or one of its sections, answered without Pydantic.

    A field reads as the model's default value; ``model_dump(mode="json")`` of a
    section in :data:`JSON_DUMPS`, and any dump leaving out the defaults, are the
    model's. Anything else (another dump, ``model_copy``, a comparison) is asked of
    the Pydantic model itself, built then: never a different config, only a
    cheaper one.
    """

    __slots__ = ("_model", "_section", "_values")

    def __init__(self, section: str, values: dict[str, Any]) -> None:
        self._section = section
        self._values = values
        self._model: Any = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in Defaults.__slots__:
            raise AttributeError(name)
        values = self._values
        if name in values:
            value = values[name]
            return (lambda: value) if name in METHODS else value
        return getattr(self.model(), name)

    def model(self) -> Any:
        """The Pydantic model this stands for (``Config()`` or one of its sections)."""
        if self._model is None:
            from retention_cli.config import Config

            root = Config()
            self._model = getattr(root, self._section) if self._section else root
        return self._model

    def model_dump(self, *, mode: str = "python", **kwargs: Any) -> dict[str, Any]:
        """The model's ``model_dump``."""
        if kwargs.get("exclude_defaults") and set(kwargs) <= {"exclude_defaults", "include"}:
            return {}  # every value is its default
        if mode == "json" and not kwargs and self._section in JSON_DUMPS:
            return copy.deepcopy(JSON_DUMPS[self._section])
        return cast("dict[str, Any]", self.model().model_dump(mode=mode, **kwargs))

    def __eq__(self, other: object) -> bool:
        return bool(self.model() == (other.model() if isinstance(other, Defaults) else other))

    def __hash__(self) -> int:
        return hash(self.model())

    def __repr__(self) -> str:
        return repr(self.model())


def default_config() -> Config:
    """The config of a run with no config file, as :class:`Defaults` (typed as the model)."""
    values = _values()
    for name, value in values.items():
        if isinstance(value, dict) and name not in ("columns", "movement_types"):
            values[name] = Defaults(name, value)
    return cast("Config", Defaults("", values))
