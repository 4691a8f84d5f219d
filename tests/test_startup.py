"""Start-up: a command imports only what it needs (issue 17, item 5).

Not a timing test: it fails when a module the command path does not need is imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from retention_cli.cli import app, command_app

ROOT = Path(__file__).resolve().parents[1]

RUN_NRR = """
import contextlib, io, json, sys
sys.argv = ["retention", "nrr", "examples/tiny_movements.csv"]
from retention_cli.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit as exc:
        assert exc.code in (0, None), exc.code
print(json.dumps(sorted(sys.modules)))
"""

NOT_FOR_A_TABLE = (
    "sqlglot", "duckdb", "xlsxwriter", "fastexcel", "hypothesis", "jinja2", "pandas",
    "pyarrow", "numpy", "retention_cli.sql", "retention_cli.render.xlsx",
    "retention_cli.render.html", "retention_cli.render.csv", "retention_cli.render.json",
    "retention_cli.render.markdown", "retention_cli.check", "retention_cli.validate",
    "xml.etree.ElementTree", "yaml", "retention_cli.safeyaml",
)  # fmt: skip


def modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_nrr_to_the_terminal_imports_no_writer_engine_or_test_tool() -> None:
    loaded = modules_after(RUN_NRR)
    assert "retention_cli.render.table" in loaded  # the run did render its table
    assert not {m for m in loaded if m in NOT_FOR_A_TABLE or m.startswith("retention_cli.sql.")}


def test_importing_the_cli_loads_no_data_library() -> None:
    loaded = modules_after(
        "import json, sys, retention_cli.cli; print(json.dumps(sorted(sys.modules)))"
    )
    assert not loaded & {"polars", "rich", "yaml", "retention_cli.config", "retention_cli.service"}


def test_only_the_named_command_is_built() -> None:
    only = command_app(["retention", "nrr", "data.csv"])
    assert [c.callback.__name__ for c in only.registered_commands] == ["nrr"]
    assert only.registered_callback is app.registered_callback
    assert len(app.registered_commands) > 1  # the app itself is left whole
    for argv in (["retention"], ["retention", "--version"], ["retention", "nrrr"]):
        assert command_app(argv) is app
