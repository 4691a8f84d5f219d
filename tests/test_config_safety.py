"""Hostile YAML in configs and thresholds: alias bombs, duplicate keys, huge values, code tags
(issue 19, item 7 and the duplicate-key case of "Low")."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from retention_cli.check import CheckError, load_thresholds
from retention_cli.config import MAX_SHOWN, load_config, load_yaml, shown
from retention_cli.errors import ConfigError
from tests.conftest import EXAMPLES, ROOT


def bomb(levels: int = 9) -> str:
    """The classic "billion laughs": ``levels`` lists of nine aliases of the one before."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghijklmnop"
    for prev, name in itertools.pairwise(names[: levels + 1]):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + f"\ncolumns: *{names[levels]}\n"


def config_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "retention.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


def test_the_bomb_is_small() -> None:
    assert len(bomb()) < 400  # the case was 337 bytes
    assert bomb(2).count("\n") == 4


BOUNDED = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path

    limit = 1 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (20, 20))
    from retention_cli.check import load_thresholds
    from retention_cli.config import load_config
    from retention_cli.errors import RetentionError

    for load in (load_config, load_thresholds):
        try:
            load(Path(sys.argv[1]))
        except RetentionError as exc:
            print(exc)
    """
)


@pytest.mark.skipif(os.name != "posix", reason="resource limits")
def test_an_alias_bomb_fails_fast_in_bounded_memory(tmp_path: Path) -> None:
    """Under a 1 GiB address-space and 20 s CPU limit (and a 60 s wall clock):
    before, this ran past 60 s and 5.9 GB."""
    path = tmp_path / "retention.yaml"
    path.write_text(bomb())
    done = subprocess.run(
        [sys.executable, "-c", BOUNDED, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    config, thresholds = done.stdout.splitlines()
    want = (
        f"{path}:5: not valid YAML: aliases expand to more than 10,000 values (at *d); "
        "write the values out instead"
    )
    assert config == want
    assert thresholds == want


def test_the_auto_loaded_config_bomb_through_the_cli(in_tmp: Path) -> None:
    (in_tmp / "retention.yaml").write_text(bomb())
    done = subprocess.run(
        [sys.executable, "-m", "retention_cli", "nrr", str(EXAMPLES / "tiny_movements.csv")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "retention.yaml:5: not valid YAML: aliases expand to more than 10,000" in done.stderr
    assert "internal error" not in done.stderr


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "limits.yaml"
    path.write_text(
        "nrr: &floor {min: 0.9}\n"
        "segments:\n"
        "  segment=SMB: {nrr: *floor, grr: {min: 0.8}}\n"
        "  segment=Enterprise: {nrr: *floor}\n"
    )
    limits = load_thresholds(path)
    assert limits.rules["nrr"] == limits.segments[1][1]["nrr"]
    assert load_yaml(bomb(2))["columns"][0][0] == ["lol"] * 9  # 909 values: allowed


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, "columns: &a [1, *a]\n")
    assert message.endswith(
        "retention.yaml:1: not valid YAML: the alias *a refers to a value that contains it"
    )


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, "columns: " + "[" * 1500 + "]" * 1500 + "\n")
    assert message.endswith("retention.yaml: not valid YAML: values nested too deeply")


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    message = config_error(
        tmp_path,
        "policies:\n  churn_grace: 1\nfiscal_year:\n  start_month: 2\npolicies:\n  churn_grace: 3\n",
    )
    assert message.endswith(
        "retention.yaml:5: not valid YAML: duplicate key 'policies' (first on line 1)"
    )
    nested = "fx:\n  reporting_currency: USD\n  rates:\n    EUR: 1.1\n    GBP: 1.2\n    EUR: 1.3\n"
    assert config_error(tmp_path, nested).endswith(
        ":6: not valid YAML: duplicate key 'EUR' (first on line 4)"
    )
    path = tmp_path / "limits.yaml"
    path.write_text("nrr: {min: 0.9}\ngrr: {min: 0.8}\nnrr: {min: 0.7}\n")
    with pytest.raises(CheckError, match=r"limits\.yaml:3: not valid YAML: duplicate key 'nrr'"):
        load_thresholds(path)


def test_values_python_cannot_hold_are_yaml_errors(tmp_path: Path) -> None:
    message = config_error(tmp_path, "policies:\n  churn_grace: " + "1" * 5000 + "\n")
    assert message.endswith(":2: not valid YAML: cannot read the value here (too many digits)")
    message = config_error(tmp_path, "columns: !!timestamp 2024-13-45\n")
    assert message.endswith(
        ":1: not valid YAML: cannot read the value here (month must be in 1..12)"
    )


def test_merge_keys_may_be_overridden() -> None:
    data = load_yaml("base: &b {x: 1, y: 2}\nmore: {<<: *b, x: 3}\n")
    assert data["more"] == {"x": 3, "y": 2}


def test_values_quoted_in_errors_are_capped(tmp_path: Path) -> None:
    huge = "x" * 100_000
    for text in (
        f"columns: {huge}\n",
        f"columns:\n  {huge}: Customer\n",
        f"fiscal_year:\n  label: {huge}\n",
        f"fx:\n  reporting_currency: {huge}\n",
        f"fx:\n  reporting_currency: USD\n  rates:\n    EUR: {huge}\n",
        f"nope_{huge}: 1\n",
        "columns: " + bomb(3).split("columns: ")[0].replace("\n", " ") + "\n",  # allowed aliases
    ):
        message = config_error(tmp_path, text)
        assert len(message) < 4 * MAX_SHOWN + 300, message[:300]


def test_shown_is_bounded_and_cheap() -> None:
    nested: list[object] = ["lol"] * 9
    for _ in range(9):
        nested = [nested] * 9  # 9**10 values: a full repr would never finish
    assert len(shown(nested)) <= MAX_SHOWN
    assert shown("abc") == "'abc'"
    assert shown("y" * 1000).startswith("'yyy")
    assert len(shown("y" * 1000)) <= MAX_SHOWN


@pytest.mark.parametrize(
    "tag", ['!!python/object/apply:os.system ["touch pwned"]', "!!python/name:os.system"]
)
def test_code_tags_are_not_run(in_tmp: Path, tag: str) -> None:
    message = config_error(in_tmp, f"columns: {tag}\n")
    assert "not valid YAML: could not determine a constructor" in message
    assert not (in_tmp / "pwned").exists()
    with pytest.raises(yaml.YAMLError):
        load_yaml(f"x: {tag}\n")
