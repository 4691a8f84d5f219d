"""retention: SaaS net and gross revenue retention, exact to the cent.

The library API needs no CLI: load a file, build the ledger (each account's
ARR at the end of each fiscal month), then compute any metric from it as a
Polars DataFrame. Money columns are integer cents (``Int64``); ratios are
fractions. What each number means: ``docs/definitions.md``.

Names are imported on first use, so ``retention --help`` stays fast.

Examples
--------
The bundled hand-checkable example (paths are relative to the repository root):

>>> import retention_cli as rc
>>> data = rc.load("examples/tiny_movements.csv")
>>> ledger = rc.build_ledger(data)
>>> nrr = rc.retention(ledger, grain=rc.Grain.quarter)  # NRR, GRR, logo retention
>>> nrr.select("period", "nrr", "grr").tail(1).rows()
[('FY2026-Q1', 0.8444444444444444, 0.7333333333333333)]
>>> rc.bridge(ledger, grain=rc.Grain.quarter).select("period", "start_arr", "end_arr").tail(1).rows()
[('FY2026-Q1', 680000, 750000)]

The other examples are ``examples/saas_movements.csv``,
``examples/saas_snapshots.csv`` and ``examples/saas_subscriptions.csv`` (one
history in three shapes) and ``examples/spend.csv``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str

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
    "run_check": "retention_cli.check",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def _version() -> str:
    """The installed package's version.

    Read on first use: ``importlib.metadata`` is slow to import, and a table on the
    terminal never shows the version.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("retention-cli")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        globals()[name] = value = _version()
        return value
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'retention_cli' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
