"""Outputs to hand on: XLSX, HTML, terminal visuals, formula safety, determinism."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import fastexcel
import polars as pl
import pytest
from typer.testing import CliRunner

from retention_cli.cli import app
from tests.conftest import EXAMPLES

MOVES = str(EXAMPLES / "saas_movements.csv")
SPEND = str(EXAMPLES / "spend.csv")
EVIL = '=HYPERLINK("http://evil.example","click")'


def run(runner: CliRunner, *args: str):  # type: ignore[no-untyped-def]
    out = runner.invoke(app, list(args))
    assert out.exit_code == 0, out.stderr
    return out


@pytest.fixture
def evil_file(in_tmp: Path) -> Path:
    """The tiny movement log with a formula as a segment and as an account name."""
    text = (EXAMPLES / "tiny_movements.csv").read_text()
    text = text.replace(",Enterprise", f',"{EVIL.replace(chr(34), chr(34) * 2)}"')
    text = text.replace(",A,", ",@SUM(A1),")
    path = in_tmp / "evil.csv"
    path.write_text(text)
    return path


def sheet(path: Path, name: str) -> pl.DataFrame:
    return fastexcel.read_excel(str(path)).load_sheet(name).to_polars()


def test_xlsx_report_has_a_sheet_per_section_with_numbers(runner: CliRunner, in_tmp: Path) -> None:
    run(runner, "report", MOVES, "--spend", SPEND, "--grain", "quarter", "-o", "r.xlsx", "-q")
    book = fastexcel.read_excel(str(in_tmp / "r.xlsx"))
    assert book.sheet_names == ["summary", "growth", "bridge", "retention", "churn", "mix", "cohorts",
                                "economics", "definitions"]  # fmt: skip
    bridge = sheet(in_tmp / "r.xlsx", "bridge")
    assert bridge.schema["End ARR"] == pl.Float64  # numbers, not text
    assert bridge.schema["End logos"] == pl.Float64
    last = bridge.row(-1, named=True)
    assert last["Period"] == "FY2026-Q2"
    assert last["End ARR"] == 8051882.24  # the JSON/CSV value, to the cent
    ret = sheet(in_tmp / "r.xlsx", "retention")
    assert ret.row(-1, named=True)["NRR"] == pytest.approx(0.9070661571641814)
    defs = dict(sheet(in_tmp / "r.xlsx", "definitions").select("key", "value").rows())
    assert defs["definitions.method"] == "cohort"
    assert defs["input.path"] == MOVES
    assert len(defs["input.sha256"]) == 64


def test_formulas_from_input_are_inert_in_xlsx_and_csv(runner: CliRunner, evil_file: Path) -> None:
    run(runner, "bridge", str(evil_file), "--by", "segment", "-o", "b.xlsx", "-q")
    seg = sheet(evil_file.parent / "b.xlsx", "bridge")["segment"].drop_nulls().to_list()
    assert "'" + EVIL in seg
    assert EVIL not in seg
    csv = run(runner, "bridge", str(evil_file), "--by", "segment", "-f", "csv").stdout
    assert "'=HYPERLINK" in csv
    assert "\n=" not in csv
    explain = run(runner, "explain", str(evil_file), "--period", "2026-01", "-o", "e.xlsx", "-q")
    assert explain.exit_code == 0
    accounts = sheet(evil_file.parent / "e.xlsx", "explain")["Account"].to_list()
    assert "'@SUM(A1)" in accounts


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.refs += [v or "" for k, v in attrs if k in ("src", "href", "xlink:href")]


def test_html_report_is_self_contained(runner: CliRunner, in_tmp: Path) -> None:
    run(runner, "report", MOVES, "--spend", SPEND, "--grain", "quarter", "--by", "segment",
        "-o", "r.html", "-q")  # fmt: skip
    text = (in_tmp / "r.html").read_text()
    page = _Page()
    page.feed(text)
    assert page.tags.count("svg") == 6  # waterfall, NRR/GRR, churn, growth mix, cohorts, economics
    assert "rect" in page.tags
    assert "polyline" in page.tags
    assert page.refs == []  # nothing to fetch
    assert "http" not in text
    for title in (
        "ARR bridge",
        "Growth mix",
        "Acquisition cohorts",
        "Unit economics",
        "Definitions",
    ):
        assert title in text
    assert "background:rgb(" in text  # the heat map
    assert "90.7%" in text  # the latest NRR headline


def test_html_for_a_single_command(runner: CliRunner, in_tmp: Path) -> None:
    run(runner, "nrr", MOVES, "--grain", "quarter", "-o", "n.html", "-q")
    text = (in_tmp / "n.html").read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert "Net and gross revenue retention" in text
    assert "107.9%" in text


@pytest.mark.skipif(
    shutil.which("chromium") is None, reason="chromium is not installed (apt install chromium)"
)
def test_html_renders_in_headless_chromium(runner: CliRunner, in_tmp: Path) -> None:
    run(runner, "report", MOVES, "--spend", SPEND, "--grain", "quarter", "-o", "r.html", "-q")
    shot = in_tmp / "report.png"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
         f"--user-data-dir={in_tmp / 'profile'}",  # its own: another test process may run one
         "--window-size=1280,2000", (in_tmp / "r.html").as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert shot.stat().st_size > 20_000  # a page with charts, not a blank image


@pytest.mark.parametrize("fmt", ["json", "csv", "markdown", "html", "table"])
def test_same_input_same_bytes(runner: CliRunner, in_tmp: Path, fmt: str) -> None:
    args = ["report", MOVES, "--spend", SPEND, "--grain", "quarter", "-f", fmt, "-q"]
    assert run(runner, *args).stdout == run(runner, *args).stdout


def test_xlsx_bytes_are_identical(runner: CliRunner, in_tmp: Path) -> None:
    run(runner, "report", MOVES, "-o", "a.xlsx", "-q")
    run(runner, "report", MOVES, "-o", "b.xlsx", "-q")
    assert (in_tmp / "a.xlsx").read_bytes() == (in_tmp / "b.xlsx").read_bytes()


def test_xlsx_needs_a_file(runner: CliRunner) -> None:
    out = runner.invoke(app, ["nrr", MOVES, "-f", "xlsx"])
    assert out.exit_code == 2
    assert "xlsx is a binary format: give -o FILE.xlsx" in out.stderr


def test_terminal_visuals_read_without_colour(runner: CliRunner) -> None:
    bridge = run(
        runner, "bridge", str(EXAMPLES / "tiny_movements.csv"), "--grain", "quarter"
    ).stdout
    q2 = next(x for x in bridge.splitlines() if x.strip().startswith("FY2025-Q2"))
    # 500 gained, 1,000 lost; the largest movement (4,500 in Q1) fills 16 blocks
    assert q2.rstrip().endswith("+██ −████")
    assert "\x1b[" not in bridge
    nrr = run(runner, "nrr", MOVES, "--grain", "quarter", "--no-color").stdout
    assert "NRR trend " in nrr
    assert "90.7% (FY2026-Q2; low 90.7%, high 114.2%)" in nrr


def test_stamp_only_when_asked(runner: CliRunner) -> None:
    tiny = str(EXAMPLES / "tiny_movements.csv")
    stamped = run(runner, "nrr", tiny, "-f", "json", "--stamp").stdout
    assert '"generated_at": "' in stamped
    assert '"generated_at"' not in run(runner, "nrr", tiny, "-f", "json").stdout
