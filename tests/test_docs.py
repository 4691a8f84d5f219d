"""The README's console examples are real output (docstring examples: test_doctests.py)."""

from __future__ import annotations

import re
import shlex

import pytest
from typer.testing import CliRunner

from retention_cli.cli import app
from tests.conftest import ROOT

README_BLOCK = re.compile(r"```console\n\$ retention ([^\n]*)\n(.*?)```", re.DOTALL)


def _readme_examples() -> list[tuple[str, str]]:
    """README console blocks whose command runs on bundled files alone (no pipe, no
    hand-made file), with the output the README shows."""
    text = (ROOT / "README.md").read_text()
    out = []
    for command, shown in README_BLOCK.findall(text):
        if any(c in command for c in "|>") or "$ " in shown:
            continue
        files = [a for a in shlex.split(command) if a.endswith((".csv", ".yaml", ".json", ".xlsx"))]
        if not all((ROOT / f).exists() for f in files):
            continue
        out.append((command, shown))
    return out


def test_readme_examples_are_found() -> None:
    assert len(_readme_examples()) >= 8  # guard: the test below really checks something


@pytest.mark.parametrize(("command", "shown"), _readme_examples(), ids=lambda v: str(v)[:60])
def test_readme_shows_real_output(
    command: str, shown: str, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, shlex.split(command))
    got = "\n".join(line.rstrip() for line in result.stdout.rstrip("\n").splitlines())
    assert got == shown.rstrip("\n"), f"README example out of date: retention {command}"
