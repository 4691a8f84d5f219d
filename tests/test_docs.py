"""Docstring examples are part of the API docs: they must run and be right."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
import shlex

import pytest
from typer.testing import CliRunner

import retention_cli
from retention_cli.cli import app
from tests.conftest import ROOT

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(retention_cli.__path__, "retention_cli.")
    if m.name != "retention_cli.__main__"
)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(
        importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0


def test_bridge_has_a_running_example() -> None:
    # guard: the docstring example above is really collected (a test that cannot fail otherwise)
    finder = doctest.DocTestFinder()
    tests = finder.find(importlib.import_module("retention_cli.metrics.bridge"))
    assert sum(len(t.examples) for t in tests) >= 4


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
