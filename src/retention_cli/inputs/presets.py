"""Presets: vendor exports read as plain config (issue 14 §1).

A preset is a YAML file in ``inputs/presets/`` written in the ordinary config
keys (:mod:`retention_cli.config`), so a user can copy one and adapt it. Its
first line is a comment ``# <export name>: <summary>``; its signature is the
set of headers its ``columns:`` name: a file with all of them "looks like"
that export. A user's config keys override the preset's (``columns:`` merged
key by key, other sections key by key).
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import TYPE_CHECKING, Any

from retention_cli.errors import UsageError

if TYPE_CHECKING:
    from retention_cli.config import Config


def _dir() -> Any:
    return resources.files("retention_cli.inputs").joinpath("presets")


@functools.cache
def names() -> tuple[str, ...]:
    """The shipped presets' names, sorted."""
    return tuple(sorted(p.name[:-5] for p in _dir().iterdir() if p.name.endswith(".yaml")))


def text(name: str) -> str:
    """The YAML of preset ``name``; an unknown name is a :class:`UsageError`."""
    if name not in names():
        msg = f"no preset {name!r} (the presets are: {', '.join(names())})"
        raise UsageError(msg, param="preset", hint="`retention presets` lists them")
    return str(_dir().joinpath(f"{name}.yaml").read_text(encoding="utf-8"))


def summary(name: str) -> tuple[str, str]:
    """(export name, one-line summary) from the preset's first comment line."""
    first = text(name).splitlines()[0].lstrip("#").strip()
    title, _, rest = first.partition(": ")
    return title, rest or title


@functools.cache
def data(name: str) -> dict[str, Any]:
    """The preset's keys as read from its YAML (validated as a config)."""
    from retention_cli.config import parse_config
    from retention_cli.safeyaml import load_yaml

    raw = load_yaml(text(name)) or {}
    parse_config(raw, source=f"preset {name}")
    return dict(raw)


def _norm(header: str) -> str:
    return re.sub(r"[\s_\-]+", "", header.strip().lower())


INDEX = "index.json"
"""Each preset's ``columns:`` values, so that asking whether a file looks like an
export needs no YAML parser at start-up (tests/test_presets.py keeps it equal to
the YAML files; regenerate it with :func:`column_index`)."""


def column_index() -> dict[str, list[str]]:
    """Each shipped preset's mapped headers, read from its YAML."""
    return {name: sorted(set((data(name).get("columns") or {}).values())) for name in names()}


@functools.cache
def _signatures() -> tuple[tuple[str, frozenset[str]], ...]:
    index = json.loads(_dir().joinpath(INDEX).read_text(encoding="utf-8"))
    return tuple((name, frozenset(_norm(h) for h in index[name])) for name in names())


def looks_like(headers: list[str]) -> tuple[str, str] | None:
    """(preset name, export name) of the preset whose signature ``headers`` have
    (the one naming the most headers wins), else ``None``."""
    have = {_norm(h) for h in headers}
    best = max(
        ((len(sig), name) for name, sig in _signatures() if len(sig) >= 3 and sig <= have),
        default=None,
    )
    if best is None or not changes_numbers(best[1]):
        return None
    return best[1], summary(best[1])[0]


READING_ONLY = frozenset({"shape", "columns", "preset", "date_format", "delimiter", "sheet"})
"""Preset keys that only say where things are, not what an amount means."""


def changes_numbers(name: str) -> bool:
    """Whether preset ``name`` has rules beyond a column mapping (statuses, units,
    intervals, …): only then does reading its export without it give other numbers.

    A file that looks like the dbt mrr-playbook input reads the same with a plain
    column mapping, so it is not refused; a Stripe export read by hand is.
    """
    return bool(set(data(name)) - READING_ONLY)


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``over``'s keys on top, mappings merged key by key."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def with_preset(config: Config, name: str | None = None) -> Config:
    """``config`` on top of preset ``name`` (default: the config's ``preset:``);
    the config itself when neither names one."""
    name = name or config.preset
    if name is None:
        return config
    from retention_cli.config import parse_config

    own = config.model_dump(exclude_unset=True)
    merged = merge(data(name), own)
    merged["preset"] = name
    return parse_config(merged, source=f"config with preset {name}")
