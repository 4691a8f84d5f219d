"""Docstring examples are part of the API docs: they must run and be right."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import retention_cli

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
