"""The terminal: tables fit the width, help teaches, plain is plain, parse errors are one line.

Help snapshots live in tests/help/; regenerate them after an intended change with
``RETENTION_UPDATE_GOLDEN=1 pytest tests/test_terminal.py`` and review the diff.
"""

from __future__ import annotations

import io
import json
import os
import re

import pytest
import typer
from rich.cells import cell_len
from typer.testing import CliRunner

from retention_cli.cli import app
from tests.conftest import EXAMPLES, ROOT

MOVES = str(EXAMPLES / "saas_movements.csv")
TINY = str(EXAMPLES / "tiny_movements.csv")
SPEND = str(EXAMPLES / "spend.csv")
HELP = ROOT / "tests" / "help"
COMMANDS = [
    "nrr", "bridge", "churn", "mix", "cohorts", "economics", "report", "books", "check", "init",
    "validate", "explain", "calendar", "presets",
]  # fmt: skip


def invoke(runner: CliRunner, *args: str, code: int = 0):  # type: ignore[no-untyped-def]
    out = runner.invoke(app, list(args))
    assert out.exit_code == code, out.stderr
    return out


# ----------------------------------------------------------------------------- width
WIDE = {
    "bridge by segment": ("bridge", MOVES, "--grain", "quarter", "--by", "segment"),
    "mix": ("mix", MOVES, "--grain", "quarter"),
    "nrr by month": ("nrr", MOVES),
    "churn": ("churn", MOVES, "--grain", "quarter", "--by", "segment"),
    "cohorts": ("cohorts", MOVES, "--grain", "quarter"),
    "economics": ("economics", MOVES, "--spend", SPEND, "--grain", "quarter"),
    "variants": ("nrr", MOVES, "--variants", "--grain", "quarter"),
    "explain": ("explain", MOVES, "--period", "FY2026-Q1", "--grain", "quarter"),
    "report": ("report", MOVES, "--spend", SPEND, "--grain", "year"),
}


@pytest.mark.parametrize("width", [80, 100])
@pytest.mark.parametrize("name", sorted(WIDE))
def test_no_line_is_wider_than_the_terminal(
    name: str, width: int, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # hazard: the bridge was 226 characters on a 100-column terminal, wrapped into noise
    monkeypatch.setenv("COLUMNS", str(width))
    out = invoke(runner, *WIDE[name]).stdout
    assert out.strip()
    wide = [line for line in out.splitlines() if cell_len(line) > width]
    assert not wide, f"{len(wide)} line(s) wider than {width}: {wide[0]!r}"


def test_a_narrow_table_names_what_it_hid_and_folds_the_rest(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    out = invoke(runner, "bridge", TINY, "--grain", "quarter", "--by", "segment").stdout
    assert (
        "note: hidden to fit 100 columns: Start logos, + New logos, + Reactivated, "
        "− Churned logos, End logos, + Transfer in logos, − Transfer out logos, "
        "Movement (+ gained, − lost) (--columns chooses; -f csv shows every column)"
    ) in " ".join(out.split())
    headers = [line.split() for line in out.splitlines() if line.strip().startswith("Period")]
    assert len(headers) == 2  # folded in two parts, each with the row labels
    assert all(h[:2] == ["Period", "segment"] for h in headers)
    assert "End ARR" in out
    assert "− Churn" in out
    assert out.count("FY2026-Q1   SMB") == 2


def test_a_wide_terminal_shows_the_whole_table(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    out = invoke(runner, "bridge", TINY, "--grain", "quarter", "--by", "segment").stdout
    assert "hidden" not in out
    assert "Start logos" in out
    assert "+████" in out


def test_a_table_written_to_a_file_is_never_cut(
    runner: CliRunner, in_tmp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    invoke(runner, "bridge", TINY, "--grain", "quarter", "--by", "segment", "-o", "b.txt", "-q")
    text = (in_tmp / "b.txt").read_text(encoding="utf-8")
    assert "hidden" not in text
    assert "Movement (+ gained, − lost)" in text


def test_columns_choose_the_table_and_every_format(runner: CliRunner) -> None:
    table = invoke(runner, "nrr", TINY, "--columns", "grr,nrr").stdout
    header = next(line for line in table.splitlines() if "Period" in line).split()
    assert header == ["Period", "GRR", "NRR"]
    csv = invoke(runner, "nrr", TINY, "--columns", "grr,nrr", "-f", "csv").stdout
    assert csv.splitlines()[0] == "period,start,end,grr,nrr"
    doc = json.loads(invoke(runner, "nrr", TINY, "--columns", "nrr", "-f", "json").stdout)
    assert set(doc["periods"][0]) == {"period", "start", "end", "nrr"}
    md = invoke(runner, "bridge", TINY, "--columns", "end_arr", "-f", "markdown").stdout
    assert "| Period | End ARR |" in md
    report = json.loads(
        invoke(runner, "report", TINY, "--columns", "nrr,end_arr", "-f", "json").stdout
    )
    assert set(report["bridge"][0]) == {"period", "start", "end", "end_arr"}
    assert "churn" not in report  # a section with none of the columns is left out


def test_an_unknown_column_lists_the_known_ones(runner: CliRunner) -> None:
    out = invoke(runner, "nrr", TINY, "--columns", "nrr,nps", code=2)
    lines = out.stderr.splitlines()
    assert lines[0] == "error: --columns: no column 'nps' in nrr's output"
    assert lines[1].startswith("hint: the columns are: window_start, cohort_logos,")


def test_month_nrr_starts_at_the_first_period_with_a_value(runner: CliRunner) -> None:
    # hazard: twelve rows of "—" before the first number
    out = invoke(runner, "nrr", TINY).stdout
    rows = [line.split()[0] for line in out.splitlines() if re.match(r"\s+20\d\d-\d\d\s", line)]
    assert rows == ["2026-01"]
    assert "note: starts at 2026-01, the first period with a value (--from 2025-01" in out
    since = invoke(runner, "nrr", TINY, "--from", "2025-06").stdout
    assert re.search(r"^\s+2025-06\s", since, re.M)
    assert "starts at" not in since
    doc = json.loads(invoke(runner, "nrr", TINY, "-f", "json").stdout)
    assert len(doc["periods"]) == 13  # JSON keeps every period


def test_churn_table_shows_churned_and_contracted_arr(runner: CliRunner) -> None:
    out = invoke(runner, "churn", TINY, "--grain", "quarter").stdout
    header = next(line for line in out.splitlines() if "Period" in line)
    assert "Churned ARR" in header
    assert "Contracted ARR" in header
    q2 = next(line for line in out.splitlines() if line.strip().startswith("FY2025-Q2"))
    assert "1,000.00" in q2


# ----------------------------------------------------------------------------- plain text
class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _render_on_a_terminal(*, no_color: bool = False) -> str:
    from retention_cli.config import Config
    from retention_cli.render.table import make_console, render_table
    from retention_cli.service import RunOptions, run

    result = run("bridge", TINY, Config(), RunOptions())
    stream = _Tty()
    render_table(result, make_console(stream, no_color=no_color))
    return stream.getvalue()


def test_no_color_means_no_escape_codes_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    # hazard: NO_COLOR removed colour but left 93 bold/dim codes
    monkeypatch.setenv("TERM", "xterm-256color")
    assert "\x1b[" in _render_on_a_terminal()  # guard: a terminal really gets styles
    assert "\x1b" not in _render_on_a_terminal(no_color=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b" not in _render_on_a_terminal()


def test_no_color_flag_on_the_command_line(runner: CliRunner) -> None:
    out = invoke(runner, "bridge", TINY, "--grain", "quarter", "--no-color", "--by", "segment")
    assert "\x1b" not in out.stdout
    assert "\x1b" not in out.stderr


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("args", "error", "hint"),
    [
        (
            ["nrr", TINY, "--grain", "week"],
            "error: --grain: 'week' is not one of 'month', 'quarter', 'year'",
            "hint: `retention nrr --help` lists the options",
        ),
        (
            ["nrr", TINY, "--grian", "quarter"],
            "error: no such option: --grian",
            "hint: did you mean --grain? `retention nrr --help` lists the options",
        ),
        (
            ["bridge"],
            "error: missing argument FILE",
            "hint: `retention bridge --help` lists the options",
        ),
        (
            ["calendar"],
            "error: missing option --year",
            "hint: `retention calendar --help` lists the options",
        ),
        (
            ["nrr", TINY, "--window", "0"],
            "error: --window: input should be greater than or equal to 1",
            "hint: `retention nrr --help` lists the options",
        ),
        (
            ["brige", TINY],
            "error: no such command 'brige'",
            "hint: did you mean 'bridge'? `retention --help` lists the commands",
        ),
    ],
)
def test_parse_errors_are_one_error_and_one_hint(
    args: list[str], error: str, hint: str, runner: CliRunner
) -> None:
    # hazard: boxed multi-line panels for the parser's errors, one line for every other
    out = invoke(runner, *args, code=2)
    assert out.stdout == ""
    assert out.stderr.splitlines() == [error, hint]


def test_config_errors_do_not_leak_pydantic_wording(runner: CliRunner, in_tmp) -> None:
    (in_tmp / "c.yaml").write_text('fx:\n  reporting_currency: "12"\n')
    out = invoke(runner, "nrr", TINY, "-c", "c.yaml", code=2)
    assert "Value error" not in out.stderr
    assert "fx.reporting_currency: '12' is not a 3-letter currency code" in out.stderr


def test_economics_needs_spend(runner: CliRunner, in_tmp) -> None:
    out = invoke(runner, "economics", TINY, code=2)
    assert out.stderr.startswith("error: --spend: economics needs a spend file")
    assert out.stdout == ""
    (in_tmp / "m.yaml").write_text("economics:\n  gross_margin: 0.8\n")
    invoke(runner, "economics", TINY, "-c", "m.yaml")  # LTV alone needs only the margin
    report = invoke(runner, "report", TINY).stdout
    assert report.count("note: economics left out") == 1


# ----------------------------------------------------------------------------- help
@pytest.fixture
def pinned_help(monkeypatch: pytest.MonkeyPatch) -> None:
    """Help at 100 columns, never forced into colour (GITHUB_ACTIONS would)."""
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setattr("typer.rich_utils.FORCE_TERMINAL", None)


@pytest.mark.usefixtures("pinned_help")
@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_snapshot(command: str, runner: CliRunner) -> None:
    out = invoke(runner, *([command] if command else []), "--help")
    path = HELP / f"{command or 'retention'}.txt"
    if os.environ.get("RETENTION_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(out.stdout, encoding="utf-8", newline="\n")
    assert out.stdout == path.read_text(encoding="utf-8"), f"retention {command} --help"


@pytest.mark.usefixtures("pinned_help")
@pytest.mark.parametrize("command", COMMANDS)
def test_help_teaches(command: str, runner: CliRunner) -> None:
    text = invoke(runner, command, "--help").stdout
    flat = re.sub(r"[│\s]+", " ", text)
    assert f"Examples: $ retention {command}" in flat
    assert "<bool>" not in text
    assert "<str>" not in text
    assert not re.search(r" \.( |$)", flat), "a stray ' .' where markup ate a [default: …]"
    assert "\x1b" not in text
    assert all(cell_len(line) <= 100 for line in text.splitlines())


def test_help_groups_options_and_shows_defaults(runner: CliRunner, pinned_help: None) -> None:
    flat = re.sub(r"[│\s]+", " ", invoke(runner, "report", "--help").stdout)
    for panel in ("Input", "Periods", "Definitions", "Output"):
        assert f"─ {panel} ─" in flat
    assert "[default: (from --output's extension, else table)]" in flat
    assert "[default: (retention.yaml in the working directory, if present)]" in flat
    assert ".parquet .xlsx)" in flat  # the file argument names xlsx input
    root = re.sub(r"[│\s]+", " ", invoke(runner, "--help").stdout)
    assert "--install-completion" in root


def test_every_option_is_described() -> None:
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        for param in command.params:
            assert (param.help or "").strip(), f"retention {name}: {param.name} has no help"
