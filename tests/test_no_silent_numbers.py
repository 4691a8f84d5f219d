"""Values of real exports that once read as a confident wrong number, silently.

Several currency markers in one amount read as the bare number; an impossible
time of day passed; a UTC offset was dropped without a word; a blank child in
an accounts file vanished; a subscription inside one month held revenue no
metric showed; and the accounting line named a boolean status ``false``.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from retention_cli.cli import app
from retention_cli.errors import InputError
from retention_cli.inputs import load
from retention_cli.inputs.rules import status_label
from tests.conftest import ROOT

MOVES = "date,account_id,type,amount,segment\n"
SUBS = "account_id,start_date,end_date,arr\n"
runner = CliRunner()


def write(tmp_path: Path, text: str, name: str = "f.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def problems(path: str) -> list[tuple[int | None, str | None, str | None]]:
    with pytest.raises(InputError) as err:
        load(path)
    return [(p.line, p.check, p.value) for p in err.value.problems]


# --------------------------------------------------------------------------- currency markers
@pytest.mark.parametrize("amount", ["$€100", "USD EUR 100", "€100 $", "USD $100", "100 EUR USD"])
def test_several_currency_markers_in_one_amount_are_an_error(tmp_path: Path, amount: str) -> None:
    path = write(tmp_path, MOVES + f"2025-01-05,a,new,{amount},S\n")
    assert problems(path) == [(2, "several_currency_markers", amount)]
    result = runner.invoke(app, ["bridge", path])
    assert result.exit_code == 2
    assert f"{path}:2: amount: more than one currency marker" in result.stderr
    assert repr(amount) in result.stderr


def test_one_marker_still_reads_and_a_signed_code_is_a_marker(tmp_path: Path) -> None:
    text = (
        MOVES
        + "2025-01-05,a,new,$100,S\n2025-01-05,b,new,USD 5,S\n2025-02-05,b,contraction,-USD 1,S\n"
    )
    assert load(write(tmp_path, text)).frame["amount"].to_list() == [10000, 500, -100]
    # the code after a sign was not seen as a marker, so a currency clash passed
    clash = MOVES + "2025-01-05,a,new,$100,S\n2025-02-05,a,contraction,-EUR 1,S\n"
    assert [c for _, c, _ in problems(write(tmp_path, clash, "c.csv"))] == [
        "mixed_currency_markers",
        "mixed_currency_markers",
    ]


# --------------------------------------------------------------------------- datetimes
@pytest.mark.parametrize(
    "start",
    ["2024-02-29T99:99", "2024-01-31T24:00", "2024-01-31 23:60:00", "2024-01-31T10:00+15:00"],
)
def test_a_time_of_day_is_validated(tmp_path: Path, start: str) -> None:
    path = write(tmp_path, SUBS + f"a,{start},,100\n")
    assert problems(path) == [(2, "bad_date", start)]


def test_a_utc_offset_that_moves_the_day_is_said(tmp_path: Path) -> None:
    text = SUBS + (
        "a,2024-01-31T23:30:00-05:00,,1200\n"  # Feb 1 in UTC
        "b,2024-03-01T01:00:00+02:00,2024-04-30T23:00:00-02:00,1200\n"  # Feb 29 and May 1 in UTC
        "c,2024-01-15T10:00:00+02:00,,1200\n"  # same day in UTC
    )
    loaded = load(write(tmp_path, text))
    # the date written (its local date) is the date read: SPEC §2.2, "the date part"
    assert loaded.frame["start_date"].cast(pl.String).to_list() == [
        "2024-01-31",
        "2024-03-01",
        "2024-01-15",
    ]
    said = [w for w in loaded.warnings if "UTC offset" in w]
    assert len(said) == 1
    assert said[0].startswith("3 datetime(s) carry a UTC offset that puts them on another day")
    assert "line 2, start_date '2024-01-31T23:30:00-05:00'" in said[0]


def test_utc_and_zero_offsets_say_nothing(tmp_path: Path) -> None:
    text = (
        SUBS
        + "a,2024-01-31T23:30:00Z,,1200\nb,2024-01-31T23:30:00+0000,,1\nc,2024-01-31T23:30,,1\n"
    )
    assert not [w for w in load(write(tmp_path, text)).warnings if "UTC" in w]


# --------------------------------------------------------------------------- roll-up
def test_a_blank_child_in_the_accounts_file_is_an_error(tmp_path: Path) -> None:
    data = write(tmp_path, SUBS + "a,2024-01-01,,100\nb,2024-01-01,,100\n")
    accounts = write(tmp_path, "account_id,parent_id\na,P\n ,P\nb,P\n,\n", "accounts.csv")
    result = runner.invoke(app, ["bridge", data, "--accounts", accounts])
    assert result.exit_code == 2
    assert f"{accounts}:3: account_id: blank account_id (parent 'P')" in result.stderr
    assert f"{accounts}:5: account_id: blank account_id:" in result.stderr
    assert "hint:" in result.stderr
    # a blank parent is documented: the account stands for itself
    ok = write(tmp_path, "account_id,parent_id\na,P\nb,\n", "ok.csv")
    assert runner.invoke(app, ["bridge", data, "--accounts", ok, "-q"]).exit_code == 0


# --------------------------------------------------------------------------- sub-month subscriptions
def test_subscriptions_inside_one_month_are_counted_in_a_warning(tmp_path: Path) -> None:
    text = SUBS + (
        "a,2024-01-05,2024-01-20,1200\n"  # inside January: no month-end ARR
        "b,2024-01-15,,1200\n"
        "c,2024-02-01,2024-02-01,5\n"  # same day: excluded and counted (SPEC §2.3)
        "d,2024-02-03,2024-02-27,7\n"  # inside February
    )
    result = runner.invoke(app, ["bridge", write(tmp_path, text), "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["input"]["excluded"] == {"same-day": 1}
    inside = [w for w in doc["warnings"] if "inside one month" in w]
    # no line is named: the SQL path (--engine) says the same words from its counts
    assert inside == [
        "2 subscription(s) start and end inside one month: they hold no ARR at any month end, "
        "so no metric shows their revenue"
    ]
    assert "read 4 rows: 3 used, 1 same-day excluded" in result.stderr


# --------------------------------------------------------------------------- accounting line
def test_a_status_that_is_not_a_word_is_named_with_its_column() -> None:
    assert status_label("trialing", "Status") == "trialing"
    assert status_label("closed lost", "StageName") == "closed lost"
    assert status_label("false", "IsWon") == "IsWon false"
    assert status_label("1234567", "dealstage") == "dealstage 1234567"
    assert status_label(None, "Status") == "blank Status"


def test_the_salesforce_line_says_what_was_excluded() -> None:
    path = ROOT / "examples" / "exports" / "salesforce_opportunities.csv"
    result = runner.invoke(app, ["bridge", str(path), "--preset", "salesforce", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["input"]["excluded"] == {"IsWon false": 2}
    assert "5 used, 2 IsWon false excluded" in result.stderr


# --------------------------------------------------------------------------- README
def test_the_readme_stripe_stderr_block_is_what_the_command_prints(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"\$ retention (bridge examples/stripe_subscriptions\.csv [^\n]*)", readme)
    assert command is not None
    shown = re.search(
        r"Without `-q`, stderr accounts for every row.*?```text\n(.*?)```", readme, re.S
    )
    assert shown is not None
    monkeypatch.chdir(ROOT)
    args = [a for a in shlex.split(command.group(1)) if a != "-q"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert result.stderr == shown.group(1)
