"""Outputs for people (issue 18): the HTML report, its print, the XLSX workbook, the
currency display setting, and the definitions hash in every output."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import fastexcel
import pytest
from typer.testing import CliRunner

from retention_cli.cli import app
from retention_cli.config import Config
from retention_cli.render.html import labelled
from tests.conftest import EXAMPLES

MOVES = str(EXAMPLES / "saas_movements.csv")
SPEND = str(EXAMPLES / "spend.csv")
REPORT = ("report", MOVES, "--spend", SPEND)


def run(runner: CliRunner, *args: str) -> str:
    out = runner.invoke(app, list(args))
    assert out.exit_code == 0, out.stderr
    return out.stdout


class _Tables(HTMLParser):
    """Every table's header cells, and the svg count."""

    def __init__(self) -> None:
        super().__init__()
        self.headers: list[str] = []
        self.svgs = 0
        self._th: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "th":
            self._th = []
        self.svgs += tag == "svg"

    def handle_endtag(self, tag: str) -> None:
        if tag == "th" and self._th is not None:
            self.headers.append("".join(self._th).strip())
            self._th = None

    def handle_data(self, data: str) -> None:
        if self._th is not None:
            self._th.append(data)


def _page(path: Path) -> _Tables:
    page = _Tables()
    page.feed(path.read_text())
    return page


# ----------------------------------------------------------------------------- HTML
@pytest.mark.parametrize(
    "args",
    [
        ("nrr", MOVES, "--grain", "quarter"),
        ("bridge", MOVES, "--grain", "quarter"),
        ("churn", MOVES, "--grain", "quarter"),
        ("mix", MOVES, "--grain", "quarter"),
        ("cohorts", MOVES, "--grain", "quarter"),
        ("economics", MOVES, "--spend", SPEND, "--grain", "quarter"),
    ],
    ids=lambda a: a[0],
)
def test_every_single_command_html_has_its_chart(
    runner: CliRunner, in_tmp: Path, args: tuple[str, ...]
) -> None:
    run(runner, *args, "-o", "one.html", "-q")
    assert _page(in_tmp / "one.html").svgs == 1


def test_html_report_cards_waterfall_and_trend(runner: CliRunner, in_tmp: Path) -> None:
    run(runner, *REPORT, "--grain", "quarter", "-o", "r.html", "-q")
    text = (in_tmp / "r.html").read_text()
    # cards: ending ARR, each with the change against the previous quarter and a year earlier
    assert "Ending ARR</span><b>8.05M</b>" in text
    assert text.count("vs FY2026-Q1: ") == 6
    assert text.count("vs FY2025-Q2: ") == 6
    assert "vs FY2026-Q1: -4.2pp" in text  # GRR 74.2% → 70.0%
    # the waterfall: zoomed, every bar labelled, start and end told apart
    assert "Axis starts at 7.5M" in text
    for label in (">8.11M<", ">+590.3k<", ">-197.8k<", ">-515.1k<", ">8.05M<"):
        assert label in text
    # the trend: legend, end labels, a 100% mark; the growth mix and churn charts
    assert "NRR 90.7%</text>" in text
    assert "GRR 70.0%</text>" in text
    assert ">100%</text>" in text
    assert "Growth mix over time" in text
    assert "Logo and revenue churn over time" in text
    assert _page(in_tmp / "r.html").svgs == 6


def test_html_notes_use_labels(runner: CliRunner, in_tmp: Path) -> None:
    run(runner, "economics", MOVES, "--spend", SPEND, "--grain", "quarter", "-o", "e.html", "-q")
    text = (in_tmp / "e.html").read_text()
    assert "Note: LTV:CAC is null" in text
    assert "ltv_to_cac" not in text.split("<h2", 1)[0] + text.split('id="definitions"')[0]
    assert labelled("cac_payback_months is null in FY2025") == "CAC payback (mo) is null in FY2025"
    assert labelled("a note with no key") == "a note with no key"


def test_html_print_css(runner: CliRunner, in_tmp: Path) -> None:
    run(runner, *REPORT, "--grain", "month", "-o", "r.html", "-q")
    text = (in_tmp / "r.html").read_text()
    assert "@media print" in text
    assert "size:A4 landscape" in text
    assert "print-color-adjust:exact" in text
    assert "break-before:page" in text
    assert '<div class="print">' in text  # the month cohort matrix is split for print


@pytest.mark.skipif(
    shutil.which("chromium") is None or shutil.which("pdftotext") is None,
    reason="chromium and pdftotext are not installed (apt-get install chromium poppler-utils)",
)
def test_printed_report_shows_every_column_header(runner: CliRunner, in_tmp: Path) -> None:
    # month grain: the widest tables (the cohort matrix has 30 ages)
    run(runner, *REPORT, "--grain", "month", "--by", "segment", "-o", "r.html", "-q")
    pdf = in_tmp / "r.pdf"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--print-to-pdf={pdf}", f"--user-data-dir={in_tmp / 'profile'}",  # its own profile
         (in_tmp / "r.html").as_uri()],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    words = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    lines = {" ".join(line.split()) for line in words.splitlines()}
    flat = " ".join(lines)
    headers = set(_page(in_tmp / "r.html").headers)
    assert {"Top 1", "Top 10", "Top 20", "New-logo ACV", "CS efficiency"} <= headers
    missing = [h for h in sorted(headers) if f" {h} " not in f" {flat} "]
    assert missing == [], f"column headers cut from the printed report: {missing}"


# ----------------------------------------------------------------------------- XLSX
def _xml(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as book:
        return book.read(name).decode()


def test_xlsx_labels_keys_heat_map_charts(runner: CliRunner, in_tmp: Path) -> None:
    run(runner, *REPORT, "--grain", "quarter", "--by", "segment", "-o", "r.xlsx", "-q")
    path = in_tmp / "r.xlsx"
    book = fastexcel.read_excel(str(path))
    assert book.sheet_names[0] == "summary"
    bridge = book.load_sheet("bridge").to_polars()
    assert bridge.columns[:6] == ["Period", "Start", "End", "segment", "Start ARR", "+ New"]
    cohorts = book.load_sheet("cohorts").to_polars()
    assert cohorts.columns[:3] == ["Cohort", "Start", "End"]
    names = zipfile.ZipFile(path).namelist()
    # the machine keys: one comment per labelled header cell
    comments = "".join(_xml(path, n) for n in names if re.fullmatch(r"xl/comments\d+\.xml", n))
    for key in ("start_arr", "new_arr", "end_arr", "nrr", "cohort_start_arr", "top20_share"):
        assert f"<t>{key}</t>" in comments
    # the heat map: a colour scale over the age columns of the cohorts sheet (sheet 7, after
    # the charts sheet and the growth summary)
    cohort_xml = _xml(path, "xl/worksheets/sheet7.xml")
    assert "<conditionalFormatting" in cohort_xml
    assert "<colorScale>" in cohort_xml
    # native charts on the summary sheet, which opens first
    charts = [n for n in names if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    assert len(charts) == 3
    assert 'tabSelected="1"' in _xml(path, "xl/worksheets/sheet1.xml")
    assert '<c:grouping val="stacked"/>' in "".join(_xml(path, c) for c in charts)
    summary = book.load_sheet("summary", header_row=None).to_polars()
    assert summary.row(0)[0] == "Retention report"


def test_xlsx_definitions_numbers_are_numbers(runner: CliRunner, in_tmp: Path) -> None:
    run(runner, "nrr", MOVES, "-o", "n.xlsx", "-q")
    path = in_tmp / "n.xlsx"
    defs = fastexcel.read_excel(str(path)).load_sheet("definitions").to_polars()
    keys = defs["key"].to_list()
    sheet = _xml(path, f"xl/worksheets/sheet{len(fastexcel.read_excel(str(path)).sheet_names)}.xml")

    def cell(key: str) -> str:
        row = keys.index(key) + 2
        match = re.search(rf'<c r="B{row}"[^>]*>.*?</c>', sheet)
        assert match is not None
        return match.group(0)

    for key in ("definitions.window", "definitions.calendar.start_month", "input.rows_read"):
        assert 't="s"' not in cell(key), key  # a number cell, not a shared string
    assert 't="s"' in cell("definitions.method")


# ----------------------------------------------------------------------------- currency
def test_currency_setting_reaches_every_human_format(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "retention.yaml").write_text('currency: "$"\n')
    table = run(runner, "bridge", MOVES, "--grain", "quarter")
    assert "Start ARR ($)" in table
    assert "8,051,882.24" in table  # cells stay plain numbers
    assert "| End ARR ($) |" in run(runner, "bridge", MOVES, "--grain", "quarter", "-f", "markdown")
    run(runner, *REPORT, "--grain", "quarter", "-o", "r.html", "-q")
    html = (in_tmp / "r.html").read_text()
    assert "<b>$8.05M</b>" in html
    assert ">-$515.1k<" in html
    run(runner, "bridge", MOVES, "--grain", "quarter", "-o", "b.xlsx", "-q")
    assert 'formatCode="&quot;$&quot;#,##0.00"' in _xml(in_tmp / "b.xlsx", "xl/styles.xml")
    # JSON and CSV do not change
    (in_tmp / "retention.yaml").unlink()
    plain = run(runner, "bridge", MOVES, "-f", "json")
    (in_tmp / "retention.yaml").write_text("currency: USD\n")
    assert run(runner, "bridge", MOVES, "-f", "json") == plain
    assert "End ARR (USD)" in run(runner, "bridge", MOVES)


def test_currency_defaults_to_the_fx_reporting_currency() -> None:
    assert Config().display_currency is None
    fx = {"reporting_currency": "eur", "rates": {"USD": 0.92}}
    assert Config.model_validate({"fx": fx}).display_currency == "EUR"
    assert Config.model_validate({"fx": fx, "currency": "€"}).display_currency == "€"


def test_currency_setting_is_checked(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "retention.yaml").write_text('currency: "12"\n')
    out = runner.invoke(app, ["nrr", MOVES])
    assert out.exit_code == 2
    assert "currency" in out.stderr


# ----------------------------------------------------------------------------- definitions travel
def test_definitions_hash_in_markdown_table_and_csv_meta(runner: CliRunner, in_tmp: Path) -> None:
    args = ("nrr", MOVES, "--grain", "quarter")
    full = json.loads(run(runner, *args, "-f", "json"))["definitions_sha256"]
    assert f"· definitions {full[:12]}_" in run(runner, *args, "-f", "markdown")
    assert f"definitions {full[:12]}" in run(runner, *args)
    plain = run(runner, *args, "-f", "csv")
    assert not plain.startswith("#")
    meta = run(runner, *args, "-f", "csv", "--meta")
    head = [line for line in meta.splitlines() if line.startswith("#")]
    assert f"# definitions_sha256: {full}" in head
    assert meta.splitlines()[len(head) :] == plain.splitlines()
    stamped = run(runner, *args, "-f", "csv", "--meta", "--stamp")
    assert "# generated_at: " in stamped
    report = json.loads(run(runner, *REPORT, "--grain", "year", "-f", "json"))
    md = run(runner, *REPORT, "--grain", "year", "-f", "markdown")
    assert f"_definitions {report['definitions_sha256'][:12]}_" in md
