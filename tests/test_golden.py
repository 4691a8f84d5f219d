"""Golden files: examples/expected/* must match the CLI's output byte for byte.

Regenerate after an intended change with ``RETENTION_UPDATE_GOLDEN=1 pytest tests/test_golden.py``
and review the diff.
"""

from __future__ import annotations

import os
import shlex

import pytest
from typer.testing import CliRunner

from retention_cli.cli import app
from tests.conftest import EXAMPLES, ROOT

EXPECTED = EXAMPLES / "expected"
CASES = {
    "tiny_nrr.txt": "nrr examples/tiny_movements.csv",
    "tiny_bridge_quarter.txt": "bridge examples/tiny_movements.csv --grain quarter --by segment",
    "tiny_churn.csv": "churn examples/tiny_movements.csv -f csv",
    "saas_nrr_quarter.json": "nrr examples/saas_movements.csv --grain quarter -f json",
    "saas_bridge_quarter.md": "bridge examples/saas_snapshots.csv --grain quarter -f markdown",
    "saas_churn_year_feb.csv": "churn examples/saas_movements.csv --grain year -c configs/fiscal-feb.yaml -f csv",
    "saas_mix_quarter.txt": "mix examples/saas_movements.csv --grain quarter",
    "saas_mix_segment.csv": "mix examples/saas_movements.csv --grain year --by segment -f csv",
    "saas_cohorts_quarter.txt": "cohorts examples/saas_movements.csv --grain quarter",
    "saas_cohorts_logos.json": "cohorts examples/saas_subscriptions.csv --grain quarter --metric logos -f json",
    "saas_economics_quarter.txt": "economics examples/saas_movements.csv --spend examples/spend.csv --grain quarter",
    "saas_economics_quarter.csv": "economics examples/saas_movements.csv --spend examples/spend.csv --grain quarter -f csv",
    "saas_report_quarter.json": "report examples/saas_movements.csv --spend examples/spend.csv --grain quarter -f json",
    "saas_explain_nrr.csv": "explain examples/saas_movements.csv --period 2026-06 -f csv",
    "tiny_explain_bridge.txt": "explain examples/tiny_movements.csv --period FY2025-Q4 --grain quarter --metric bridge",
    "calendar_feb.json": "calendar --year FY2027 -c configs/fiscal-feb.yaml -f json",
    "saas_report_year.md": "report examples/saas_movements.csv --spend examples/spend.csv --grain year -f markdown",
    "saas_nrr_acv_band.txt": "nrr examples/saas_movements.csv --by acv_band --benchmark saas-capital --from 2026-04",
    "tiny_nrr_distribution.json": "nrr examples/tiny_movements.csv --distribution --from 2026-01 -f json",
    "saas_nrr_distribution_quarter.txt": "nrr examples/saas_movements.csv --distribution --grain quarter --by arr_stage",
    "benchmarks.csv": "benchmarks -f csv",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, shlex.split(CASES[name]))
    assert result.exit_code == 0, result.stderr
    path = EXPECTED / name
    if os.environ.get("RETENTION_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(result.stdout, encoding="utf-8", newline="\n")
    assert result.stdout == path.read_text(encoding="utf-8"), f"retention {CASES[name]}"
