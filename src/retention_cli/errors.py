"""Errors raised by the core, and the exit codes the CLI maps them to."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of every ``retention`` command (SPEC §11)."""

    OK = 0
    """Success; for ``check``, every metric passed."""
    REGRESSION = 1
    """``check`` only: a metric regressed or broke a threshold."""
    UNUSABLE = 2
    """The data, config or arguments could not be used."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row (or the whole file) of an input.

    ``line`` is the 1-based line of the file (the header is line 1); ``None``
    for a problem that belongs to the file rather than one row. ``check`` is
    the stable id of the check that found it (``bad_date``, ``negative_arr``,
    …; see :mod:`retention_cli.inputs.checks`), ``None`` for a file-level problem.
    """

    message: str
    line: int | None = None
    column: str | None = None
    value: str | None = None
    check: str | None = None

    def format(self, path: str) -> str:
        """Render as ``file:line: column: message (value)``."""
        where = path if self.line is None else f"{path}:{self.line}"
        col = f" {self.column}:" if self.column else ""
        val = "" if self.value is None else f" ({_show(self.value)})"
        return f"{where}:{col} {self.message}{val}"


def _show(value: str, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class RetentionError(Exception):
    """Base class of every error the core raises on purpose.

    ``hint`` says how to fix it; the CLI prints it under the message.
    ``param`` names the function parameter (``period``, ``as_of``, ``metric``)
    whose value is at fault: the message itself never names a CLI flag, and
    ``str(error)`` reads ``"period: no month '2024-13' in the data"``. The CLI
    shows the flag for that parameter instead (``--period: …``).
    """

    exit_code: ExitCode = ExitCode.UNUSABLE

    def __init__(self, message: str, *, hint: str | None = None, param: str | None = None) -> None:
        self.message = message
        self.hint = hint
        self.param = param
        super().__init__(self.located())

    def located(self, name: str | None = None) -> str:
        """The message prefixed with ``name`` (default: the parameter's own name)."""
        where = name or self.param
        return f"{where}: {self.message}" if where else self.message


class ConfigError(RetentionError):
    """The config file or a config value is unusable."""


class UsageError(RetentionError):
    """An option or argument value is unusable."""


@dataclass
class InputError(RetentionError):
    """An input file has problems; ``problems`` holds the first of them."""

    path: str
    problems: list[Problem] = field(default_factory=list)
    total: int = 0
    hint: str | None = None
    param: str | None = None
    """The parameter whose value may be at fault (e.g. ``delimiter``), if one is."""

    def __post_init__(self) -> None:
        self.total = max(self.total, len(self.problems))
        noun = "problem" if self.total == 1 else "problems"
        self.message = f"{self.path}: {self.total:,} {noun} found"
        Exception.__init__(self, self.message)

    def lines(self, limit: int = 20) -> list[str]:
        """The first ``limit`` problems, one formatted line each."""
        return [p.format(self.path) for p in self.problems[:limit]]
