"""Real-world files: xlsx and parquet round trips, and a messy CRM export through a config."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from retention_cli.cli import app
from retention_cli.errors import UsageError
from retention_cli.inputs import read_table
from tests.conftest import EXAMPLES

MOVES = EXAMPLES / "saas_movements.csv"


def nrr_json(runner: CliRunner, *args: str) -> dict:
    out = runner.invoke(app, ["nrr", *args, "--grain", "quarter", "-f", "json", "-q"])
    assert out.exit_code == 0, out.stderr
    return json.loads(out.stdout)


def test_xlsx_and_parquet_round_trips(runner: CliRunner, in_tmp: Path) -> None:
    text = pl.read_csv(MOVES, infer_schema=False)
    text.write_excel(in_tmp / "m.xlsx", worksheet="Export")
    # a typed parquet (dates as dates, money as floats) reads the same
    text.with_columns(
        pl.col("date").str.to_date(), pl.col("amount").cast(pl.Float64)
    ).write_parquet(in_tmp / "m.parquet")
    want = nrr_json(runner, str(MOVES))["periods"]
    assert nrr_json(runner, "m.xlsx")["periods"] == want
    assert nrr_json(runner, "m.xlsx", "--sheet", "Export")["periods"] == want
    assert nrr_json(runner, "m.xlsx", "--sheet", "1")["periods"] == want
    assert nrr_json(runner, "m.parquet")["periods"] == want


def test_xlsx_errors(runner: CliRunner, in_tmp: Path) -> None:
    pl.DataFrame({"a": ["1"]}).write_excel(in_tmp / "m.xlsx", worksheet="Only")
    out = runner.invoke(app, ["nrr", "m.xlsx", "--sheet", "Data"])
    assert out.exit_code == 2
    assert "error: m.xlsx: no sheet 'Data'" in out.stderr
    assert "the workbook's sheets are: 'Only'" in out.stderr
    (in_tmp / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    broken = runner.invoke(app, ["nrr", "broken.xlsx"])
    assert broken.exit_code == 2
    assert "not a readable .xlsx file" in broken.stderr
    csv = runner.invoke(app, ["nrr", str(MOVES), "--sheet", "1"])
    assert csv.exit_code == 2
    assert (
        "--sheet: applies to .xlsx files only" in csv.stderr
    )  # the CLI names the flag for param "sheet"
    with pytest.raises(UsageError) as err:
        read_table(str(MOVES), sheet="1")
    assert (err.value.param, str(err.value).split(",")[0]) == (
        "sheet",
        "sheet: applies to .xlsx files only",
    )


def test_bad_xlsx_rows_name_the_spreadsheet_row(runner: CliRunner, in_tmp: Path) -> None:
    pl.DataFrame(
        {"date": ["2025-01-05", "2025-02-05"], "account_id": ["A", "B"], "type": ["new", "nwe"],
         "amount": ["100", "200"]}
    ).write_excel(in_tmp / "m.xlsx")  # fmt: skip
    out = runner.invoke(app, ["nrr", "m.xlsx"])
    assert out.exit_code == 2
    assert "m.xlsx:3: type: unknown movement type" in out.stderr  # row 3 of the sheet


def test_messy_crm_export_through_a_config(runner: CliRunner, in_tmp: Path) -> None:
    # BOM, CRLF, semicolons, odd headers, US dates, $ and thousands separators, (negatives)
    rows = [
        "\ufeffEvent Date;Customer ID;Movement;Amount (USD);Tier",
        "01/10/2025;Acme;new;$1,234.50;SMB",
        "02/03/2025;Acme;contraction;(50.00);SMB",
        "01/15/2025;Globex;NEW;$2,000.00;ENT",
        "03/20/2025;Globex;churn;2000;ENT",
    ]
    (in_tmp / "export.csv").write_bytes("\r\n".join(rows).encode("utf-8") + b"\r\n")
    (in_tmp / "retention.yaml").write_text(
        'columns:\n  date: "Event Date"\n  account_id: "Customer ID"\n  type: Movement\n'
        '  amount: "Amount (USD)"\n'
    )
    out = runner.invoke(app, ["bridge", "export.csv", "--date-format", "%m/%d/%Y", "-f", "json"])
    assert out.exit_code == 0, out.stderr
    rows_out = {r["period"]: r for r in json.loads(out.stdout)["periods"]}
    assert rows_out["2025-01"]["new_arr"] == 3234.5  # 1,234.50 + 2,000.00
    assert rows_out["2025-02"]["contraction_arr"] == 50.0  # (50.00) is a negative 50
    assert rows_out["2025-03"]["churned_arr"] == 2000.0
    assert rows_out["2025-03"]["end_arr"] == 1184.5
    by_tier = runner.invoke(
        app, ["bridge", "export.csv", "--date-format", "%m/%d/%Y", "--by", "Tier"]
    )
    assert by_tier.exit_code == 0, by_tier.stderr
    assert "ENT" in by_tier.stdout
