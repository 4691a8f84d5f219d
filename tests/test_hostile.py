"""Issue 19: every hostile case of tests/hostile/make_corpus.py, through the CLI.

For every case and command: no traceback, no "internal error", an allowed exit
code, stderr naming the file/line/option at fault, the expected values, no
raw terminal control text, and every input (and any earlier output)
byte-identical afterwards. Cases that need a real process (/dev/zero, bombs,
runaway loops, Ctrl-C) run in a subprocess under memory and CPU limits with a
timeout; the others run in-process with Typer's CliRunner.

``XFAIL`` is the to-do list: what each case does wrong on the code of the day.
xfail is strict, so a fixed case fails as XPASS until its line is removed.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retention_cli.cli import app
from tests.hostile.make_corpus import Case, Outcome, cases

MEMORY_LIMIT = 1024**3  # RLIMIT_AS of a subprocess case, bytes (Polars limited to 2 threads)

XFAIL: dict[str, str] = {
    # item 6: unbounded reads
    # item 9: double rounding
    # item 10: currency markers
    # internal errors
    # the Low list
}

CASES = cases()


def _limits(cpu_seconds: int) -> None:
    """In the child: cap address space and CPU time (SIGXCPU, then SIGKILL)."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")}  # fmt: skip
    env.update(COLUMNS="200", TERM="dumb", POLARS_MAX_THREADS="2")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    return env


#: Wall-clock allowance per CPU second of a subprocess case: the machine may be
#: busy; the CPU limit is what bounds the work.
WALL_PER_CPU = 4


def _wait_reading_stdin(pid: int, limit: float) -> None:
    """Wait (up to ``limit`` s) until ``pid``'s main thread blocks in read(0, …)
    on Linux x86-64, so that a signal lands in the run, not in start-up."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            call = Path(f"/proc/{pid}/syscall").read_text().split()
        except OSError:
            break
        if call[:2] == ["0", "0x0"]:
            return
        time.sleep(0.05)


def _in_subprocess(case: Case, args: tuple[str, ...], cwd: Path) -> Outcome:
    """Run ``retention args`` as a process under an address-space limit and
    ``case.timeout`` seconds of CPU; fail when it is still running after
    ``WALL_PER_CPU`` times that in wall-clock time."""
    cpu = max(1, int(case.timeout))
    wall = WALL_PER_CPU * case.timeout
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "retention_cli", *args],
        cwd=cwd,
        env=_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: _limits(cpu),
        start_new_session=True,
    )
    cmd = "retention " + " ".join(args)
    try:
        if case.sigint_after is not None:
            _wait_reading_stdin(proc.pid, wall)
            time.sleep(case.sigint_after)
            os.kill(proc.pid, signal.SIGINT)
            out, err = proc.communicate(timeout=wall)
        else:
            out, err = proc.communicate(input=case.stdin, timeout=wall)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{cmd}: still running after {wall} s "
                    f"(stderr: {err.decode(errors='replace')[-300:]!r})")  # fmt: skip
    code = proc.returncode
    if code in (-signal.SIGXCPU, -signal.SIGKILL):
        pytest.fail(f"{cmd}: stopped at the limit of {cpu} s of CPU time (signal {-code})")
    if code < 0:
        code = 128 - code  # killed by a signal: report as a shell would
    return Outcome(code, out.decode(errors="replace"), err.decode(errors="replace"),
                   time.monotonic() - start, cwd)  # fmt: skip


def _in_process(case: Case, args: tuple[str, ...], cwd: Path) -> Outcome:
    start = time.monotonic()
    r = CliRunner().invoke(app, list(args), input=case.stdin)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        import traceback

        tb = "".join(traceback.format_exception(*r.exc_info)) if r.exc_info else ""
        pytest.fail(f"retention {' '.join(args)} raised {r.exception!r}\n{tb[-1500:]}")
    return Outcome(r.exit_code, r.stdout, r.stderr, time.monotonic() - start, cwd)


def _snapshot(root: Path, case: Case) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in case.files}


def _has(text: str, wanted: str) -> bool:
    """``wanted`` (or one of its ``|``-separated alternatives) is in ``text``."""
    return any(alt in text for alt in wanted.split("|"))


def _problems(case: Case, args: tuple[str, ...], out: Outcome) -> list[str]:
    """What is wrong with one run of one case (empty: all right)."""
    cmd = "retention " + " ".join(args)
    both = out.stdout + out.stderr
    bad = []
    if "Traceback" in both:
        bad.append("a traceback")
    if "internal error" in both.lower():
        bad.append("an internal error: " + out.stderr.strip()[-300:])
    if out.exit_code not in case.exit:
        bad.append(f"exit {out.exit_code}, expected {case.exit}")
    if out.exit_code != 0:
        # validate reports the problems it finds on stdout; other commands on stderr
        said = both if args[0] == "validate" else out.stderr
        bad += [f"stderr does not name {s!r}" for s in case.stderr if not _has(said, s)]
    else:
        bad += [f"stdout lacks {s!r}" for s in case.stdout if s not in out.stdout]
        bad += [f"no warning naming {s!r}" for s in case.warn if not _has(out.stderr, s)]
    bad += [f"output contains {s!r}" for s in case.absent if s in both]
    if case.check is not None and not bad:
        msg = case.check(out)
        if msg:
            bad.append(msg)
    return [f"{cmd}: {b} (stderr: {out.stderr.strip()[:300]!r})" for b in bad]


def _params() -> list:
    return [
        pytest.param(
            c, id=c.id, marks=pytest.mark.xfail(reason=f"issue 19: {XFAIL[c.id]}", strict=True)
        )
        if c.id in XFAIL
        else pytest.param(c, id=c.id)
        for c in CASES
    ]


def test_corpus_ids_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    stale = set(XFAIL) - set(ids)
    assert not stale, f"XFAIL names unknown cases: {stale}"


@pytest.mark.parametrize("case", _params())
def test_hostile(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case.write(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = _snapshot(tmp_path, case)
    problems: list[str] = []
    for args in case.commands:
        run = _in_subprocess if case.process else _in_process
        out = run(case, args, tmp_path)
        problems += _problems(case, args, out)
        after = _snapshot(tmp_path, case)
        allowed = case.changes if out.exit_code == 0 else ()
        problems += [f"retention {' '.join(args)}: {name} was changed"
                     for name in before if name not in allowed and after[name] != before[name]]  # fmt: skip
        before = after
        if problems:
            break
    leftovers = sorted(
        p.name for p in tmp_path.iterdir() if p.name.startswith(".") or "tmp" in p.name
    )
    assert not leftovers, f"temporary files left behind: {leftovers}"
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_xlsx_row_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """1,050,000 accounts to .xlsx: refused (or split with a note), never a
    claim that the accounts add up when rows were not written."""
    import polars as pl

    n = 1_050_000
    pl.DataFrame(
        {"date": ["2025-01-10"] * n, "account_id": [f"A{i:07d}" for i in range(n)],
         "type": ["new"] * n, "amount": ["1.00"] * n}
    ).write_csv(tmp_path / "big.csv")  # fmt: skip
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(
        app, ["explain", "big.csv", "--period", "2025-01", "--metric", "bridge", "-o", "x.xlsx"]
    )
    assert "internal error" not in r.stderr
    if r.exit_code == 0:
        import openpyxl

        wb = openpyxl.load_workbook(tmp_path / "x.xlsx", read_only=True)
        rows = sum(ws.max_row for ws in wb.worksheets)
        assert rows >= n, "accounts missing from the workbook"
    else:
        assert r.exit_code == 2
        assert "1,048,576" in r.stderr or "Excel" in r.stderr
