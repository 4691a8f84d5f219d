"""The hostile-input corpus of issue 19, generated (never hand-pasted).

Each :class:`Case` is one hostile input, option or config from the issue: the
files it needs (built here from ``examples/``), the command line(s) to run in
the directory holding them, and what must happen: the exit code, a substring
that stderr must contain (the file, line or option at fault), values worked
out by hand for the numbers-right cases, and text that must never reach the
terminal. ``tests/test_hostile.py`` runs every case.

Run as a script to write the corpus out for a look by hand::

    python tests/hostile/make_corpus.py /tmp/corpus    # one folder per case
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CONFIGS = ROOT / "configs"

TINY = (EXAMPLES / "tiny_movements.csv").read_text(encoding="utf-8")
HEADER, *ROWS = TINY.splitlines()
NRF = (CONFIGS / "nrf-454.yaml").read_bytes()
BASELINE = json.loads((EXAMPLES / "ci" / "baseline.json").read_text(encoding="utf-8"))
SAAS = (EXAMPLES / "saas_movements.csv").read_bytes()
THRESHOLDS = (EXAMPLES / "ci" / "thresholds.yaml").read_bytes()
SPEND = (EXAMPLES / "spend.csv").read_bytes()

#: Bytes that must never reach a terminal raw: ESC, BEL, the C1 CSI/OSC and
#: the right-to-left override.
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\x9d", "\u202e")


@dataclass(frozen=True)
class Outcome:
    """What one run did: exit code, the two streams, seconds taken."""

    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    cwd: Path


#: A custom check: None when the run is right, else what is wrong.
Check = Callable[[Outcome], "str | None"]


@dataclass(frozen=True)
class Case:
    """One hostile case of issue 19.

    ``exit``: the allowed exit codes. ``stderr``: substrings that stderr must
    contain whenever the exit code is not 0 (the file, line or option named;
    ``a|b`` means either).
    ``stdout``: substrings stdout must contain on exit 0 (hand-computed
    values, data text shown verbatim). ``warn``: substrings stderr must
    contain on exit 0. ``absent``: text in neither stream. ``changes``: files
    a successful run (exit 0) may rewrite; every other file in ``files`` must
    be byte-identical afterwards. ``process``: run in a subprocess under a memory limit and
    ``timeout`` seconds of CPU time (real process behaviour: /dev/zero, bombs,
    runaway loops, signals); ``sigint_after``: send SIGINT that many seconds
    after the process starts reading stdin.
    """

    id: str
    item: str
    files: dict[str, bytes]
    commands: tuple[tuple[str, ...], ...]
    exit: tuple[int, ...] = (2,)
    stderr: tuple[str, ...] = ()
    stdout: tuple[str, ...] = ()
    warn: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()
    symlinks: dict[str, str] = field(default_factory=dict)
    stdin: bytes | None = None
    process: bool = False
    timeout: float = 10.0
    sigint_after: float | None = None
    check: Check | None = None

    def write(self, dest: Path) -> None:
        """Write the case's files (and symlinks) into ``dest``."""
        dest.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            path = dest / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        for name, target in self.symlinks.items():
            (dest / name).symlink_to(target)


# ----------------------------------------------------------------------------- data builders
def csv(*rows: str, header: str = HEADER, end: str = "\n") -> bytes:
    """A movements CSV: ``header`` then ``rows`` (default: the tiny example)."""
    body = rows or tuple(ROWS)
    return (header + "\n" + "\n".join(body) + end).encode("utf-8")


def tiny_with(segment: str = "SMB", account: str = "A") -> bytes:
    """The tiny example with account A renamed and its segment replaced."""
    out = []
    for row in ROWS:
        date, acc, kind, amount, seg = row.split(",")
        if acc == "A":
            acc, seg = account, segment
        out.append(",".join(_quote(v) for v in (date, acc, kind, amount, seg)))
    return csv(*out)


def _quote(value: str) -> str:
    if any(c in value for c in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def baseline(mutate: Callable[[dict], None]) -> bytes:
    """``examples/ci/baseline.json`` (a report of saas_movements) changed by ``mutate``."""
    data = json.loads(json.dumps(BASELINE))
    mutate(data)
    return json.dumps(data, indent=2).encode("utf-8")


def gzip_bomb(expanded_mib: int) -> bytes:
    """A small .csv.gz that expands to ``expanded_mib`` MiB of valid-looking rows
    (one header member, then the same compressed 1 MiB member repeated)."""
    row = b"2025-01-10,A,expansion,1.00,SMB\n"
    mib = row * (1024 * 1024 // len(row))
    member = gzip.compress(mib, compresslevel=9, mtime=0)
    head = gzip.compress(HEADER.encode() + b"\n2025-01-01,A,new,1.00,SMB\n", mtime=0)
    return head + member * expanded_mib


def yaml_alias_bomb() -> bytes:
    """Nine levels of nine aliases (9**9 leaves) as the value of a known key,
    so the config's validation error would quote the whole expanded value."""
    lines = [
        "policies:",
        "  churn_grace:",
        '    - &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ]
    for i in range(1, 9):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"    - &a{i} [{refs}]")
    return ("\n".join(lines) + "\n").encode()


def subscriptions(*rows: str) -> bytes:
    """A subscriptions CSV."""
    return ("account_id,start_date,end_date,arr,segment\n" + "\n".join(rows) + "\n").encode()


def parquet_tiny_float(value: float) -> bytes:
    """The tiny example as Parquet with a float ``amount`` column and one extra row."""
    import polars as pl

    frame = pl.read_csv(io.BytesIO(csv()), infer_schema_length=0).with_columns(
        pl.col("amount").cast(pl.Float64)
    )
    extra = pl.DataFrame(
        {"date": ["2025-12-01"], "account_id": ["A"], "type": ["expansion"],
         "amount": [value], "segment": ["SMB"]}
    )  # fmt: skip
    buf = io.BytesIO()
    pl.concat([frame, extra]).write_parquet(buf)
    return buf.getvalue()


# ----------------------------------------------------------------------------- custom checks
def _json_periods(out: Outcome) -> list[dict]:
    return json.loads(out.stdout)["periods"]


def end_arr_is(period: str, cents: int) -> Check:
    """The json bridge's total end ARR of ``period`` is exactly ``cents``."""

    def check(out: Outcome) -> str | None:
        rows = [r for r in _json_periods(out) if r["period"] == period and r.get("segment") is None]
        got = round(rows[-1]["end_arr"] * 100) if rows else None
        return None if got == cents else f"end ARR of {period}: {got} cents, expected {cents}"

    return check


def none_not_merged(out: Outcome) -> str | None:
    """A real segment named ``(none)`` stays apart from blank segments."""
    if out.exit_code != 0:
        return None
    segs = [r["segment"] for r in _json_periods(out) if r["period"] == "2025-01"]
    segs = [s for s in segs if s is not None]
    if len(segs) != len(set(segs)) or len(segs) < 3:
        return f"blank and '(none)' segments merged: {segs}"
    return None


def total_distinct(out: Outcome) -> str | None:
    """A real segment named ``Total`` does not look like the total row."""
    if out.exit_code != 0:
        return None
    lines = [ln for ln in out.stdout.splitlines() if ln.split()[:2] == ["2025-01", "Total"]]
    return None if len(lines) <= 1 else "a segment named Total looks like the total row"


def xml_parses(name: str) -> Check:
    """The file ``name`` is well-formed XML."""

    def check(out: Outcome) -> str | None:
        import xml.etree.ElementTree as ET

        try:
            ET.fromstring((out.cwd / name).read_bytes())
        except ET.ParseError as exc:
            return f"{name} is not valid XML: {exc}"
        return None

    return check


def no_raw_html(name: str, tag: str) -> Check:
    """The file ``name`` does not embed ``tag`` raw."""

    def check(out: Outcome) -> str | None:
        text = (out.cwd / name).read_text(encoding="utf-8", errors="replace")
        return f"{name} embeds raw {tag!r}" if tag in text else None

    return check


def md_rows_whole(out: Outcome) -> str | None:
    """No carriage return splits a Markdown table row."""
    if "\r" in out.stdout:
        return "a raw carriage return is in the Markdown output"
    return None


def rejects_formula(out: Outcome) -> str | None:
    """The rejects CSV neutralises a formula, or stderr says it is kept verbatim."""
    text = (out.cwd / "rejects.csv").read_text(encoding="utf-8")
    import csv as csv_module

    rows = csv_module.reader(io.StringIO(text))
    raw = any(cell.startswith("=") for row in rows for cell in row)
    if raw and "formula" not in out.stderr.lower():
        return "rejects.csv writes =HYPERLINK(...) raw without saying so"
    return None


def no_9999_period(out: Outcome) -> str | None:
    """No period in 9999 or after the data's last date is reported."""
    if "9999" in out.stdout:
        return "a '9999-12-31' no-end sentinel is reported as a churn in 9999"
    return None


# ----------------------------------------------------------------------------- the cases
T = "t.csv"
TINY_BYTES = csv()
OVERFLOW_ROWS = tuple(f"2025-01-10,X{i:03d},new,999999999999999.99,SMB" for i in range(100))
MARKUP = {
    "markup_close_tag": "[/x]",
    "markup_legacy": "[legacy] Acme",
    "markup_red": "[red]",
    "markup_link": "[link=http://evil.example]click[/link]",
}
ESCAPES = {
    "clear_screen": "\x1b[2J\x1b[H",
    "ansi_colour": "\x1b[31mred",
    "osc_title": "\x1b]0;pwned\x07",
    "osc_clipboard": "\x1b]52;c;ZXZpbA==\x07",
    "rtl_override": "evil\u202etxt.exe",
}
REPORTS = (
    ("bridge", T, "--by", "segment"),
    ("report", T, "--by", "segment"),
    ("explain", T, "--period", "2025-06", "--metric", "bridge"),
)


def cases() -> list[Case]:
    """Every case of issue 19 that is about input data, options or config."""
    out: list[Case] = []
    add = out.append

    # ---- item 1: an output over an input, baseline, thresholds, spend or config
    base = {T: TINY_BYTES}
    add(
        Case(
            "output_is_input",
            "1",
            base,
            (("bridge", T, "-o", T),),
            stderr=("--output|same file|is the input",),
        )
    )
    add(
        Case(
            "output_is_input_json",
            "1",
            base,
            (("nrr", T, "-f", "json", "-o", T),),
            stderr=("--output|same file|is the input",),
        )
    )
    add(
        Case(
            "rejects_is_input",
            "1",
            {"bad.csv": csv(*ROWS, "2025-13-01,Z,new,1.00,SMB")},
            (("bridge", "bad.csv", "--on-invalid", "skip", "--rejects", "bad.csv"),),
            stderr=("--rejects|same file|is the input",),
        )
    )
    saas_check = {"saas.csv": SAAS, "base.json": baseline(lambda d: None)}
    add(
        Case(
            "baseline_is_output",
            "1",
            saas_check,
            (("check", "saas.csv", "--baseline", "base.json", "-o", "base.json"),),
            stderr=("--output|same file|is the input",),
        )
    )
    add(
        Case(
            "symlink_to_input",
            "1",
            base,
            (("bridge", T, "-o", "link.csv"),),
            symlinks={"link.csv": T},
            stderr=("--output|same file|is the input",),
        )
    )
    add(
        Case(
            "summary_is_input",
            "1",
            saas_check,
            (("check", "saas.csv", "--baseline", "base.json", "--summary", "saas.csv"),),
            stderr=("--summary|same file|is the input",),
        )
    )
    add(
        Case(
            "junit_is_baseline",
            "1",
            saas_check,
            (("check", "saas.csv", "--baseline", "base.json", "--junit", "base.json"),),
            stderr=("--junit|same file|is the baseline",),
        )
    )
    add(
        Case(
            "thresholds_is_output",
            "1",
            {**saas_check, "th.yaml": THRESHOLDS},
            (("check", "saas.csv", "--thresholds", "th.yaml", "-f", "json", "-o", "th.yaml"),),
            stderr=("--output|same file|is the input",),
        )
    )
    add(
        Case(
            "spend_is_output",
            "1",
            {T: TINY_BYTES, "spend.csv": SPEND},
            (("economics", T, "--spend", "spend.csv", "-o", "spend.csv"),),
            stderr=("--output|same file|is the input",),
        )
    )
    add(
        Case(
            "config_is_output",
            "1",
            {T: TINY_BYTES, "cfg.yaml": NRF},
            (("nrr", T, "-c", "cfg.yaml", "-f", "markdown", "-o", "cfg.yaml"),),
            stderr=("--output|same file|is the input",),
        )
    )
    add(
        Case(
            "auto_config_is_output",
            "1",
            {T: TINY_BYTES, "retention.yaml": NRF},
            (("nrr", T, "-f", "json", "-o", "retention.yaml"),),
            stderr=("--output|same file|is the input",),
        )
    )

    # ---- item 2 (via the "full disk" internal error): an output that cannot be written
    for fmt in ("json", "csv", "xlsx"):
        add(
            Case(
                f"disk_full_{fmt}",
                "2",
                base,
                (("bridge", T, "-f", fmt, "-o", "/dev/full"),),
                stderr=("/dev/full",),
                process=True,
                timeout=4,
            )
        )

    # ---- item 3: data read as terminal markup
    for cid, text in MARKUP.items():
        add(
            Case(
                cid,
                "3",
                {T: tiny_with(segment=text, account=text)},
                (*REPORTS, ("nrr", T, "--by", "segment"), ("churn", T, "--by", "segment")),
                exit=(0,),
                stdout=(text,),
                absent=("\x1b]8;",),
            )
        )
    add(
        Case(
            "markup_in_error",
            "3",
            {T: csv(*ROWS, "2025-12-01,Z,new,[/x],SMB")},
            (("validate", T), ("bridge", T)),
            exit=(2,),
            stderr=("[/x]",),
        )
    )

    # ---- item 4: silent overflow
    add(
        Case(
            "overflow_sum",
            "4",
            {T: csv(*OVERFLOW_ROWS), "out.json": b"{}\n"},
            (("bridge", T), ("bridge", T, "-f", "json", "-o", "out.json"), ("nrr", T)),
            exit=(0, 2),  # 0 only with a wider exact type: then the sum is right
            stderr=("t.csv|overflow|too large",),
            stdout=("99,999,999,999,999,999.00",),
            absent=("-84,467,440,737,095,517.16",),
            changes=("out.json",),
        )
    )
    add(
        Case(
            "overflow_cell",
            "4",
            {T: csv(*ROWS, "2025-12-01,Z,new,99999999999999999999.99,SMB")},
            (("bridge", T),),
            stderr=("t.csv:13",),
        )
    )

    # ---- item 5: Excel's limits (cell text; the 1,050,000-row case is in test_hostile, slow)
    long_seg = "S" * 40_000
    add(
        Case(
            "xlsx_long_text",
            "5",
            {T: tiny_with(segment=long_seg)},
            (("bridge", T, "--by", "segment", "-o", "out.xlsx"),),
            exit=(0, 2),  # refused, or written with a warning that the text was cut
            stderr=("32,767|32767",),
            warn=("32,767|32767",),
        )
    )

    # ---- item 6: unbounded reads
    add(
        Case(
            "gzip_bomb",
            "6",
            {"bomb.csv.gz": gzip_bomb(2048)},
            (("nrr", "bomb.csv.gz"),),
            stderr=("bomb.csv.gz",),
            process=True,
            timeout=6,
        )
    )
    add(
        Case(
            "dev_zero",
            "6",
            {},
            (("nrr", "/dev/zero"),),
            stderr=("/dev/zero",),
            process=True,
            timeout=4,
        )
    )
    add(
        Case(
            "gzip_stdin",
            "low",
            {},
            (("nrr", "-"),),
            stdin=gzip.compress(TINY_BYTES, mtime=0),
            stderr=("gzip",),
            absent=("UTF-8",),
        )
    )

    # ---- item 7: YAML alias bomb, auto-loaded
    add(
        Case(
            "yaml_alias_bomb",
            "7",
            {T: TINY_BYTES, "retention.yaml": yaml_alias_bomb()},
            (("nrr", T),),
            stderr=("retention.yaml",),
            process=True,
            timeout=4,
        )
    )

    # ---- item 8: sentinel and outlier dates, Ctrl-C, future ends
    add(
        Case(
            "date_9999",
            "8",
            {T: csv(*ROWS, "9999-12-31,Z,new,100.00,SMB")},
            (("nrr", T), ("report", T)),
            stderr=("9999-12-31",),
            process=True,
            timeout=4,
        )
    )
    add(
        Case(
            "dates_1900_9999",
            "8",
            {
                T: csv(
                    *(f"{1900 + i * 8099 // 301}-01-15,Y{i:03d},new,1.00,SMB" for i in range(302))
                )
            },
            (("nrr", T),),
            stderr=("1900-01-15",),
            process=True,
            timeout=4,
        )
    )
    add(
        Case(
            "sentinel_end_9999",
            "8",
            {
                "subs.csv": subscriptions(
                    "A,2025-01-10,9999-12-31,1000.00,SMB",
                    "B,2025-02-01,2025-06-01,500.00,SMB",
                    "C,2025-03-01,,700.00,SMB",
                )
            },
            (("churn", "subs.csv"), ("bridge", "subs.csv", "-f", "csv")),
            exit=(0,),
            check=no_9999_period,
            process=True,
            timeout=4,
        )
    )
    add(
        Case(
            "future_end_not_churn",
            "8",
            {
                "subs.csv": subscriptions(
                    "A,2025-01-10,2031-06-30,1000.00,SMB",
                    "B,2025-02-01,2025-06-01,500.00,SMB",
                    "C,2025-12-01,,700.00,SMB",
                )
            },
            (("bridge", "subs.csv", "--grain", "year", "-f", "csv"),),
            exit=(0,),
            absent=("FY2031", "FY2032"),
        )
    )
    add(
        Case(
            "sigint_stdin",
            "8",
            {},
            (("nrr", "-"),),
            exit=(130,),
            stderr=(),
            process=True,
            timeout=4,
            sigint_after=0.5,
        )
    )

    # ---- item 9: round once
    add(
        Case(
            "double_rounding",
            "9",
            {T: csv("2025-01-10,A,new,10.0049999999,SMB")},
            (("bridge", T, "-f", "json"),),
            exit=(0,),
            check=end_arr_is("2025-01", 1000),
        )
    )
    add(
        Case(
            "double_rounding_small",
            "9",
            {T: csv("2025-01-10,A,new,1000.00,SMB", "2025-01-20,A,expansion,0.0049999999,SMB")},
            (("bridge", T, "-f", "json"),),
            exit=(0,),
            check=end_arr_is("2025-01", 100000),
        )
    )
    add(
        Case(
            "past_six_decimals_warns",
            "9",
            {T: csv("2025-01-10,A,new,1000.0000001,SMB")},
            (("bridge", T, "-f", "json"),),
            exit=(0,),
            warn=("rounded",),
            check=end_arr_is("2025-01", 100000),
        )
    )

    # ---- item 10: currency markers
    add(
        Case(
            "currency_markers_mixed",
            "10",
            {
                T: csv(
                    "2025-01-10,A,new,$1000,SMB",
                    "2025-01-10,B,new,€1000,SMB",
                    "2025-01-10,C,new,£1000,SMB",
                    "2025-01-10,D,new,1000 EUR,SMB",
                    "2025-01-10,E,new,JPY 1000,SMB",
                )
            },
            (("bridge", T),),
            stderr=("t.csv",),
            absent=("5,000.00",),
        )
    )
    add(
        Case(
            "currency_marker_vs_column",
            "10",
            {
                T: csv(
                    "2025-01-10,A,new,€1000,USD",
                    "2025-01-10,B,new,1000,EUR",
                    header="date,account_id,type,amount,currency",
                ),
                "retention.yaml": b"fx:\n  reporting_currency: USD\n  rates:\n    EUR: 1.10\n",
            },
            (("bridge", T),),
            stderr=("t.csv:2",),
        )
    )

    # ---- item 11: check against a weakened baseline
    def gate(cid: str, mutate: Callable[[dict], None], named: str) -> None:
        add(
            Case(
                cid,
                "11",
                {"saas.csv": SAAS, "base.json": baseline(mutate)},
                (("check", "saas.csv", "--baseline", "base.json"),),
                stderr=(named,),
            )
        )

    gate("baseline_missing_section", lambda d: d.pop("retention"), "retention")
    gate("baseline_nrr_abc", lambda d: d["retention"][-1].update(nrr="abc"), "nrr")
    gate("baseline_missing_sha", lambda d: d.pop("definitions_sha256"), "definitions_sha256")
    gate("baseline_wrong_sha", lambda d: d.update(definitions_sha256="0" * 64), "definitions")
    gate("baseline_grain_decade", lambda d: d["options"].update(grain="decade"), "grain")
    add(
        Case(
            "thresholds_min_list",
            "11/internal",
            {"saas.csv": SAAS, "th.yaml": b"nrr: {min: [1, 2]}\n"},
            (("check", "saas.csv", "--thresholds", "th.yaml"),),
            stderr=("th.yaml|--thresholds",),
        )
    )

    # ---- item 12: terminal escapes in data
    for cid, text in ESCAPES.items():
        add(
            Case(
                cid,
                "12",
                {T: tiny_with(segment=text, account=text)},
                (
                    *REPORTS,
                    ("validate", T),
                    ("nrr", T, "--by", "segment"),
                    ("bridge", T, "--by", "segment", "-f", "markdown"),
                    ("bridge", T, "--by", "segment", "-f", "html"),
                ),
                exit=(0,),
                absent=RAW_CONTROLS,
            )
        )
    add(
        Case(
            "escape_in_error",
            "12",
            {T: csv(*ROWS, "2025-12-01,Z,new,\x1b]0;pwned\x07,SMB")},
            (("validate", T), ("bridge", T)),
            stderr=("t.csv:13",),
            absent=RAW_CONTROLS,
        )
    )

    # ---- internal errors that must become located messages
    add(
        Case(
            "column_named_line",
            "internal",
            {T: csv(*(r + ",x" for r in ROWS), header=HEADER + ",_line")},
            (("bridge", T, "--by", "_line"), ("validate", T)),
            exit=(0, 2),
            stderr=("_line",),
        )
    )
    add(
        Case(
            "header_account_id_twice",
            "internal",
            {T: csv(*(r + ",Z" for r in ROWS), header=HEADER + ",Account ID")},
            (("explain", T, "--period", "2025-06"), ("bridge", T)),
            stderr=("Account ID",),
        )
    )
    for col in ("period", "nrr"):
        add(
            Case(
                f"by_{col}",
                "internal",
                {T: csv(*(r + ",x" for r in ROWS), header=HEADER + f",{col}")},
                (("nrr", T, "--by", col), ("bridge", T, "--by", col)),
                exit=(0, 2),
                stderr=(col,),
            )
        )
    add(
        Case(
            "by_segment_twice",
            "internal",
            base,
            (("bridge", T, "--by", "segment,segment"),),
            exit=(0, 2),
            stderr=("--by",),
        )
    )
    for cid, date in (("date_0000", "0000-01-01"), ("date_0001", "0001-01-05")):
        add(
            Case(
                cid,
                "internal",
                {T: csv(*ROWS, f"{date},Z,new,1.00,SMB")},
                (("nrr", T), ("validate", T)),
                stderr=(date,),
                process=True,
                timeout=4,
            )
        )
    add(
        Case(
            "date_9999_nrf",
            "internal",
            {T: csv(*ROWS, "9999-12-31,Z,new,1.00,SMB"), "nrf.yaml": NRF},
            (("nrr", T, "-c", "nrf.yaml"),),
            stderr=("9999-12-31",),
            process=True,
            timeout=4,
        )
    )
    add(
        Case(
            "calendar_fy9999_nrf",
            "internal",
            {"nrf.yaml": NRF},
            (("calendar", "--year", "FY9999", "-c", "nrf.yaml"),),
            exit=(0, 2),
            stderr=("9999",),
        )
    )
    add(
        Case(
            "window_huge",
            "internal",
            base,
            (("nrr", T, "--window", "1000000"),),
            exit=(0, 2),
            stderr=("--window",),
            process=True,
            timeout=4,
        )
    )
    add(
        Case(
            "window_overflow",
            "internal",
            base,
            (("nrr", T, "--window", "99999999999999999999"),),
            stderr=("--window",),
        )
    )
    tsv = TINY.replace(",", "\t").encode()
    add(
        Case(
            "delimiter_tab_literal",
            "internal",
            {"t.txt": tsv},
            (("nrr", "t.txt", "--delimiter", "\\t"),),
            exit=(0, 2),
            stderr=("--delimiter",),
        )
    )
    add(
        Case(
            "delimiter_empty",
            "internal",
            base,
            (("nrr", T, "--delimiter", ""),),
            stderr=("--delimiter",),
        )
    )
    add(
        Case(
            "delimiter_two_chars",
            "internal",
            base,
            (("nrr", T, "--delimiter", "ab"),),
            stderr=("--delimiter",),
        )
    )
    add(
        Case(
            "explain_by_unknown_value",
            "internal",
            base,
            (("explain", T, "--period", "2025-06", "--metric", "bridge", "--by", "segment=Nope"),),
            exit=(0, 2),
            stderr=("Nope",),
        )
    )

    # ---- found by tests/test_fuzz_load.py (not in the list): an internal error
    add(
        Case(
            "snapshot_pre_1970_rounding",
            "fuzz",
            {"s.csv": b"date,account_id,arr\n1969-12-31,A,0.123\n2025-01-31,A,1.00\n"},
            (("nrr", "s.csv"), ("validate", "s.csv")),
            exit=(0, 2),
            stderr=("s.csv",),
        )
    )

    # ---- the Low list
    multiline = csv(
        '2025-01-10,A,new,1000.00,"two\nlines"',
        "2025-01-12,B,new,2000.00,SMB",
        "2025-13-15,C,new,1000.00,SMB",
    )
    add(
        Case(
            "multiline_quoted_line_numbers",
            "low",
            {T: multiline},
            (("bridge", T), ("validate", T)),
            stderr=("t.csv:5",),
        )
    )
    add(
        Case(
            "multiline_quoted_rejects_line",
            "low",
            {T: multiline},
            (("bridge", T, "--on-invalid", "skip", "--rejects", "rejects.csv"),),
            exit=(0,),
            check=lambda o: (
                None
                if (o.cwd / "rejects.csv").read_text().splitlines()[1].startswith("5,")
                else "rejects.csv names the wrong line"
            ),
        )
    )
    add(
        Case(
            "junit_control_chars",
            "low",
            {
                "saas.csv": SAAS.replace(b",Mid-Market,", b",Mid\x01Market\x0b,"),
                "th.yaml": b'nrr: {min: 0.5}\nsegments:\n  "segment=Mid\\x01Market\\x0b":\n    nrr: {min: 0.5}\n',
            },
            (
                (
                    "check",
                    "saas.csv",
                    "--thresholds",
                    "th.yaml",
                    "--by",
                    "segment",
                    "--junit",
                    "junit.xml",
                ),
            ),
            exit=(0, 1),
            check=xml_parses("junit.xml"),
        )
    )
    add(
        Case(
            "summary_raw_html",
            "low",
            {
                "saas.csv": SAAS.replace(b",Mid-Market,", b",<img src=x onerror=alert(1)>,"),
                "th.yaml": b'nrr: {min: 0.5}\nsegments:\n  "segment=<img src=x onerror=alert(1)>":\n    nrr: {min: 0.5}\n',
            },
            (
                (
                    "check",
                    "saas.csv",
                    "--thresholds",
                    "th.yaml",
                    "--by",
                    "segment",
                    "--summary",
                    "summary.md",
                ),
            ),
            exit=(0, 1),
            check=no_raw_html("summary.md", "<img"),
        )
    )
    add(
        Case(
            "cr_in_value_markdown",
            "low",
            {T: tiny_with(segment="a\rb")},
            (("bridge", T, "--by", "segment", "-f", "markdown"),),
            exit=(0,),
            check=md_rows_whole,
        )
    )
    for cid, end in (("blank_line_end", "\n\n"), ("blank_line_end_crlf", "\n\r\n")):
        add(
            Case(
                cid,
                "low",
                {T: csv(end=end)},
                (("bridge", T), ("validate", T)),
                exit=(0, 2),
                stderr=("blank",),
                absent=("missing value",),
            )
        )
    add(
        Case(
            "blank_line_middle",
            "low",
            {T: csv(*ROWS[:3], "", *ROWS[3:])},
            (("bridge", T), ("validate", T)),
            exit=(0, 2),
            stderr=("t.csv:5",),
            absent=("missing value",),
        )
    )
    add(
        Case(
            "rejects_hyperlink",
            "low",
            {T: csv(*ROWS, '2025-13-01,Z,new,1.00,"=HYPERLINK(""http://evil.example"",""x"")"')},
            (("bridge", T, "--on-invalid", "skip", "--rejects", "rejects.csv"),),
            exit=(0,),
            check=rejects_formula,
        )
    )
    add(
        Case(
            "segment_named_none",
            "low",
            {
                T: csv(
                    "2025-01-10,A,new,1.00,(none)",
                    "2025-01-10,B,new,2.00,",
                    "2025-01-10,C,new,3.00,SMB",
                )
            },
            (("bridge", T, "--by", "segment", "-f", "json"),),
            exit=(0, 2),
            stderr=("(none)",),
            check=none_not_merged,
        )
    )
    add(
        Case(
            "segment_named_total",
            "low",
            {T: tiny_with(segment="Total")},
            (("bridge", T, "--by", "segment"),),
            exit=(0, 2),
            stderr=("Total",),
            check=total_distinct,
        )
    )
    add(
        Case(
            "duplicate_header",
            "low",
            {T: csv(*(r + ",X" for r in ROWS), header=HEADER + ",segment")},
            (("bridge", T, "--by", "segment"), ("validate", T)),
            stderr=("segment",),
        )
    )
    add(
        Case(
            "row_missing_last_field",
            "low",
            {T: csv(*ROWS[:2], ROWS[2].rsplit(",", 1)[0], *ROWS[3:])},
            (("bridge", T), ("validate", T)),
            stderr=("t.csv:4",),
        )
    )
    add(
        Case(
            "yaml_duplicate_keys",
            "low",
            {
                T: TINY_BYTES,
                "cfg.yaml": b"fiscal_year:\n  start_month: 2\nfiscal_year:\n  start_month: 7\n",
            },
            (("nrr", T, "-c", "cfg.yaml"),),
            stderr=("fiscal_year",),
        )
    )
    add(
        Case(
            "nul_in_id",
            "low",
            {T: tiny_with(account="A\x00B")},
            (("bridge", T), ("validate", T)),
            stderr=("t.csv:2",),
        )
    )
    add(
        Case(
            "fullwidth_digits",
            "low",
            {T: csv(*ROWS, "2025-12-01,Z,new,１０００,SMB")},
            (("bridge", T),),
            stderr=("t.csv:13",),
            absent=("out of range",),
        )
    )
    add(
        Case(
            "parquet_tiny_float",
            "low",
            {"t.parquet": parquet_tiny_float(1e-7)},
            (("bridge", "t.parquet"),),
            exit=(0, 2),
            stderr=("amount",),
            absent=("not a number",),
        )
    )
    add(
        Case(
            "missing_type_column_hint",
            "low",
            {
                T: csv(
                    *(",".join(r.split(",")[:2] + r.split(",")[3:]) for r in ROWS),
                    header="date,account_id,amount,segment",
                )
            },
            (("bridge", T, "--shape", "movements"),),
            stderr=("type",),
            absent=("type='date'",),
        )
    )
    add(
        Case(
            "init_failure_hint",
            "low",
            {},
            (("init", "no/such/dir/retention.yaml"),),
            stderr=("no/such/dir",),
            absent=("--output",),
        )
    )
    add(
        Case(
            "decimal_comma",
            "low",
            {T: csv(*ROWS, '2025-12-01,Z,new,"1.234,56",SMB')},
            (("bridge", T),),
            stderr=("t.csv:13", "decimal"),
        )
    )

    # ---- session 3: values of real exports that read as a wrong number, silently
    for i, amount in enumerate(("$€1000", "USD EUR 1000", "€1000 $")):
        add(
            Case(
                f"several_currency_markers_{i}",
                "s3",
                {T: csv(*ROWS, f"2025-12-01,Z,new,{amount},SMB")},
                (("bridge", T), ("validate", T)),
                stderr=("t.csv:13", "more than one currency marker", amount),
            )
        )
    add(
        Case(
            "datetime_bad_time",
            "s3",
            {"s.csv": subscriptions("A,2024-02-29T99:99,,1200,SMB", "B,2024-01-05,,100,SMB")},
            (("bridge", "s.csv"),),
            stderr=("s.csv:2", "2024-02-29T99:99"),
        )
    )
    add(
        Case(
            "datetime_utc_offset",
            "s3",
            {
                "s.csv": subscriptions(
                    "A,2024-01-31T23:30:00-05:00,,1200,SMB", "B,2024-02-05,,100,SMB"
                )
            },
            (("bridge", "s.csv", "-f", "json"),),
            exit=(0,),
            warn=("UTC offset", "line 2"),
            check=end_arr_is("2024-01", 120000),  # the date written: in January
        )
    )
    add(
        Case(
            "accounts_blank_child",
            "s3",
            {
                "s.csv": subscriptions("A,2024-01-05,,1200,SMB", "B,2024-01-05,,100,SMB"),
                "accounts.csv": b"account_id,parent_id\nA,P\n,P\nB,P\n",
            },
            (("bridge", "s.csv", "--accounts", "accounts.csv"),),
            stderr=("accounts.csv:3", "blank account_id"),
        )
    )
    add(
        Case(
            "subscription_inside_one_month",
            "s3",
            {"s.csv": subscriptions("A,2024-01-05,2024-01-20,1200,SMB", "B,2024-01-05,,100,SMB")},
            (("bridge", "s.csv", "-f", "json"),),
            exit=(0,),
            warn=("1 subscription(s) start and end inside one month",),
            check=end_arr_is("2024-01", 10000),
        )
    )
    return out


def main(argv: list[str]) -> int:
    """Write every case's files under ``argv[0]`` (one folder per case) and list them."""
    dest = Path(argv[0]) if argv else Path("hostile-corpus")
    for case in cases():
        case.write(dest / case.id)
        cmds = " ; ".join("retention " + " ".join(map(repr, c)) for c in case.commands)
        print(f"{case.id:32} item {case.item:11} exit {case.exit}  {cmds}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
