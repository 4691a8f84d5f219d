"""Hostile text in the data (issue 19, items 3 and 12): account ids, segment values and
the file name carry Rich markup, terminal escape sequences, bidi controls, line breaks,
raw HTML and Markdown table pipes through every command and format.

Human formats (table, Markdown, HTML, JUnit, the ``--summary``) show control characters
as visible escapes (``\\x1b``) and never parse data as markup; machine formats (JSON,
CSV, XLSX) keep the exact data.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from retention_cli.cli import app
from retention_cli.render.values import VISIBLE, markdown_text, visible, visible_expr
from tests.conftest import EXAMPLES, pin_terminal

# one hostile suffix per account of the tiny file; the segment carries the same suffix
HOSTILE = {
    "A": "[/x]",  # a closing tag crashed Rich's markup parser
    "B": "[link=http://evil.example]click[/link]\x1b]52;c;aGk=\x07",  # hyperlink, clipboard OSC 52
    "C": "[legacy] Acme\x1b[2J",  # markup eaten as a style; clear-screen
    "D": "[red]\x1b[31mred\x1b[0m\x1b]0;title\x07",  # colour SGR; window-title OSC
    "E": "abc\u202edef\u2066<b>x</b>&amp;|y",  # bidi override and isolate; raw HTML; a pipe
    "F": "a\rb\nc\x7f\x9b\x00",  # CR and LF split Markdown rows; DEL, C1 CSI, NUL
}
# raw bytes that must never reach a human format
RAW = ("\x1b", "\x07", "\u202e", "\u2066", "\r", "\x7f", "\x9b", "\x00")
NAME = "tiny[bold]\x1b[2J.csv"  # the file name is in validate's title


def _hostile_csv(path: Path) -> None:
    """examples/tiny_movements.csv with each account's id and segment made hostile."""
    frame = pl.read_csv(EXAMPLES / "tiny_movements.csv", infer_schema=False)
    suffix = pl.col("account_id").replace_strict(HOSTILE)
    # a NUL byte in an id is an input error (issue 19): ids carry the rest, segments all of it
    id_suffix = suffix.str.replace_all("\x00", "", literal=True)
    frame = frame.with_columns(pl.col("account_id") + id_suffix, pl.col("segment") + suffix)
    frame.write_csv(path)


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The hostile file and its by-segment baseline ``base.json``: made once per module,
    each test gets fresh copies (:func:`hostile`)."""
    where = tmp_path_factory.mktemp("hostile")
    _hostile_csv(where / NAME)
    with pytest.MonkeyPatch.context() as mp:
        pin_terminal(mp)
        mp.chdir(where)
        args = ["report", NAME, "--by", "segment", "-f", "json", "-o", "base.json"]
        out = CliRunner().invoke(app, args)
        assert out.exit_code == 0, out.stderr
    return {name: (where / name).read_bytes() for name in (NAME, "base.json")}


@pytest.fixture
def hostile(in_tmp: Path, hostile_files: dict[str, bytes]) -> Path:
    """The hostile file, and ``base.json``: a by-segment baseline of the same data."""
    for name, content in hostile_files.items():
        (in_tmp / name).write_bytes(content)
    return in_tmp


COMMANDS = {
    "bridge": ["bridge", NAME, "--by", "segment"],
    "explain": ["explain", NAME, "--period", "2026-01", "--by", "segment=SMB[/x]"],
    "explain-all": ["explain", NAME, "--period", "2026-01"],
    "report": ["report", NAME, "--by", "segment", "--grain", "quarter"],
    "validate": ["validate", NAME],
    "check": ["check", NAME, "--baseline", "base.json", "--all-periods"],
}
HUMAN = ("table", "markdown", "html")


def _run(runner: CliRunner, args: list[str]):  # type: ignore[no-untyped-def]
    out = runner.invoke(app, args)
    assert "internal error" not in out.stderr, out.stderr
    assert "Traceback" not in out.stderr, out.stderr
    assert out.exit_code == 0, out.stderr
    return out


def _no_raw(text: str) -> None:
    raw = [c for c in RAW if c in text]
    assert not raw, f"raw control characters {raw!r} in the output"


@pytest.mark.parametrize("fmt", HUMAN)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_human_formats_show_escapes(
    hostile: Path, runner: CliRunner, command: str, fmt: str
) -> None:
    out = _run(runner, [*COMMANDS[command], "-f", fmt])
    _no_raw(out.stdout)
    if command == "validate":  # validate's rows name no account: its title names the file
        assert "tiny[bold]\\x1b[2J.csv" in out.stdout
        return
    # markup is shown as written, not read as markup
    assert "[/x]" in out.stdout
    if command != "explain":  # explain --by segment=SMB[/x] keeps account A only
        assert "\\x1b" in out.stdout
        assert "[link=http://evil.example]click[/link]" in out.stdout
    if fmt == "table" and command != "explain":
        assert "[legacy] Acme\\x1b[2J" in out.stdout
        assert "[red]\\x1b[31mred\\x1b[0m\\x1b]0;title\\x07" in out.stdout
    if fmt != "table":  # no raw HTML from the data
        assert "<b>x</b>" not in out.stdout
    if fmt == "markdown":
        if command in ("bridge", "report"):  # E and F are in no NRR cohort
            assert "&lt;b&gt;x&lt;/b&gt;&amp;amp;\\|y" in out.stdout
            assert "a\\rb\\nc\\x7f\\x9b\\x00" in out.stdout
        rows = [line for line in out.stdout.splitlines() if line.startswith("|")]
        assert all(line.endswith("|") for line in rows)


def test_table_on_a_colour_terminal_emits_no_data_sequences(
    hostile: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rich's own styles (bold, bar colours) are fine; the data's sequences and any
    # hyperlink ([link=...] read as markup) are not
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    out = _run(runner, ["bridge", NAME, "--by", "segment"])
    assert "\x1b[1m" in out.stdout  # guard: this run really is in colour
    for seq in ("\x1b[2J", "\x1b]0;", "\x1b]52;", "\x1b]8;", "\x07", "\u202e", "\x9b"):
        assert seq not in out.stdout


def test_json_keeps_the_exact_data(hostile: Path, runner: CliRunner) -> None:
    out = _run(runner, ["bridge", NAME, "--by", "segment", "-f", "json"])
    _no_raw(out.stdout)  # C0 by json itself, DEL, C1 and bidi as \u escapes
    segments = {r["segment"] for r in json.loads(out.stdout)["periods"]} - {None}
    assert segments == {("SMB" if a in "ACDF" else "Enterprise") + s for a, s in HOSTILE.items()}
    explained = json.loads(
        _run(runner, ["explain", NAME, "--period", "2026-01", "-f", "json"]).stdout
    )
    assert {r["account_id"] for r in explained["periods"]} == {a + HOSTILE[a] for a in "ABCD"}


def test_csv_keeps_the_exact_data(hostile: Path, runner: CliRunner) -> None:
    out = _run(runner, ["bridge", NAME, "--by", "segment", "-f", "csv"])
    segments = {r["segment"] for r in csv.DictReader(io.StringIO(out.stdout))} - {"(total)"}
    assert segments == {("SMB" if a in "ACDF" else "Enterprise") + s for a, s in HOSTILE.items()}


def test_xlsx_is_written_and_valid(hostile: Path, runner: CliRunner) -> None:
    _run(runner, ["bridge", NAME, "--by", "segment", "-o", "out.xlsx"])
    with zipfile.ZipFile(hostile / "out.xlsx") as z:
        for name in z.namelist():
            if name.endswith(".xml"):
                ET.fromstring(z.read(name))  # XML 1.0 forbids raw C0: xlsxwriter writes _x001B_


def test_check_junit_and_summary(hostile: Path, runner: CliRunner) -> None:
    args = [*COMMANDS["check"], "--junit", "j.xml", "--summary", "s.md"]
    _run(runner, args)
    junit = (hostile / "j.xml").read_text(encoding="utf-8")
    _no_raw(junit)
    root = ET.fromstring(junit)  # parses: no control characters left in the XML
    names = " ".join(c.get("name", "") for c in root.iter("testcase"))
    assert "segment=SMB[red]\\x1b[31mred\\x1b[0m\\x1b]0;title\\x07" in names
    summary = (hostile / "s.md").read_text(encoding="utf-8")
    _no_raw(summary)
    assert "<b>" not in summary
    assert "&lt;b&gt;x&lt;/b&gt;&amp;amp;\\|y" in summary
    rows = [line for line in summary.splitlines() if line.startswith("|")]
    assert len(rows) > 2
    assert all(line.endswith("|") for line in rows)


def test_failing_check_with_hostile_segments(hostile: Path, runner: CliRunner) -> None:
    # a regression in a hostile segment: the failure text is escaped the same way
    text = (hostile / NAME).read_text(encoding="utf-8")
    (hostile / "worse.csv").write_text(
        text + '2026-01-20,"A[/x]",churn,1500.00,"SMB[/x]"\n', encoding="utf-8"
    )
    args = ["check", "worse.csv", "--baseline", "base.json", "--junit", "j.xml", "-f", "markdown"]
    out = runner.invoke(app, args)
    assert out.exit_code == 1, out.stderr
    _no_raw(out.stdout)
    root = ET.parse(hostile / "j.xml").getroot()
    assert root.find(".//failure") is not None


def test_visible() -> None:
    assert visible("plain — text ünïcode 👨‍👩‍👧") == "plain — text ünïcode 👨‍👩‍👧"
    assert visible("\x1b[2J\u202e\r\n\t\x00\x7f\x9b") == "\\x1b[2J\\u202e\\r\\n\\t\\x00\\x7f\\x9b"
    assert all(not any(ord(c) < 0x20 for c in v) for v in VISIBLE.values())


def test_visible_expr_matches_visible() -> None:
    values = ["".join(VISIBLE), "a\x1b]0;t\x07b", None, "plain", ""]
    got = pl.Series(values).to_frame("s").select(visible_expr(pl.col("s")))["s"].to_list()
    assert got == [None if v is None else visible(v) for v in values]


def test_markdown_text() -> None:
    # S&M is not a character reference: left as it is (golden files use it)
    assert markdown_text("S&M spend") == "S&M spend"
    assert markdown_text("a|b<i>&lt;\n") == "a\\|b&lt;i&gt;&amp;lt;\\n"


def test_stderr_messages_show_data_inert(in_tmp: Path, runner: CliRunner) -> None:
    """An error naming a hostile file name and value prints it escaped, not raw."""
    name = "b\x1b]0;pwned\x07.csv"
    (in_tmp / name).write_text(
        "date,account_id,type,amount\n2026-01-31,A\x1b[2J,new,abc\u202e\n", encoding="utf-8"
    )
    out = runner.invoke(app, ["nrr", name])
    assert out.exit_code == 2
    assert "internal error" not in out.stderr
    assert not any(raw in out.stderr for raw in RAW), repr(out.stderr)
    assert "b\\x1b]0;pwned\\x07.csv" in out.stderr
