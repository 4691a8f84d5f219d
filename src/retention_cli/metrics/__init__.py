"""Pure metric functions: ledger in, Polars frames out."""

from retention_cli.metrics.bridge import BRIDGE_KEYS, BridgeMode, bridge, reporting_periods
from retention_cli.metrics.churn import CHURN_KEYS, churn
from retention_cli.metrics.retention import RETENTION_KEYS, Method, retention

__all__ = [
    "BRIDGE_KEYS",
    "CHURN_KEYS",
    "RETENTION_KEYS",
    "BridgeMode",
    "Method",
    "bridge",
    "churn",
    "reporting_periods",
    "retention",
]
