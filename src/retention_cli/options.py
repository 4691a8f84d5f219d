"""Closed choices shared by the core and the CLI (stdlib only: cheap to import)."""

from __future__ import annotations

from enum import Enum

MAX_WINDOW = 1200
"""The longest trailing window, in fiscal months (100 years): any longer has no
ratio on real data, and a bound keeps period arithmetic inside the calendar."""


class Grain(str, Enum):
    """Reporting grain: how many fiscal months one reported period spans."""

    month = "month"
    quarter = "quarter"
    year = "year"

    @property
    def months(self) -> int:
        """Number of base periods in one period of this grain."""
        return {"month": 1, "quarter": 3, "year": 12}[self.value]


class Method(str, Enum):
    """How NRR and GRR are computed over the window (SPEC §5)."""

    cohort = "cohort"
    bridge = "bridge"


class BridgeMode(str, Enum):
    """How a period longer than a fiscal month is bridged (SPEC §4)."""

    net = "net"
    gross = "gross"


class Shape(str, Enum):
    """The three input shapes of SPEC §2.1."""

    movements = "movements"
    snapshots = "snapshots"
    subscriptions = "subscriptions"


class OutputFormat(str, Enum):
    """Output formats (SPEC §12)."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    xlsx = "xlsx"
    html = "html"
