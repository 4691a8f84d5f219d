"""Docstring examples are part of the API docs: they must run, be right, and exist.

Every module's doctests run with the repository root as the working directory
(the examples read ``examples/*.csv``). Every function of the public Python API
(``retention_cli._EXPORTS``) must have a numpy-style ``Examples`` section, so
the promise in the README cannot rot; and ruff's docstring rules must cover the
modules those functions live in.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import retention_cli
from tests.conftest import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(retention_cli.__path__, "retention_cli.")
    if m.name != "retention_cli.__main__"
)
OPTIONS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _api() -> dict[str, object]:
    return {name: getattr(retention_cli, name) for name in sorted(retention_cli._EXPORTS)}


API_FUNCTIONS = sorted(name for name, obj in _api().items() if inspect.isfunction(obj))
EXAMPLES = re.compile(r"^\s*Examples\n\s*-{8,}\n(?:.*\n)*?\s*>>> ", re.MULTILINE)


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("name", ["retention_cli", *MODULES])
@pytest.mark.usefixtures("at_root")
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=OPTIONS)
    assert result.failed == 0


def test_the_api_list_is_found() -> None:
    # guard: the test below really checks something
    assert {"load", "build_ledger", "retention", "bridge", "churn", "explain"} <= set(API_FUNCTIONS)


@pytest.mark.parametrize("name", API_FUNCTIONS)
def test_api_function_has_an_example(name: str) -> None:
    # its module's doctests (above) run the example; here: that there is one
    func = getattr(retention_cli, name)
    doc = inspect.getdoc(func) or ""
    assert EXAMPLES.search(doc + "\n"), f"retention_cli.{name} has no numpy 'Examples' section"
    tests = doctest.DocTestFinder(recurse=False).find(func, name, globs={})
    assert sum(len(t.examples) for t in tests) >= 2


def _expand(pattern: str) -> Iterator[str]:
    """``a/{b,c}.py`` → ``a/b.py``, ``a/c.py`` (one brace group, as in pyproject)."""
    m = re.search(r"\{([^}]*)\}", pattern)
    if m is None:
        yield pattern
        return
    for alt in m.group(1).split(","):
        yield from _expand(pattern[: m.start()] + alt + pattern[m.end() :])


def test_docstring_lint_covers_the_api() -> None:
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "D" in lint["select"]
    assert lint["pydocstyle"]["convention"] == "numpy"
    negated = [p[1:] for p in lint["per-file-ignores"] if p.startswith("!")]
    assert len(negated) == 1
    assert "D" in lint["per-file-ignores"]["!" + negated[0]]
    covered = list(_expand(negated[0]))
    files = {
        Path(inspect.getfile(obj)).resolve().relative_to(ROOT).as_posix()
        for obj in _api().values()
        if inspect.isfunction(obj) or inspect.isclass(obj)
    }
    for file in sorted(files):
        assert any(Path(file).match(p) for p in covered), f"{file}: not under ruff's D rules"
