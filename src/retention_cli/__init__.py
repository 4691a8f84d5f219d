"""retention: SaaS net and gross revenue retention, exact to the cent.

The library API (no CLI needed)::

    import retention_cli as rc
    data = rc.load("examples/movements.csv")
    ledger = rc.build_ledger(data)
    rc.retention(ledger, grain=rc.Grain.quarter)     # NRR, GRR, logo retention
    rc.bridge(ledger)                                # the ARR bridge

Money columns are integer cents (``Int64``); ratios are fractions.
Names are imported on first use, so ``retention --help`` stays fast.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("retention-cli")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

_EXPORTS = {
    "BridgeMode": "retention_cli.options",
    "Grain": "retention_cli.options",
    "Method": "retention_cli.options",
    "Shape": "retention_cli.options",
    "Config": "retention_cli.config",
    "FiscalYear": "retention_cli.config",
    "Policies": "retention_cli.config",
    "load_config": "retention_cli.config",
    "ConfigError": "retention_cli.errors",
    "InputError": "retention_cli.errors",
    "RetentionError": "retention_cli.errors",
    "UsageError": "retention_cli.errors",
    "FiscalCalendar": "retention_cli.calendar",
    "Ledger": "retention_cli.ledger",
    "build_ledger": "retention_cli.ledger",
    "Loaded": "retention_cli.inputs",
    "load": "retention_cli.inputs",
    "load_frame": "retention_cli.inputs",
    "bridge": "retention_cli.metrics",
    "churn": "retention_cli.metrics",
    "retention": "retention_cli.metrics",
    "mix": "retention_cli.metrics",
    "cohorts": "retention_cli.metrics",
    "economics": "retention_cli.metrics",
    "explain": "retention_cli.metrics.explain",
    "load_spend": "retention_cli.spend",
    "spend_by_period": "retention_cli.spend",
    "Economics": "retention_cli.config",
    "ledger_from_frame": "retention_cli.service",
    "RunOptions": "retention_cli.service",
    "run": "retention_cli.service",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'retention_cli' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
