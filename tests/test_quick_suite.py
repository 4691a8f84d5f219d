"""The quick suite (``pytest -m "not slow"``): every test tests/conftest.py lists as
slow or sampled still exists, so a renamed test cannot slip back into the quick set."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT, SAMPLED, SLOW


@pytest.mark.slow
def test_every_listed_test_is_collected() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    ids = {line.strip() for line in run.stdout.splitlines() if "::" in line}
    functions = {i.split("[", 1)[0] for i in ids}
    stale = [k for k in SLOW if k not in ids and k not in functions]
    stale += [k for k in SAMPLED if k not in functions]
    assert not stale, f"tests/conftest.py lists tests that no longer exist: {stale}"
