"""Output safety: never over an input, replaced whole or not at all (issue 19, items 1, 2, 5)."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import polars as pl
import pytest

from retention_cli import output
from retention_cli.errors import UsageError
from retention_cli.output import (
    atomic_open,
    check_outputs,
    protected_paths,
    refuse_inputs,
    write_file,
)
from retention_cli.render import xlsx
from retention_cli.render.xlsx import write_xlsx
from retention_cli.result import Result
from tests.conftest import ROOT

OLD = b'{"previous": "metrics", "intact": true}\n'


def write_with(path: Path, body: Callable[[IO[Any]], object], **kwargs: Any) -> None:
    with atomic_open(path, **kwargs) as fh:
        body(fh)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def previous(tmp_path: Path) -> Path:
    path = tmp_path / "metrics.json"
    path.write_bytes(OLD)
    path.chmod(0o640)
    return path


def result(n: int, text: str = "acct") -> Result:
    frame = pl.DataFrame(
        {
            "account_id": [f"{text}{i}" for i in range(n)],
            "end_arr": list(range(n)),
            "logos": [1] * n,
        }
    )
    return Result(
        command="explain",
        title="Explain",
        frame=frame,
        keys=("end_arr", "logos"),
        by=(),
        input=None,
        options={},
        definitions={},
        caption="",
        head=("account_id",),
        rows_key="accounts",
    )


# ----------------------------------------------------------------------------- atomic writes
def test_writes_and_replaces_keeping_mode(previous: Path) -> None:
    write_file(previous, "new\n")
    assert previous.read_bytes() == b"new\n"
    assert stat.S_IMODE(previous.stat().st_mode) == 0o640
    assert leftovers(previous.parent) == []


def test_new_file_gets_the_umask_default(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_file(tmp_path / "new.csv", "a\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o640


def test_append_keeps_the_content_and_adds(previous: Path) -> None:
    with atomic_open(previous, append=True) as fh:
        fh.write("## more\n")
    assert previous.read_bytes() == OLD + b"## more\n"
    write_file(previous.parent / "fresh.md", "x\n", append=True)
    assert (previous.parent / "fresh.md").read_text() == "x\n"


@pytest.mark.parametrize("where", ["fsync", "replace", "write"])
def test_full_disk_leaves_the_previous_file(
    previous: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if where == "fsync":
        monkeypatch.setattr(output.os, "fsync", full)
    elif where == "replace":
        monkeypatch.setattr(output.Path, "replace", full)

    def body(fh: IO[str]) -> None:
        fh.write('{"half": ')
        if where == "write":
            full()
        fh.write("1}\n")

    with pytest.raises(UsageError) as caught:
        write_with(previous, body, param="output")
    assert previous.read_bytes() == OLD
    assert leftovers(previous.parent) == []
    err = caught.value
    assert err.param == "output"
    assert str(err) == (
        f"output: no space left on device writing {str(previous)!r}; the previous file is unchanged"
    )


def test_a_wrapped_os_error_is_found(previous: Path) -> None:
    """XlsxWriter wraps the disk error in its own FileCreateError."""
    from xlsxwriter.exceptions import FileCreateError

    def body(fh: IO[bytes]) -> None:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as exc:
            raise FileCreateError(exc) from None

    with pytest.raises(UsageError, match="no space left on device"):
        write_with(previous, body, binary=True)
    assert previous.read_bytes() == OLD


@pytest.mark.parametrize("exc", [ValueError("render bug"), KeyboardInterrupt()])
def test_an_error_inside_discards_the_output(previous: Path, exc: BaseException) -> None:
    def body(fh: IO[str]) -> None:
        fh.write("partial")
        raise exc

    with pytest.raises(type(exc)):
        write_with(previous, body)
    assert previous.read_bytes() == OLD
    assert leftovers(previous.parent) == []


def test_a_core_error_inside_is_not_taken_for_a_write_error(previous: Path) -> None:
    def body(fh: IO[str]) -> None:
        try:
            Path("/nonexistent/spend.csv").read_text()
        except OSError:
            raise UsageError("no spend file", param="spend") from None

    with pytest.raises(UsageError, match=r"^spend: no spend file$"):
        write_with(previous, body)
    assert previous.read_bytes() == OLD


def test_xlsx_render_error_keeps_the_previous_book(previous: Path) -> None:
    with pytest.raises(AttributeError):
        write_with(previous, lambda fh: write_xlsx(None, fh), binary=True)  # type: ignore[arg-type]
    assert previous.read_bytes() == OLD


def test_unwritable_paths_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        write_file(tmp_path / "missing" / "out.csv", "x", param="rejects")
    assert caught.value.param == "rejects"
    assert "No such file or directory" in str(caught.value)
    with pytest.raises(UsageError, match="it is a directory"):
        write_file(tmp_path, "x")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_directory(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(UsageError, match="Permission denied"):
            write_file(tmp_path / "out.csv", "x", param="junit")
    finally:
        tmp_path.chmod(0o700)


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs /dev/null")
def test_devices_are_written_directly() -> None:
    write_file("/dev/null", "nothing\n")
    assert stat.S_ISCHR(Path("/dev/null").stat().st_mode)  # still the device


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_device_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no space left on device"):
        write_file("/dev/full", "x" * 100_000)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_xlsx_on_a_full_device_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"^rejects: no space left on device writing '/dev/full'$"):
        write_with(
            Path("/dev/full"), lambda fh: write_xlsx(result(3), fh), binary=True, param="rejects"
        )


def test_symlinked_output_is_written_through(previous: Path) -> None:
    link = previous.parent / "link.json"
    link.symlink_to(previous)
    write_file(link, "new\n")
    assert link.is_symlink()
    assert previous.read_text() == "new\n"


# ----------------------------------------------------------------------------- inputs are safe
@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "d.csv"
    path.write_text("account_id,date,type,amount\nA,2024-01-01,new,100\n")
    return path


def test_output_over_the_input_is_refused(data: Path) -> None:
    before = data.read_bytes()
    with pytest.raises(UsageError) as caught:
        write_file(data, "x", protected=[data])
    err = caught.value
    assert err.param == "output"
    assert err.message == f"cannot write {str(data)!r}: it is the input file {str(data)!r}"
    assert err.hint == "choose another output path"
    assert data.read_bytes() == before


def test_symlink_and_hard_link_to_an_input_are_refused(data: Path) -> None:
    soft, hard = data.parent / "soft.csv", data.parent / "hard.csv"
    soft.symlink_to(data)
    os.link(data, hard)
    protected = protected_paths(inputs=[data])
    for path in (soft, hard, data.parent / "." / "d.csv"):
        with pytest.raises(UsageError, match="it is the input file"):
            write_file(path, "x", protected=protected, param="rejects")
    with pytest.raises(UsageError, match="it is the input file"):  # the other way round
        refuse_inputs(data, [soft])
    assert data.read_text().startswith("account_id")


def test_every_kind_of_protected_file(in_tmp: Path, data: Path) -> None:
    for name in ("base.json", "limits.yaml", "spend.csv", "retention.yaml"):
        (in_tmp / name).write_text("keep\n")
    protected = protected_paths(
        inputs=[data, "-", None], baseline="base.json", thresholds="limits.yaml", spend="spend.csv"
    )
    roles = {p.role: p.path.name for p in protected}
    assert roles == {
        "input file": "d.csv",
        "baseline": "base.json",
        "thresholds file": "limits.yaml",
        "spend file": "spend.csv",
        "config": "retention.yaml",  # read automatically, so protected automatically
    }
    for name, role in (("base.json", "baseline"), ("retention.yaml", "config")):
        with pytest.raises(UsageError, match=f"it is the {role} '{name}'"):
            write_file(name, "x", protected=protected, append=True, param="summary")
        assert (in_tmp / name).read_text() == "keep\n"


def test_an_absent_protected_file_protects_nothing(in_tmp: Path) -> None:
    write_file("retention.yaml", "x\n", protected=protected_paths())
    assert (in_tmp / "retention.yaml").read_text() == "x\n"


def test_outputs_must_differ(in_tmp: Path, data: Path) -> None:
    check_outputs({"output": "a.csv", "rejects": "b.csv", "junit": None})
    with pytest.raises(UsageError) as caught:
        check_outputs({"output": "a.csv", "rejects": "./a.csv"})
    assert str(caught.value) == "rejects: cannot write './a.csv': it is also the output file"
    with pytest.raises(UsageError, match=r"^junit: cannot write"):
        check_outputs({"output": "a.csv", "junit": data}, protected_paths(inputs=[data]))


# ----------------------------------------------------------------------------- kill -9
KILLED = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import polars as pl

    from retention_cli.output import atomic_open
    from retention_cli.render.xlsx import write_xlsx
    from retention_cli.result import Result

    n = 400_000
    frame = pl.DataFrame({"account_id": [f"acct{i}" for i in range(n)], "end_arr": range(n)})
    big = Result(command="explain", title="Explain", frame=frame, keys=("end_arr",), by=(),
                 input=None, options={}, definitions={}, caption="", head=("account_id",))
    with atomic_open(Path(sys.argv[1]), binary=True) as fh:
        fh.write(b"PK")  # the temporary file now exists with content
        fh.flush()
        print("writing", flush=True)
        write_xlsx(big, fh)
    print("done", flush=True)
    """
)


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_kill_during_an_xlsx_write_keeps_the_previous_file(tmp_path: Path) -> None:
    """Only a stray ``.report.xlsx.*.tmp`` may remain; the final name holds the old book."""
    book = tmp_path / "report.xlsx"
    write_xlsx(result(3), str(book))
    before = book.read_bytes()
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(book)],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "writing\n"
        time.sleep(0.3)  # inside write_xlsx
        assert proc.poll() is None, "the writer finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
    assert proc.returncode == -signal.SIGKILL
    assert book.read_bytes() == before
    assert all(name.startswith(".report.xlsx.") for name in leftovers(tmp_path))


# ----------------------------------------------------------------------------- Excel's limits
def test_rows_past_excel_s_limit_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "MAX_ROWS", 10)  # the header plus 9 rows
    path = tmp_path / "ok.xlsx"
    write_xlsx(result(9), str(path))
    assert path.exists()
    target = tmp_path / "big.xlsx"
    with pytest.raises(UsageError) as caught:
        write_xlsx(result(10), str(target))
    err = caught.value
    assert err.param == "output"
    assert err.message == (
        "the explain table has 10 rows; an Excel sheet holds at most 10 rows (9 below its header)"
    )
    assert err.hint is not None
    assert "CSV or JSON" in err.hint
    assert not target.exists()  # refused before anything was written


def test_long_text_past_excel_s_cell_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "MAX_CHARS", 100)
    write_xlsx(result(3, text="x" * 98), str(tmp_path / "ok.xlsx"))  # "xx…x2": 99
    write_xlsx(result(3, text="=" + "x" * 97), str(tmp_path / "ok2.xlsx"))  # "'=x…x2": 100
    with pytest.raises(UsageError) as caught:
        write_xlsx(result(3, text="=" + "x" * 98), str(tmp_path / "long.xlsx"))
    assert caught.value.message == (
        "the explain table has a value of 101 characters in column 'account_id'; "
        "an XLSX cell holds at most 100"
    )
    assert not (tmp_path / "long.xlsx").exists()


def test_long_definitions_text_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx, "MAX_CHARS", 200)
    res = result(2)
    long = Result(**{**res.__dict__, "notes": ("n" * 201,)})
    with pytest.raises(UsageError, match="the definitions sheet has a value of 201 characters"):
        write_xlsx(long, str(tmp_path / "x.xlsx"))


def test_the_real_limits() -> None:
    assert (xlsx.MAX_ROWS, xlsx.MAX_COLUMNS, xlsx.MAX_CHARS) == (1_048_576, 16_384, 32_767)


@pytest.mark.skipif(not Path("/dev/stdout").exists(), reason="needs /dev/stdout")
def test_dev_stdout_into_a_pipe_is_written_in_place() -> None:
    code = "from retention_cli.output import write_file; write_file('/dev/stdout', 'piped\\n')"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout == "piped\n"


def test_the_accounts_and_fx_rates_files_are_protected(in_tmp: Path) -> None:
    """-o aimed at the --accounts file or at the config's fx rates file is refused."""
    from typer.testing import CliRunner

    from retention_cli.cli import app
    from tests.conftest import EXAMPLES

    (in_tmp / "d.csv").write_text("account_id,date,arr\na1,2024-01-31,100\n", encoding="utf-8")
    (in_tmp / "acc.csv").write_text("account_id,parent_id\na1,P\n", encoding="utf-8")
    before = (in_tmp / "acc.csv").read_bytes()
    out = CliRunner().invoke(app, ["nrr", "d.csv", "--accounts", "acc.csv", "-o", "acc.csv"])
    assert out.exit_code == 2
    assert "accounts file" in out.stderr
    assert (in_tmp / "acc.csv").read_bytes() == before
    (in_tmp / "rates.csv").write_bytes((EXAMPLES / "fx_rates.csv").read_bytes())
    (in_tmp / "c.yaml").write_text("fx:\n  reporting_currency: USD\n  rates_file: rates.csv\n")
    rates = (in_tmp / "rates.csv").read_bytes()
    out = CliRunner().invoke(app, ["bridge", "d.csv", "-c", "c.yaml", "-o", "rates.csv"])
    assert out.exit_code == 2
    assert "fx rates file" in out.stderr
    assert (in_tmp / "rates.csv").read_bytes() == rates


@pytest.mark.parametrize("flag", ["-c", "--baseline", "--thresholds"])
def test_a_device_as_config_baseline_or_thresholds_is_refused(in_tmp: Path, flag: str) -> None:
    """/dev/zero read as a config, baseline or thresholds file grew to 4 GB."""
    from typer.testing import CliRunner

    from retention_cli.cli import app
    from tests.conftest import EXAMPLES

    data = str(EXAMPLES / "tiny_movements.csv")
    args = ["check", data, flag, "/dev/zero"] if flag != "-c" else ["nrr", data, "-c", "/dev/zero"]
    if flag == "--thresholds":
        args = [
            "check",
            data,
            "--baseline",
            str(EXAMPLES / "ci" / "baseline.json"),
            flag,
            "/dev/zero",
        ]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 2
    assert "not a regular file" in out.stderr
