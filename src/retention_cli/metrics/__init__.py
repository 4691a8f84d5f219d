"""Pure metric functions: ledger in, Polars frames out."""

from retention_cli.metrics.bridge import BRIDGE_KEYS, bridge, reporting_periods
from retention_cli.metrics.churn import CHURN_KEYS, churn
from retention_cli.metrics.cohorts import CohortMetric, cohorts
from retention_cli.metrics.economics import ECONOMICS_KEYS, economics
from retention_cli.metrics.mix import MIX_KEYS, mix
from retention_cli.metrics.retention import RETENTION_KEYS, retention
from retention_cli.options import BridgeMode, Method

__all__ = [
    "BRIDGE_KEYS",
    "CHURN_KEYS",
    "ECONOMICS_KEYS",
    "MIX_KEYS",
    "RETENTION_KEYS",
    "BridgeMode",
    "CohortMetric",
    "Method",
    "bridge",
    "churn",
    "cohorts",
    "economics",
    "mix",
    "reporting_periods",
    "retention",
]
