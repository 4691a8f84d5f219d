"""Results: plain frames plus a small metadata record that every renderer takes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import polars as pl

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Result:
    """What one command computed, ready for any renderer.

    ``frame`` has ``period, start, end``, the ``by`` columns, then ``keys``;
    money in integer cents. Other columns (prefixed ``_``) are internal.
    """

    command: str
    title: str
    frame: pl.DataFrame
    keys: tuple[str, ...]
    by: tuple[str, ...]
    input: dict[str, Any] | None
    options: dict[str, Any]
    definitions: dict[str, Any]
    caption: str
    warnings: tuple[str, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)
    table_limit: int | None = None
    """The terminal table shows the first rows only (``explain --top``)."""
    head: tuple[str, ...] = ("period", "start", "end")
    """The columns that say what a row is about, before ``by`` and ``keys``."""
    rows_key: str = "periods"
    """The JSON key of the rows."""
    stamp: str | None = None
    """When the run happened (only with ``--stamp``: output is otherwise timeless)."""
    currency: str | None = None
    """The currency human formats show with money (a symbol or a code; not in JSON or CSV)."""
    chosen: bool = False
    """``keys`` are the ones asked for (``--columns``): every format shows exactly them."""

    @property
    def columns(self) -> list[str]:
        """Output columns in order: head (period, start, end), by..., keys."""
        return [*self.head, *self.by, *self.keys]

    @property
    def definitions_sha256(self) -> str:
        """Hash of the definitions in force; equal hashes mean comparable numbers."""
        return definitions_hash(self.definitions)

    @property
    def short_hash(self) -> str:
        """The first 12 hex digits of :attr:`definitions_sha256` (shown in captions)."""
        return self.definitions_sha256[:12]


@dataclass(frozen=True)
class Report:
    """Several results over one input (``retention report``): one section each."""

    sections: dict[str, Result]
    input: dict[str, Any]
    options: dict[str, Any]
    definitions: dict[str, Any]
    warnings: tuple[str, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)
    command: str = "report"
    title: str = "Retention report"
    stamp: str | None = None
    currency: str | None = None
    """The currency human formats show with money (a symbol or a code)."""

    @property
    def definitions_sha256(self) -> str:
        """Hash of the definitions in force."""
        return definitions_hash(self.definitions)

    @property
    def short_hash(self) -> str:
        """The first 12 hex digits of :attr:`definitions_sha256`."""
        return self.definitions_sha256[:12]


def definitions_hash(definitions: dict[str, Any]) -> str:
    """sha256 of the canonical JSON form of a definitions record."""
    text = json.dumps(definitions, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def choose_columns(result: Result | Report, names: tuple[str, ...]) -> Result | Report:
    """``result`` showing only the keys ``names``, in that order, in every format.

    The row labels (period, segments) stay. In a report each section keeps the
    names it has and a section with none of them is left out. A name no
    section has is an error that lists the keys there are.
    """
    from dataclasses import replace

    from retention_cli.errors import UsageError

    parts = result.sections if isinstance(result, Report) else {"": result}
    known = list(dict.fromkeys(k for part in parts.values() for k in part.keys))
    unknown = [n for n in names if n not in known]
    if unknown:
        msg = f"no column {unknown[0]!r} in {result.command}'s output"
        hint = "the columns are: " + ", ".join(known)
        raise UsageError(msg, param="keys", hint=hint)
    chosen = {
        name: replace(part, keys=keys, chosen=True)
        for name, part in parts.items()
        if (keys := tuple(dict.fromkeys(n for n in names if n in part.keys)))
    }
    if isinstance(result, Report):
        return replace(result, sections=chosen)
    return chosen[""]
