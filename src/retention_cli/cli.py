"""The ``retention`` command line: parse options, call the core, render.

Options that several commands share are declared once, in :data:`SHARED`; the
:func:`command` decorator adds them to each command that takes them and turns
their values into a :class:`Run` (which builds the core's ``RunOptions``).
Every command runs inside one error handler (:func:`guarded`).

Heavy modules (Polars, the metrics core) are imported inside the commands so
that ``retention --help`` and ``--version`` start fast.
"""

from __future__ import annotations

import copy
import difflib
import functools
import gc
import inspect
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, get_args

import typer
from typer.core import TyperCommand, TyperGroup
from typer.models import OptionInfo

from retention_cli.errors import ExitCode, RetentionError
from retention_cli.options import BridgeMode, Grain, Method, OutputFormat, Shape

if TYPE_CHECKING:
    from retention_cli.config import Config
    from retention_cli.inputs import Loaded
    from retention_cli.service import RunOptions


class CohortMetricChoice(str, Enum):
    """``--metric`` of ``cohorts`` (mirrors ``metrics.cohorts.CohortMetric``, kept here so
    that ``--help`` does not import Polars)."""

    nrr = "nrr"
    grr = "grr"
    logos = "logos"


class OnInvalid(str, Enum):
    """``--on-invalid``: stop on a bad row, or leave it out and report it."""

    error = "error"
    skip = "skip"


class _Plain:
    """Help without type metavars: a flag shows no ``<bool>``, an argument with a
    metavar (``FILE``) no ``<str>``; values converted by :class:`_Coercion`."""

    def get_params(self, ctx: Any) -> list[Any]:
        """The parameters, with their help-type display fixed as above."""
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
            elif param.param_type_name == "argument" and param.metavar:
                param.display_type_rich = lambda ctx: None
            if (
                getattr(param, "_runtime_param", False) is None
                and hasattr(param, "type_descriptor")
                and _coercion_available()
            ):
                param._runtime_param = _Coercion()
        return params


@functools.cache
def _coercion_available() -> bool:
    """True when this Typer has the private conversion modules :class:`_Coercion` calls
    (Typer 0.29); any other Typer converts every value its own way."""
    from importlib.util import find_spec

    return all(find_spec(m) is not None for m in ("typer._coercion", "typer._param_types"))


_SLOW = object()
""":meth:`_Coercion.quick`'s answer for a value it leaves to Typer."""


class _Coercion:
    """Typer's conversion of one option's value, without Pydantic for the usual values.

    Typer converts every value through a Pydantic ``TypeAdapter`` built on first use
    (importing Pydantic and building an adapter per option is most of a tenth of a
    second). The values a command line usually holds are converted here with the very
    functions Typer's adapters call (a choice, a path) or the same plain rule (a str,
    a list of str, a whole number in range), so the result is the same object; any
    other value, and every value that fails, goes to Typer's own adapter, so each
    error message is Typer's word for word.
    """

    __slots__ = ("_typer",)

    def __init__(self) -> None:
        self._typer: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        """The parameter's value as the command receives it (Typer's ``RuntimeParam.coerce``)."""
        if value is None:
            return () if param.multiple or param.nargs == -1 else None
        if (quick := self.quick(value, param, ctx)) is not _SLOW:
            return quick
        if self._typer is None:
            from typer._coercion import build_runtime_param

            self._typer = build_runtime_param(param.type_descriptor)
        return self._typer.coerce(value, param, ctx)

    @staticmethod
    def quick(value: Any, param: Any, ctx: Any) -> Any:
        """``value`` converted as Typer's adapter would, or :data:`_SLOW`."""
        from typer._param_types import coerce_cli_choice, coerce_cli_path, routes_to_path

        desc = param.type_descriptor
        kind, info = desc.annotation, desc.parameter_info
        if info.parser is not None or desc.file_annotation is not None:
            return _SLOW
        if param.multiple or param.nargs == -1:
            if (
                kind == list[str]
                and isinstance(value, list | tuple)
                and all(type(v) is str for v in value)
            ):
                return list(value)
            return _SLOW
        try:
            if isinstance(kind, type) and issubclass(kind, Enum):
                return coerce_cli_choice(
                    value, choices=tuple(kind), case_sensitive=info.case_sensitive, ctx=ctx
                )
            if kind is str:
                return value if type(value) is str else _SLOW
            if kind is int and not info.clamp:
                number = value if type(value) is int else _whole(value)
                low, high = info.min, info.max
                if number is None or (low is not None and number < low):
                    return _SLOW
                return _SLOW if high is not None and number > high else number
            if routes_to_path(kind, info) and type(value) is str and value and "\0" not in value:
                path_type = info.path_type or kind
                if not (isinstance(path_type, type) and issubclass(path_type, Path)):
                    return _SLOW
                return coerce_cli_path(
                    path_type(value), info, path_type=path_type, param=param, ctx=ctx
                )
        except Exception:  # Typer's adapter says what is wrong
            return _SLOW
        return _SLOW


def _whole(value: Any) -> int | None:
    """``"12"`` → 12: a plain decimal whole number (no sign, space or leading zero), else None."""
    if type(value) is not str or not 0 < len(value) <= 18 or not value.isascii():
        return None
    if not value.isdigit() or (value[0] == "0" and value != "0"):
        return None
    return int(value)


class RetentionCommand(_Plain, TyperCommand):
    """A command whose ``--help`` shows no type metavars."""


class RetentionGroup(_Plain, TyperGroup):
    """The ``retention`` app: an option the parser rejects (``--grain week``, a
    misspelt option) is one ``error: … / hint: …`` pair on stderr and exit 2,
    like every other error."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """Run the command line; parse errors as in :func:`usage_error_lines`."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except typer.Abort:
            _say("aborted")
            sys.exit(1)
        except Exception as exc:
            if not isinstance(exc, _PARSE_ERROR):
                raise
            for line in usage_error_lines(exc):
                _say(line)
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)


_PARSE_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
"""The base class of the option parser's errors (Typer vendors Click: not imported by name)."""


def usage_error_lines(exc: Exception) -> list[str]:
    """``error: --grain: 'week' is not one of …`` and a ``hint:`` line for an error
    of the option parser; no lines when the parser has printed the help itself."""
    name = exc.__class__.__name__
    if name == "NoArgsIsHelpError":
        return []
    message = str(getattr(exc, "message", exc)).rstrip(".").removeprefix("Value error, ")
    message, _, suggested = message.partition(". Did you mean ")
    message = message[:1].lower() + message[1:]
    param = getattr(exc, "param", None)
    if param is not None and name in ("BadParameter", "MissingParameter"):
        is_option = param.param_type_name == "option"
        longs = [o for o in param.opts if o.startswith("--")] if is_option else []
        where = longs[0] if longs else (param.metavar or param.name.upper())
        if name == "MissingParameter":
            message = f"missing {'option' if is_option else 'argument'} {where}"
        else:
            message = f"{where}: {message.removeprefix('value error, ')}"
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "retention"
    listed = "commands" if "command" in name.lower() or "no such command" in message else "options"
    hint = f"`{command} --help` lists the {listed}"
    possible = getattr(exc, "possibilities", None) or ()
    best = difflib.get_close_matches(getattr(exc, "option_name", ""), possible, n=1, cutoff=0)
    if best or suggested:
        hint = f"did you mean {best[0] if best else suggested.rstrip('?')}? {hint}"
    return [f"error: {message}", f"hint: {hint}"]


class RetentionApp(typer.Typer):
    """The ``retention`` app, whose commands get their parameters when first read.

    A command's signature (its own parameters and the shared options of its tags,
    :func:`command`) is put together when an app holding it is read for its commands
    (``registered_commands``): a run builds only its command's (:func:`command_app`),
    not all seventeen (about 15 ms of start-up).
    """

    _commands: list[Any]
    _ready = False
    """Set once every command is registered: reading the commands before that
    (Typer's own ``command`` decorator appends to them) signs none."""

    @property  # type: ignore[override]
    def registered_commands(self) -> list[Any]:  # Typer's attribute, read as before
        """The commands, each with its full signature."""
        if self._ready:
            for info in self._commands:
                _sign(info.callback)
        return self._commands

    @registered_commands.setter
    def registered_commands(self, commands: list[Any]) -> None:
        self._commands = commands


app = RetentionApp(
    name="retention",
    help=(
        "SaaS net and gross revenue retention, the ARR bridge and churn, exact to the cent.\n\n"
        "Reads a movement log, snapshots or subscriptions (CSV, TSV, .csv.gz, Parquet, .xlsx, "
        "or - for stdin). Exit codes: 0 ok, 1 a `check` regression, 2 unusable data or options. "
        "Shell completion: retention --install-completion."
    ),
    cls=RetentionGroup,
    epilog=(
        "Examples:\n\n"
        "  $ retention nrr data.csv --grain quarter\n"
        "  $ retention report data.csv --spend spend.csv -o report.html\n"
        "  $ retention check data.csv --baseline metrics.json --max-drop 0.5pp\n"
        "  $ retention nrr --help"
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:  # noqa: FBT001 - typer callback signature
    if value:
        from retention_cli import __version__

        typer.echo(f"retention {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """SaaS retention metrics from account ARR data."""


# ----------------------------------------------------------------------------- shared options
def _split(text: str | None) -> tuple[str, ...]:
    """``"segment, region"`` → ``("segment", "region")``."""
    return tuple(b.strip() for b in (text or "").split(",") if b.strip())


def _columns(items: list[str] | None, _run: Run) -> dict[str, str]:
    from retention_cli.inputs import parse_column_overrides

    return parse_column_overrides(items)


def _spend(path: str | None, run: Run) -> Any:
    if not path:
        return None
    from retention_cli.calendar import FiscalCalendar
    from retention_cli.spend import load_spend

    return load_spend(path, FiscalCalendar(run.config.fiscal_year))


def _cohort_metric(choice: CohortMetricChoice, _run: Run) -> Any:
    from retention_cli.metrics.cohorts import CohortMetric

    return CohortMetric(choice.value)


@dataclass(frozen=True)
class Shared:
    """One option that several commands take, declared once.

    ``annotation`` is the Typer ``Annotated`` type and ``default`` its default.
    ``tag`` says which commands get it: ``"all"`` (every command) or a tag that
    a command lists in :func:`command`. ``feeds`` is the ``RunOptions`` field
    the value fills (through ``convert``, given the value and the :class:`Run`);
    ``None`` for a setting of the run itself (output, quiet, ...).
    """

    name: str
    annotation: Any
    default: Any
    tag: str
    feeds: str | None = None
    convert: Callable[[Any, Run], Any] | None = None

    @property
    def flag(self) -> str | None:
        """The option's long flag (``--from`` for ``date_from``); ``None`` for an argument."""
        return _flag_of(self.annotation)

    def parameter(self) -> inspect.Parameter:
        """The parameter a command's signature gets for this option."""
        return inspect.Parameter(
            self.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=self.default,
            annotation=self.annotation,
        )


INPUT, PERIODS, DEFINITIONS, OUTPUT = "Input", "Periods", "Definitions", "Output"
"""The help panels that group the options in ``--help``."""

_OUTPUT_HELP = "Write to FILE (format from its extension: .json .csv .md .txt .xlsx .html)."
_FROM_HELP = "First period to report: a date (2026-03-15) or a label (2026-03, FY2027-Q1, FY2027)."
_AS_OF_HELP = "Report as things stood on this day (a date, or a label: its last day); later rows are left out."
_METHOD_HELP = (
    "cohort: compare each cohort account's end ARR with its start; "
    "bridge: sum the cohort's monthly movements."
)
_SPEND_HELP = (
    "Spend CSV: period, sales_marketing, customer_success, gross_margin, net_burn (any subset)."
)
_FILE_HELP = (
    "Movements, snapshots or subscriptions file (.csv .tsv .csv.gz .parquet .xlsx), "
    "or - for CSV on stdin."
)
_COLUMNS_HELP = (
    "Show only these output keys, in this order, in every format, e.g. nrr,grr "
    "(the keys are JSON's and CSV's column names)."
)


def _opt(*decls: str, panel: str, **kw: Any) -> Any:
    """A ``typer.Option`` in help panel ``panel``."""
    return typer.Option(*decls, rich_help_panel=panel, **kw)


GrainOpt = Annotated[
    Grain, _opt("--grain", panel=PERIODS, help="Reporting period: fiscal month, quarter or year.")
]
"""``--grain``: shared, and also declared by ``calendar``, which does not feed it to ``RunOptions``."""

SHARED: tuple[Shared, ...] = (
    Shared("file", Annotated[str, typer.Argument(metavar="FILE", help=_FILE_HELP, show_default=False)],
           inspect.Parameter.empty, "input"),
    Shared("spend", Annotated[str | None, _opt("--spend", panel=INPUT, metavar="FILE",
           help=_SPEND_HELP)], None, "spend", "spend", _spend),
    Shared("shape", Annotated[Shape | None, _opt(
        "--shape", panel=INPUT, help="Input shape.", show_default="detected from the header")],
        None, "input", "shape"),
    Shared("preset", Annotated[str | None, _opt(
        "--preset", panel=INPUT, metavar="NAME",
        help="Read a vendor export by its documented rules, e.g. stripe (`retention presets` "
        "lists them).")], None, "input", "preset"),
    Shared("column", Annotated[list[str] | None, _opt("--column", panel=INPUT, metavar="KEY=HEADER",
        help='Map a canonical column to your header: --column account_id="Customer ID" '
        "(repeatable).")], None, "input", "columns", _columns),
    Shared("date_format", Annotated[str | None, _opt(
        "--date-format", panel=INPUT, metavar="FORMAT",
        help="strftime format of non-ISO dates, e.g. %m/%d/%Y.")], None, "input", "date_format"),
    Shared("delimiter", Annotated[str | None, _opt(
        "--delimiter", panel=INPUT, metavar="CHAR",
        help="Field delimiter: one character; \\t or tab for a tab.",
        show_default="detected: comma, semicolon or tab")], None, "input", "delimiter"),
    Shared("decimal_comma", Annotated[bool, _opt(
        "--decimal-comma", panel=INPUT,
        help="Amounts use a decimal comma: 1.234,56 (config: decimal: comma).")], False, "input",
        "decimal_comma"),
    Shared("sheet", Annotated[str | None, _opt(
        "--sheet", panel=INPUT, metavar="SHEET",
        help="For .xlsx input: the sheet's name or 1-based number.",
        show_default="the first")], None, "input", "sheet"),
    Shared("accounts", Annotated[str | None, _opt("--accounts", panel=INPUT, metavar="FILE",
        help="CSV of account_id, parent_id: compute every metric at the parent level.")],
        None, "rollup", "accounts"),
    Shared("credit", Annotated[str | None, _opt("--credit", panel=INPUT, metavar="COL",
        help="Split gross new ARR by the team a movement log's column COL credits.")],
        None, "credit", "credit"),
    Shared("credits", Annotated[str | None, _opt("--credits", panel=INPUT, metavar="FILE",
        help="Split gross new ARR by a credits CSV: date, account_id, credit.")],
        None, "credit", "credits"),
    Shared("on_invalid", Annotated[OnInvalid, _opt("--on-invalid", panel=INPUT, help=(
        "error: stop at bad rows (exit 2); skip: leave them out, count them and go on."))],
        OnInvalid.error, "skip", "on_invalid", lambda v, _: v.value),
    Shared("rejects", Annotated[Path | None, _opt("--rejects", panel=INPUT, dir_okay=False,
        metavar="FILE",
        help="With --on-invalid skip: write the skipped rows here (CSV, with line and reason).")],
        None, "input"),
    Shared("grain", GrainOpt, Grain.month, "grain", "grain"),
    Shared("by", Annotated[str | None, _opt(
        "--by", panel=PERIODS, metavar="COLUMNS",
        help="Split by dimension column(s), comma-separated, e.g. segment,region.")],
        None, "by", "by", lambda v, _: _split(v)),
    Shared("date_from", Annotated[str | None, _opt(
        "--from", panel=PERIODS, metavar="PERIOD", help=_FROM_HELP,
        show_default="the first period of the data")], None, "span", "date_from"),
    Shared("date_to", Annotated[str | None, _opt(
        "--to", panel=PERIODS, metavar="PERIOD", help="Last period to report: a date or a label.",
        show_default="the last period of the data")], None, "span", "date_to"),
    Shared("as_of", Annotated[str | None, _opt(
        "--as-of", panel=PERIODS, metavar="DAY", help=_AS_OF_HELP)], None, "span", "as_of"),
    Shared("window", Annotated[int, _opt(
        "--window", panel=DEFINITIONS, metavar="MONTHS", min=1,
        help="Trailing window for NRR/GRR, in fiscal months.")], 12, "window", "window"),
    Shared("method", Annotated[Method, _opt("--method", panel=DEFINITIONS, help=_METHOD_HELP)],
           Method.cohort, "method", "method"),
    Shared("bridge", Annotated[BridgeMode, _opt("--bridge", panel=DEFINITIONS, help=(
        "For quarters/years: net classifies by start and end ARR; gross sums the monthly "
        "movements."))], BridgeMode.net, "bridge", "bridge"),
    Shared("metric", Annotated[CohortMetricChoice, _opt(
        "--metric", panel=DEFINITIONS,
        help="Cohort cells: nrr (ARR kept), grr (capped per account) or logos.")],
        CohortMetricChoice.nrr, "cohort_metric", "cohort_metric", _cohort_metric),
    Shared("benchmark", Annotated[str | None, _opt(
        "--benchmark", panel=DEFINITIONS, metavar="SOURCE", help=(
        "Add peer median NRR/GRR columns from a bundled source (see `retention benchmarks`), "
        "e.g. saas-capital."))], None, "benchmark", "benchmark"),
    Shared("config", Annotated[Path | None, _opt(
        "--config", "-c", panel=DEFINITIONS, dir_okay=False, metavar="FILE",
        help="YAML config: fiscal year, policies, column mapping, economics.",
        show_default="retention.yaml in the working directory, if present")], None, "config"),
    Shared("fmt", Annotated[OutputFormat | None, _opt(
        "--format", "-f", panel=OUTPUT, help="Output format.",
        show_default="from --output's extension, else table")], None, "render"),
    Shared("output", Annotated[Path | None, _opt(
        "--output", "-o", panel=OUTPUT, help=_OUTPUT_HELP, dir_okay=False, metavar="FILE")],
        None, "render"),
    Shared("keys", Annotated[str | None, _opt(
        "--columns", panel=OUTPUT, metavar="KEYS", help=_COLUMNS_HELP,
        show_default="every key of the command")], None, "render"),
    Shared("quiet", Annotated[bool, _opt(
        "--quiet", "-q", panel=OUTPUT, help="No warnings or messages on stderr.")], False, "all"),
    Shared("no_color", Annotated[bool, _opt(
        "--no-color", panel=OUTPUT,
        help="Plain tables: no colour, bold or dim (also: NO_COLOR set, or not a terminal).")],
        False, "render"),
    Shared("stamp", Annotated[bool, _opt(
        "--stamp", panel=OUTPUT, help="Record the time of the run in JSON, HTML and XLSX output.")],
        False, "render"),
    Shared("meta", Annotated[bool, _opt("--meta", panel=OUTPUT, help=(
        "CSV: start with # lines giving the definitions sha256 and the input (off: "
        "spreadsheets read them as rows)."))], False, "render"),
    Shared("debug", Annotated[bool, _opt(
        "--debug", panel=OUTPUT, help="Show a traceback on errors.")], False, "all"),
    Shared("engine", Annotated[str | None, _opt(
        "--engine", panel=INPUT, metavar="URI",
        help="Compute in this database instead of from FILE: duckdb:///path.duckdb, "
        "postgresql://user@host/db, snowflake://, bigquery:// or sc://host:port (Spark "
        "Connect; the last three need an extra and are untested against live services). "
        "The password is never shown.")], None, "engine"),
    Shared("table", Annotated[str | None, _opt(
        "--table", panel=INPUT, metavar="TABLE",
        help="With --engine: the table (or schema.table) holding snapshots, movements or "
        "subscriptions.")], None, "engine"),
)  # fmt: skip
"""Every shared option, in the order ``--help`` lists them. Adding an option to
every command (or to every command with a tag) is one row here; a row with
``feeds`` also reaches ``RunOptions`` through :meth:`Run.options`."""

FROM_FILE = ("render", "config", "input")
"""Tags of a command that reads a data file and writes a result."""
METRIC = (*FROM_FILE, "skip", "rollup", "grain", "by", "span")
"""Tags every metric command has."""

FLAGS: dict[str, str] = {}
"""Core parameter name → CLI flag (``date_from`` → ``--from``), from every
command's options and the ``RunOptions`` field each shared option feeds (filled
by :func:`flag_for` on first use: it signs every command)."""

_UNSIGNED: dict[Callable[..., None], Callable[[], None]] = {}
"""A registered command's callback → what gives it its signature (:func:`_sign`)."""
_NAMED: dict[Callable[..., None], list[tuple[str | None, str | None]]] = {}
"""A signed command's callback → its (core parameter, flag) pairs, for :data:`FLAGS`."""


def _flag_of(annotation: Any) -> str | None:
    info = next((a for a in get_args(annotation)[1:] if isinstance(a, OptionInfo)), None)
    if info is None:
        return None
    decls = [d for d in (info.default, *(info.param_decls or ())) if isinstance(d, str)]
    return next((d for d in decls if d.startswith("--")), None)


def flag_for(param: str | None) -> str | None:
    """The CLI flag for a core parameter name, else the name itself."""
    if param is None:
        return None
    if not FLAGS:
        for info in app.registered_commands:  # in registration order: the first command wins
            for name, flag in _NAMED[info.callback]:
                if flag:
                    FLAGS.setdefault(name, flag)  # type: ignore[arg-type]
    return FLAGS.get(param, param)


def _sign(callback: Callable[..., None]) -> None:
    """Give a registered command's callback its signature (once)."""
    builder = _UNSIGNED.pop(callback, None)
    if builder is not None:
        builder()


@dataclass
class Run:
    """One command line: the values of the shared options the command takes."""

    command: str
    values: dict[str, Any] = field(default_factory=dict)
    protected: tuple[Any, ...] = ()
    """The files the command reads: no output may replace them (see :meth:`guard`)."""
    given: frozenset[str] = frozenset()
    """The shared options given on the command line (the others hold their defaults,
    so the config's ``grain``, ``window`` and ``by`` may fill them)."""

    @property
    def file(self) -> str:
        """The input file (``-`` for stdin)."""
        return str(self.values["file"])

    @property
    def quiet(self) -> bool:
        """``--quiet``: nothing on stderr but errors."""
        return bool(self.values.get("quiet"))

    @property
    def debug(self) -> bool:
        """``--debug``: a traceback with every error."""
        return bool(self.values.get("debug"))

    @cached_property
    def config(self) -> Config:
        """The config of ``--config`` (or ``retention.yaml``, or the defaults, read
        without Pydantic: :func:`retention_cli.defaults.default_config`)."""
        path = self.values.get("config")
        if path is None:
            from retention_cli.defaults import DEFAULT_CONFIG_NAME, default_config

            if not Path(DEFAULT_CONFIG_NAME).is_file():
                return default_config()
        from retention_cli.config import load_config

        return load_config(path)

    def guard(self, own: dict[str, Any]) -> None:
        """Before any work: note the files this command reads (``protected``) and
        refuse outputs that would replace one of them or each other."""
        from retention_cli.output import check_outputs, protected_paths

        v = self.values
        self.protected = protected_paths(
            inputs=[v.get("file")], baseline=own.get("baseline"), thresholds=own.get("thresholds"),
            spend=v.get("spend"), config=v.get("config"), default_config=self.command != "init",
            others=[("accounts file", v.get("accounts")), ("fx rates file", self._rates_file())],
        )  # fmt: skip
        outputs = {"output": v.get("output"), "rejects": v.get("rejects")}
        outputs |= {k: own.get(k) for k in ("junit", "summary")}
        check_outputs(outputs, self.protected)

    def _rates_file(self) -> Path | None:
        """The config's dated fx rates file, if any (a file the command reads)."""
        if self.command == "init":
            return None
        try:
            fx = self.config.fx
        except RetentionError:
            return None  # an unusable config is reported where it is loaded
        if fx is None or fx.rates_file is None:
            return None
        return fx.rates_path()

    def options(self, **overrides: Any) -> RunOptions:
        """The core's ``RunOptions`` from the shared options given (``overrides`` win)."""
        from retention_cli.service import RunOptions

        self.config  # noqa: B018 - the config is read (and reported) first
        fields = {}
        for opt in SHARED:
            if opt.feeds and opt.feeds not in overrides and opt.name in self.values:
                value = self.values[opt.name]
                fields[opt.feeds] = opt.convert(value, self) if opt.convert else value
        cfg = self.config
        defaults = {"grain": Grain(cfg.grain) if cfg.grain else None, "window": cfg.window,
                    "by": cfg.by}  # fmt: skip
        for name, value in defaults.items():
            if value is not None and name in self.values and name not in self.given:
                fields[name] = value  # the config's default; a flag given wins
        return RunOptions(**{**fields, **overrides})

    def load(
        self,
        opts: RunOptions,
        *,
        label: str = "retention",
        say_skipped: bool = True,
        command: str | None = None,
    ) -> Loaded:
        """Read the input file under ``opts``; say what was skipped (unless
        ``say_skipped`` is false); write ``--rejects``. ``command``: the one run on
        it (with ``release_input``), for the dimensions it reads."""
        from retention_cli.render.table import busy
        from retention_cli.service import load_input, needed_dimensions

        _resume_gc()
        dims = needed_dimensions(command, opts) if command is not None else None
        with busy(f"{label}: reading {self.file}", enabled=not self.quiet):
            loaded = load_input(self.file, self.config, opts, dimensions=dims)
        quiet = self.quiet or not say_skipped
        _report_skipped(loaded, self.values.get("rejects"), quiet=quiet, run=self)
        return loaded

    def emit(self, result: Any) -> None:
        """Write a result to stdout or ``--output``, its warnings to stderr."""
        _emit(result, self, self.values.get("fmt"), self.values.get("output"))

    def metric(self, command: str) -> None:
        """Load the input, compute one metric command (or ``report``), render it."""
        from retention_cli.render.table import busy
        from retention_cli.service import run_loaded

        opts = self.options()
        if self.engine_run(command, opts):
            return
        loaded = self.load(opts, label=f"retention {self.command}", command=command)
        with busy(f"retention {self.command}: computing", enabled=not self.quiet):
            result = run_loaded(command, loaded, self.config, opts, release_input=True)
        self.emit(result)

    def engine_run(self, command: str, opts: RunOptions) -> bool:
        """With ``--engine``: compute ``command`` where the data is and render it (True);
        without: check that FILE was given (False)."""
        engine, table = self.values.get("engine"), self.values.get("table")
        if engine is None:
            if table is not None:
                msg = "needs --engine (a FILE is read whole)"
                raise _usage(msg, param="table")
            if self.values.get("file") is None:  # as the parser says it (FILE is optional here)
                from retention_cli.errors import UsageError

                msg = "missing argument FILE"
                hint = f"`retention {self.command} --help` lists the options"
                raise UsageError(msg, hint=hint)
            return False
        if self.values.get("file") is not None:
            msg = "give FILE or --engine, not both"
            raise _usage(msg, param="engine")
        if table is None:
            msg = "--engine needs --table (the table to read)"
            raise _usage(msg, param="table")
        from retention_cli.render.table import busy
        from retention_cli.sql.engine import mask
        from retention_cli.sql.run import engine_result

        _resume_gc()
        with busy(f"retention {self.command}: querying {mask(engine)}", enabled=not self.quiet):
            result = engine_result(command, engine, table, self.config, opts)
        self.emit(result)
        return True


def _usage(message: str, *, param: str) -> Exception:
    from retention_cli.errors import UsageError

    return UsageError(message, param=param)


_OPTIONAL_FILE = Annotated[
    str | None, typer.Argument(metavar="FILE", help=_FILE_HELP, show_default=False)
]
"""FILE of a command that also takes ``--engine``."""


EXAMPLES: dict[str, tuple[str, ...]] = {
    "nrr": (
        "retention nrr data.csv",
        "retention nrr data.csv --grain quarter --by segment",
        "retention nrr data.csv --variants --from 2026-01",
        "retention nrr data.csv --columns nrr,grr -f csv",
    ),
    "bridge": (
        "retention bridge data.csv --grain quarter",
        "retention bridge data.csv --grain year --bridge gross -o bridge.xlsx",
    ),
    "churn": (
        "retention churn data.csv --grain quarter",
        "retention churn data.csv --by segment -f json",
    ),
    "mix": ("retention mix data.csv --grain quarter", "retention mix data.csv --grain year -f csv"),
    "cohorts": (
        "retention cohorts data.csv --grain quarter",
        "retention cohorts data.csv --metric logos -o cohorts.html",
    ),
    "economics": (
        "retention economics data.csv --spend spend.csv --grain quarter",
        "retention economics data.csv --spend spend.csv -f json",
    ),
    "report": (
        "retention report data.csv --spend spend.csv --grain quarter -o report.html",
        "retention report data.csv -f json -o metrics.json",
    ),
    "books": (
        "retention books data.csv --owner csm --grain quarter",
        "retention explain data.csv --period 2026-06 --metric books --by csm=Dana",
    ),
    "check": (
        "retention check data.csv --baseline metrics.json --max-drop 0.5pp",
        "retention check data.csv --thresholds limits.yaml --junit check.xml",
    ),
    "init": ("retention init", "retention init configs/finance.yaml --force"),
    "validate": ("retention validate data.csv", "retention validate data.csv -f csv -o issues.csv"),
    "explain": (
        "retention explain data.csv --period 2026-06",
        "retention explain data.csv --period FY2026-Q1 --grain quarter --metric bridge",
    ),
    "calendar": (
        "retention calendar --year FY2027",
        "retention calendar --year 2027 -c retention.yaml",
    ),
    "presets": (
        "retention presets",
        "retention presets show stripe",
        "retention bridge subscriptions.csv --preset stripe",
    ),
    "sql": (
        "retention sql nrr --table analytics.arr --dialect snowflake --from 2022-01 --to 2026-12",
        'retention sql bridge --table movements --shape movements --column account_id="Customer ID"',
    ),
    "verify": (
        "retention verify --engine duckdb:///billing.duckdb --table arr --sample 2%",
        "retention verify --engine postgresql://analyst@db/billing --table public.arr --sample 10%",
    ),
}
"""A few command lines per command, shown at the end of its ``--help``."""


def _epilog(name: str) -> str | None:
    lines = EXAMPLES.get(name)
    return "Examples:\n\n" + "\n".join(f"  $ {line}" for line in lines) if lines else None


def command(
    name: str, *tags: str, after: str | None = None
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register ``fn(run, **own)`` as the command ``name`` with the shared options of ``tags``.

    The command's ``--help`` lists the shared options in :data:`SHARED` order;
    an own parameter named like one of them replaces it in place (``check``'s
    ``--grain`` defaults to the baseline's), the others follow the option
    ``after`` (default: the FILE argument, else first).
    """

    def register(fn: Callable[..., None]) -> Callable[..., None]:
        shared = [o for o in SHARED if o.tag == "all" or o.tag in tags]
        taken: list[str] = []  # the shared options the command does not declare itself
        body = guarded(fn)

        def run_command(**kwargs: Any) -> None:
            _sign(run_command)  # `taken` is known once signed (Typer signed it to call it)
            ctx = kwargs.pop("_ctx")
            given = frozenset(
                n
                for n in taken
                if getattr(ctx.get_parameter_source(n), "name", "") == "COMMANDLINE"
            )
            body(Run(name, {n: kwargs.pop(n) for n in taken}, given=given), **kwargs)

        def sign() -> None:
            own = {
                p.name: p
                for p in list(inspect.signature(fn, eval_str=True).parameters.values())[1:]
            }
            taken.extend(o.name for o in shared if o.name not in own)
            extra = [p for name, p in own.items() if name not in {o.name for o in shared}]
            anchor = after or ("file" if "file" in taken else None)
            params = [] if anchor else list(extra)
            for opt in shared:
                param = own.get(opt.name) or opt.parameter()
                if opt.name == "file" and "engine" in tags:  # --engine stands in for FILE
                    param = param.replace(default=None, annotation=_OPTIONAL_FILE)
                params.append(param)
                if opt.name == anchor:
                    params.extend(extra)
            params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params]
            named = [(p.name, _flag_of(p.annotation)) for p in params]
            named += [(o.feeds, o.flag) for o in shared if o.feeds and o.name in taken]
            _NAMED[run_command] = named
            ctx = inspect.Parameter(
                "_ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context
            )
            run_command.__signature__ = inspect.Signature([*params, ctx])  # type: ignore[attr-defined]

        run_command.__name__ = fn.__name__
        run_command.__qualname__ = fn.__qualname__
        run_command.__doc__ = fn.__doc__
        run_command.__module__ = fn.__module__
        _UNSIGNED[run_command] = sign
        return app.command(name, cls=RetentionCommand, epilog=_epilog(name))(run_command)

    return register


# ----------------------------------------------------------------------------- errors
def guarded(fn: Callable[..., None]) -> Callable[..., None]:
    """The error handling of every command (``fn(run, **own)``): a
    :class:`RetentionError` is its located message and hint on stderr and its exit
    code; any other exception an "internal error" (exit 2); a closed stdout pipe a
    quiet exit 0; Ctrl-C "interrupted" and exit 130. ``--debug`` adds the traceback."""

    def body(run: Run, **kwargs: Any) -> None:
        try:
            run.guard(kwargs)
            fn(run, **kwargs)
            sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        except typer.Exit:
            raise
        except BrokenPipeError:  # `retention bridge x.csv | head -1`: the reader has gone
            _silence_stdout()
            raise typer.Exit(ExitCode.OK) from None
        except KeyboardInterrupt:
            _say("interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:  # no traceback on bad input
            _fail(exc, debug=run.debug)

    return body


def _broken_pipe() -> NoReturn:
    """Rich's Console exits 1 on a closed pipe; hand it to :func:`guarded` instead."""
    raise BrokenPipeError


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the final flush cannot fail again (Python docs,
    "Note on SIGPIPE")."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test runner)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _say(text: str) -> None:
    """One line on stderr, data text in it shown inert (control characters escaped)."""
    from retention_cli.text import visible

    print(visible(text), file=sys.stderr)


def _fail(exc: BaseException, *, debug: bool) -> NoReturn:
    """Print an error to stderr (no traceback unless --debug) and exit."""
    from retention_cli.errors import InputError

    err = sys.stderr
    if debug:
        traceback.print_exception(exc, file=err)
    if isinstance(exc, InputError):
        lines = exc.lines()
        if exc.total == 1 and len(lines) == 1:
            _say(f"error: {lines[0]}")
        else:
            _say(f"error: {exc.message}")
            for line in lines:
                _say(f"  {line}")
        if exc.total > len(exc.lines()):
            _say(f"  … and {exc.total - len(exc.lines()):,} more")
        if exc.hint:
            _say(f"hint: {exc.hint}")
        raise typer.Exit(exc.exit_code)
    if isinstance(exc, RetentionError):
        _say(f"error: {exc.located(flag_for(getattr(exc, 'param', None)))}")
        if exc.hint:
            _say(f"hint: {exc.hint}")
        raise typer.Exit(exc.exit_code)
    _say(f"internal error: {exc.__class__.__name__}: {exc}")
    _say(
        "This is a bug in retention; please report it with the command you ran. "
        "Rerun with --debug for a traceback."
    )
    raise typer.Exit(ExitCode.UNUSABLE)


# ----------------------------------------------------------------------------- output
def _emit(result: Any, run: Run, fmt: OutputFormat | None, output: Path | None) -> None:
    """Write a result to stdout or ``output``, warnings to stderr."""
    from retention_cli.errors import UsageError
    from retention_cli.render import FORMAT_BY_SUFFIX, render_text
    from retention_cli.render.table import make_console, render_table

    quiet = run.quiet
    if fmt is None:
        if output is not None:
            fmt = FORMAT_BY_SUFFIX.get(output.suffix.lower())
            if fmt is None:
                known = ", ".join(sorted(FORMAT_BY_SUFFIX))
                msg = f"cannot tell the format from {output.name!r} (known: {known}); add --format"
                raise UsageError(msg, param="output")
        else:
            fmt = OutputFormat.table
    if not quiet:
        for w in result.warnings:
            _say(f"warning: {w}")
    if names := _split(run.values.get("keys")):
        from retention_cli.result import choose_columns

        result = choose_columns(result, names)
    if run.values.get("stamp"):
        import dataclasses
        import datetime as dt

        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
        result = dataclasses.replace(result, stamp=now)
    if fmt is OutputFormat.xlsx:
        if output is None:
            msg = "xlsx is a binary format: give -o FILE.xlsx"
            raise UsageError(msg)
        from retention_cli.render.xlsx import write_xlsx

        with _open_output(output, run, binary=True) as fh:
            write_xlsx(result, fh)
        if not quiet:
            _say(f"wrote {output}")
        return
    if fmt is OutputFormat.table:
        no_color = bool(run.values.get("no_color"))
        if output is None:
            console = make_console(no_color=no_color)
            console.on_broken_pipe = _broken_pipe  # type: ignore[method-assign]
            render_table(result, console)
            return
        with _open_output(output, run) as fh:
            render_table(result, make_console(fh, no_color=True), fit=False)
    else:
        text = render_text(result, fmt, meta=bool(run.values.get("meta")))
        if output is None:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        with _open_output(output, run) as fh:
            fh.write(text)
    if not quiet:
        _say(f"wrote {output}")


def _report_skipped(loaded, rejects: Path | None, *, quiet: bool, run: Run | None = None) -> None:  # type: ignore[no-untyped-def]
    """Say what --on-invalid skip left out, and write --rejects."""
    summary = loaded.summary()
    if summary and not quiet:
        _say(summary)
    if rejects is not None:
        if loaded.rejects is None:
            import polars as pl

            frame = pl.DataFrame(schema={"line": pl.Int64, "reason": pl.String})
        else:
            from retention_cli.render.values import safe_frame

            frame = safe_frame(loaded.rejects)  # formulas neutralised, as in every CSV
        with _open_output(rejects, run, param="rejects") as fh:
            fh.write(frame.write_csv(line_terminator="\n"))
        if not quiet:
            _say(f"wrote {loaded.skipped:,} skipped row(s) to {rejects}")


def _open_output(
    path: Path,
    run: Run | None,
    *,
    param: str = "output",
    append: bool = False,
    binary: bool = False,
):  # type: ignore[no-untyped-def]
    """``path`` opened for an atomic write (temporary file, fsync, rename); never an input."""
    from retention_cli.output import atomic_open

    protected = run.protected if run is not None else ()
    return atomic_open(path, binary=binary, append=append, param=param, protected=protected)


# ----------------------------------------------------------------------------- commands
@command("nrr", *METRIC, "window", "method", "benchmark", "engine", after="rejects")
def nrr(
    run: Run,
    variants: Annotated[
        bool,
        typer.Option(
            "--variants",
            help="NRR and GRR under each definition side by side (latest period, or --from/--to).",
        ),
    ] = False,
    distribution: Annotated[
        bool,
        typer.Option(
            "--distribution",
            help="Account-level NRR quartiles, ARR that grew/shrank/left, and a bootstrap "
            "interval for cohorts under 30 accounts (config: distribution).",
        ),
    ] = False,
) -> None:
    """Net and gross revenue retention (NRR, GRR) and logo retention per period."""
    run.metric("variants" if variants else "distribution" if distribution else "nrr")


@command("bridge", *METRIC, "bridge", "engine")
def bridge_cmd(run: Run) -> None:
    """The ARR bridge: start, new, reactivation, expansion, contraction, churn, end."""
    run.metric("bridge")


@command("churn", *METRIC, "window", "method", "bridge", "engine")
def churn(run: Run) -> None:
    """Logo and revenue churn: this period's rates and the trailing-window rates."""
    run.metric("churn")


@command("mix", *METRIC, "window", "method", "bridge", "credit")
def mix(run: Run) -> None:
    """Growth mix: expansion vs acquisition share, quick ratio, retained vs acquired ARR."""
    run.metric("mix")


@command("cohorts", *METRIC, "cohort_metric")
def cohorts(run: Run) -> None:
    """Acquisition cohorts: each cohort's ARR (or logos) by periods since acquisition."""
    run.metric("cohorts")


@command("economics", *METRIC, "spend", "method", "bridge")
def economics(run: Run) -> None:
    """Unit economics: CAC, payback, LTV, LTV:CAC, magic number, burn multiple, CS efficiency."""
    if run.values.get("spend") is None and run.config.economics.gross_margin is None:
        from retention_cli.errors import UsageError

        msg = (
            "economics needs a spend file (or economics.gross_margin in the config, for LTV alone)"
        )
        hint = (
            "give --spend FILE: a CSV of period, sales_marketing, customer_success, gross_margin, "
            "net_burn (any subset), like examples/spend.csv"
        )
        raise UsageError(msg, param="spend", hint=hint)
    run.metric("economics")


@command(
    "report", *METRIC, "spend", "window", "method", "bridge", "cohort_metric", "benchmark", "credit"
)
def report(run: Run) -> None:
    """Every section in one document: growth summary, bridge, retention, churn, mix, cohorts, economics."""
    run.metric("report")


@command("books", *FROM_FILE, "skip", "rollup", "grain", "span", "window", "method")
def books_cmd(
    run: Run,
    owner: Annotated[
        str,
        typer.Option(
            "--owner",
            metavar="COLUMN",
            help="The column naming each account's owner (its book), e.g. csm.",
        ),
    ],
) -> None:
    """Books of business: per owner, NRR, GRR and movements of the accounts held at the
    window start, and the ARR reassigned in or out."""
    from retention_cli.errors import UsageError
    from retention_cli.render.table import busy
    from retention_cli.service import run_loaded

    opts = run.options(by=(owner,))
    loaded = run.load(opts, label="retention books", command="books")
    if owner not in loaded.dimensions:
        dims = ", ".join(map(repr, loaded.dimensions)) or "none"
        msg = f"no column {owner!r} in the file to take owners from (its dimensions: {dims})"
        raise UsageError(msg, param="owner")
    with busy("retention books: computing", enabled=not run.quiet):
        result = run_loaded("books", loaded, run.config, opts, release_input=True)
    run.emit(result)


_BASELINE_ELSE = "the baseline's, else %s"
_CHECK_GRAIN = "Reporting period of the recomputed metrics: fiscal month, quarter or year."
_CHECK_WINDOW = "Trailing window for NRR/GRR, in fiscal months."
_CHECK_BRIDGE = "For quarters/years: net or gross bridge (see `retention bridge --help`)."
_CHECK_BY = "Split by dimension column(s), comma-separated, as the baseline was."


@command(
    "check", *FROM_FILE, "skip", "rollup", "spend", "grain", "window", "method", "bridge", "by"
)
def check_cmd(
    run: Run,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            help="JSON written earlier by `retention report -f json` (or nrr/churn/...).",
            dir_okay=False,
            metavar="FILE",
        ),
    ] = None,
    thresholds: Annotated[
        Path | None,
        typer.Option(
            "--thresholds",
            help="YAML of limits, e.g. `nrr: {min: 1.0}`, `logo_churn_rate: {max: 0.03}`.",
            dir_okay=False,
            metavar="FILE",
        ),
    ] = None,
    max_drop: Annotated[
        str,
        typer.Option(
            "--max-drop",
            metavar="DROP",
            help="How much worse than the baseline a metric may get: 0.5pp, 2% (relative) or 0.01.",
        ),
    ] = "0pp",
    period: Annotated[
        str | None,
        typer.Option(
            "--period", metavar="PERIOD", help="Check this period.", show_default="the latest"
        ),
    ] = None,
    all_periods: Annotated[
        bool, typer.Option("--all-periods", help="Check every period (null values are skipped).")
    ] = False,
    metrics: Annotated[
        str | None,
        typer.Option(
            "--metrics",
            metavar="KEYS",
            help="Metrics compared with the baseline, comma-separated.",
            show_default="nrr, grr, logo and revenue churn",
        ),
    ] = None,
    junit: Annotated[
        Path | None,
        typer.Option(
            "--junit",
            help="Also write JUnit XML (one testcase per check).",
            dir_okay=False,
            metavar="FILE",
        ),
    ] = None,
    summary: Annotated[
        Path | None,
        typer.Option(
            "--summary",
            help="Also write a Markdown summary (e.g. $GITHUB_STEP_SUMMARY).",
            dir_okay=False,
            metavar="FILE",
        ),
    ] = None,
    allow_definition_change: Annotated[
        bool,
        typer.Option(
            "--allow-definition-change",
            help="Compare even when the baseline was computed under other definitions.",
        ),
    ] = False,
    grain: Annotated[
        Grain | None,
        _opt("--grain", panel=PERIODS, help=_CHECK_GRAIN, show_default=_BASELINE_ELSE % "month"),
    ] = None,
    window: Annotated[
        int | None,
        _opt(
            "--window",
            panel=DEFINITIONS,
            min=1,
            metavar="MONTHS",
            help=_CHECK_WINDOW,
            show_default=_BASELINE_ELSE % "12",
        ),
    ] = None,
    method: Annotated[
        Method | None,
        _opt(
            "--method", panel=DEFINITIONS, help=_METHOD_HELP, show_default=_BASELINE_ELSE % "cohort"
        ),
    ] = None,
    bridge: Annotated[
        BridgeMode | None,
        _opt(
            "--bridge", panel=DEFINITIONS, help=_CHECK_BRIDGE, show_default=_BASELINE_ELSE % "net"
        ),
    ] = None,
    by: Annotated[
        str | None,
        _opt(
            "--by", panel=PERIODS, metavar="COLUMNS", help=_CHECK_BY, show_default="the baseline's"
        ),
    ] = None,
) -> None:
    """CI gate: recompute, compare with a baseline and/or thresholds; exit 1 on a regression."""
    from retention_cli.check import CheckError, plan_check
    from retention_cli.render.check import to_junit, to_summary

    if baseline is None and thresholds is None:
        msg = "check needs --baseline FILE, --thresholds FILE or both"
        raise CheckError(
            msg, hint="write a baseline with: retention report FILE -f json -o metrics.json"
        )
    if period and all_periods:
        msg = "--period and --all-periods cannot be used together"
        raise CheckError(msg)
    plan = plan_check(
        baseline=baseline, thresholds=thresholds, max_drop=max_drop, period=period,
        all_periods=all_periods, metrics=list(_split(metrics)) or None,
        allow_definition_change=allow_definition_change,
    )  # fmt: skip
    opts = plan.options(
        run.options(), grain=grain, window=window, method=method, bridge=bridge,
        by=_split(by) if by is not None else None,
    )  # fmt: skip
    outcome = plan.run(run.load(opts), run.config, opts)
    run.emit(outcome.result)
    for path, text in ((junit, to_junit), (summary, to_summary)):
        if path is not None:
            param = "summary" if path == summary else "junit"
            with _open_output(path, run, param=param, append=path == summary) as fh:
                fh.write(text(outcome.result))
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


@command("init")
def init_cmd(
    run: Run,
    path: Annotated[
        Path,
        typer.Argument(metavar="PATH", help="Where to write the starter config.", dir_okay=False),
    ] = Path("retention.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter config (retention.yaml)."""
    from retention_cli.config import STARTER_CONFIG
    from retention_cli.errors import UsageError

    if path.exists() and not force:
        msg = f"{path} already exists; not overwriting it"
        raise UsageError(msg, hint="pass --force to replace it, or give another path")
    with _open_output(path, None, param="path") as fh:
        fh.write(STARTER_CONFIG)
    if not run.quiet:
        _say(f"wrote {path}: edit it, then run e.g. `retention nrr data.csv`")


@command("presets")
def presets_cmd(
    run: Run,
    action: Annotated[
        str | None,
        typer.Argument(metavar="ACTION", help="show: print one preset's YAML.", show_default=False),
    ] = None,
    name: Annotated[
        str | None, typer.Argument(metavar="NAME", help="The preset to show.", show_default=False)
    ] = None,
) -> None:
    """List the vendor-export presets (one line each), or print one: presets show NAME."""
    from retention_cli.errors import UsageError
    from retention_cli.inputs import presets

    if action is None:
        width = max(map(len, presets.names()))
        for key in presets.names():
            title, rest = presets.summary(key)
            typer.echo(f"{key:<{width}}  {title}: {rest}")
        return
    if action != "show" or name is None:
        msg = f"expected `presets` or `presets show NAME`, not {' '.join(filter(None, [action, name]))!r}"
        raise UsageError(msg, hint="`retention presets` lists the names")
    typer.echo(presets.text(name), nl=False)


@command("validate", *FROM_FILE)
def validate_cmd(run: Run) -> None:
    """Data-quality report: every check on every row; exit 0 clean, 2 when there are errors."""
    from retention_cli.validate import validate_result

    loaded = run.load(run.options(on_invalid="report"), say_skipped=False)
    result = validate_result(loaded, run.config)
    run.emit(result)
    if (result.frame["severity"] == "error").any():
        raise typer.Exit(ExitCode.UNUSABLE)


@command("explain", *FROM_FILE, "skip", "rollup", "grain", "window", "method", "bridge")
def explain_cmd(
    run: Run,
    period: Annotated[
        str,
        typer.Option(
            "--period", metavar="PERIOD", help="The period to explain, e.g. 2026-01 or FY2026-Q1."
        ),
    ],
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            metavar="METRIC",
            help="nrr, grr, churn (period gross revenue churn), bridge or books (with --by OWNER=NAME).",
        ),
    ] = "nrr",
    where: Annotated[
        str | None,
        typer.Option(
            "--by",
            metavar="COL=VALUE",
            help="Restrict to one segment: COL=VALUE, comma-separated, e.g. segment=SMB.",
        ),
    ] = None,
    top: Annotated[
        int, typer.Option("--top", metavar="N", help="Accounts shown in the table.", min=1)
    ] = 20,
) -> None:
    """The accounts behind one number, adding up exactly to it (csv/json: every account)."""
    from retention_cli.errors import UsageError
    from retention_cli.service import explain_result

    pairs: dict[str, str] = {}
    for item in _split(where):
        col, sep, value = item.partition("=")
        if not sep or not col.strip():
            msg = f"{item!r} is not COL=VALUE (e.g. segment=SMB)"
            raise UsageError(msg, param="where")
        pairs[col.strip()] = value.strip()
    opts = run.options()
    loaded = run.load(opts)
    run.emit(
        explain_result(loaded, run.config, opts, period=period, metric=metric, where=pairs, top=top)
    )


@command("calendar", "render", "config")
def calendar_cmd(
    run: Run,
    year: Annotated[
        str,
        typer.Option("--year", metavar="YEAR", help="Fiscal year to list, e.g. FY2027 (or 2027)."),
    ],
    grain: GrainOpt = Grain.month,
) -> None:
    """The fiscal periods of one year with their start and end dates."""
    from retention_cli.service import calendar_result

    run.emit(calendar_result(run.config, year, grain))


@command("benchmarks", "render")
def benchmarks_cmd(
    run: Run,
    source: Annotated[
        str | None, typer.Option("--source", help="Only this source, e.g. saas-capital.")
    ] = None,
) -> None:
    """The bundled published NRR/GRR medians (by ACV band) with their sources."""
    from retention_cli.service import benchmarks_result

    run.emit(benchmarks_result(source))


class SqlMetric(str, Enum):
    """``retention sql METRIC``: the metrics with a SQL source."""

    bridge = "bridge"
    nrr = "nrr"
    churn = "churn"


class Dialect(str, Enum):
    """``--dialect``: the SQL dialects ``retention sql`` writes."""

    duckdb = "duckdb"
    postgres = "postgres"
    spark = "spark"
    databricks = "databricks"
    bigquery = "bigquery"
    snowflake = "snowflake"
    trino = "trino"


@command("sql", "config", "grain", "by", "window", "method", "bridge", "span")
def sql_cmd(
    run: Run,
    metric: Annotated[SqlMetric, typer.Argument(help="The metric: bridge, nrr or churn.")],
    table: Annotated[
        str,
        _opt("--table", panel=INPUT, metavar="TABLE", help="The table (or schema.table) to read."),
    ],
    dialect: Annotated[Dialect, _opt("--dialect", panel=OUTPUT, help="The SQL dialect.")] = (
        Dialect.duckdb
    ),
    shape: Annotated[
        Shape, _opt("--shape", panel=INPUT, help="What the table holds.")
    ] = Shape.snapshots,
    column: Annotated[
        list[str] | None,
        _opt(
            "--column",
            panel=INPUT,
            metavar="KEY=COLUMN",
            help='Map a canonical column to the table\'s: --column account_id="Customer ID".',
        ),
    ] = None,
) -> None:
    """Print the SQL that computes a metric where the data is (money in integer cents)."""
    from retention_cli.sql import Source, sql_for

    opts = run.options()
    if opts.as_of:
        msg = "the SQL path does not report as of a day"
        raise _usage(msg, param="as_of")
    source = Source(table, shape, {**run.config.columns, **_columns(column, run)})
    text = sql_for(
        metric.value, dialect.value, source, run.config, window=opts.window, method=opts.method,
        date_from=opts.date_from, date_to=opts.date_to, grain=opts.grain, mode=opts.bridge,
        by=opts.by,
    )  # fmt: skip
    sys.stdout.write(text)


@command("verify", "config", "window", "method", "engine")
def verify_cmd(
    run: Run,
    sample: Annotated[
        str,
        _opt(
            "--sample",
            panel=INPUT,
            metavar="SHARE",
            help="Share of the accounts to compare, e.g. 2% (a hash sample).",
        ),
    ] = "2%",
    shape: Annotated[
        Shape | None,
        _opt("--shape", panel=INPUT, help="What the table holds.", show_default="detected"),
    ] = None,
    column: Annotated[
        list[str] | None,
        _opt(
            "--column",
            panel=INPUT,
            metavar="KEY=COLUMN",
            help='Map a canonical column to the table\'s: --column account_id="Customer ID".',
        ),
    ] = None,
) -> None:
    """Compare the SQL path with the local one on a sample of the table's accounts, to the cent."""
    from retention_cli.render.table import busy
    from retention_cli.sql.engine import mask
    from retention_cli.sql.verify import parse_share, verify

    engine, table = run.values.get("engine"), run.values.get("table")
    if engine is None or table is None:
        msg = "verify needs --engine URI and --table T"
        raise _usage(msg, param="engine")
    share = parse_share(sample)
    opts = run.options(shape=shape, columns=_columns(column, run))
    _resume_gc()
    with busy(f"retention verify: querying {mask(engine)}", enabled=not run.quiet):
        found = verify(engine, table, run.config, opts, share)
    out = [
        f"accounts: {found.accounts:,}; sampled: {len(found.sampled):,} ({sample}); "
        f"numbers compared: {found.compared:,}; differences: {len(found.differences):,}"
    ]

    def shown(key: Any, value: Any) -> str:
        if value is None or not str(key).endswith("_arr"):
            return str(value)
        return f"{value / 100:,.2f}"

    for d in found.differences:
        behind = ", ".join(map(str, d["accounts"])) or "none"  # type: ignore[call-overload]
        out.append(
            f"{d['command']} {d['period']} {d['key']}: local {shown(d['key'], d['local'])} vs SQL "
            f"{shown(d['key'], d['sql'])} "
            f"(accounts with ARR then: {behind})"
        )
    out.append("equal to the cent" if found.equal else "NOT equal")
    sys.stdout.write("\n".join(out) + "\n")
    if not found.equal:
        raise typer.Exit(ExitCode.REGRESSION)


app._ready = True  # every command is registered: reading the app's commands signs them


ALLOCATOR = "background_thread:true,dirty_decay_ms:100,muzzy_decay_ms:0"
"""Polars' jemalloc settings for a CLI run: hand freed memory back to the system
after 0.1 s instead of 10 s. On 11M rows, `report` peaks at 1.10 GB instead of
1.40 GB for about 4% more time. The background thread purges on time, not only
when the process next allocates (100M-row ``nrr``: 0.2 GB less at the peak).
Set ``_RJEM_MALLOC_CONF`` yourself to override."""


def command_app(argv: list[str]) -> typer.Typer:
    """The app to run ``argv`` with: only the command it names, when it names one.

    Typer builds every command's parameters from its signature on each run (about
    a tenth of a second for all of them); the command run parses and behaves the
    same in an app of its own, under the same group. Shell completion, the group's
    options and anything that is not a command name get the whole app.
    """
    name = argv[1] if len(argv) > 1 else ""
    if app.registered_callback is None or any(k.endswith("_COMPLETE") for k in os.environ):
        return app
    chosen = [
        c
        for c in app._commands  # the unsigned list: only the chosen command is signed
        if c.callback is not None
        and (c.name or typer.main.get_command_name(c.callback.__name__)) == name
    ]
    if len(chosen) != 1:
        return app
    only = copy.copy(app)
    only.registered_commands = chosen
    only.registered_groups = []
    return only


_GC_PAUSED: list[bool] = []
"""Holds True while :func:`main` keeps the cyclic garbage collector off."""


def _resume_gc() -> None:
    """Start-up is over (the modules that read and compute are imported): collect
    cyclic garbage again, never rescanning what start-up made (``gc.freeze``)."""
    if _GC_PAUSED:
        _GC_PAUSED.clear()
        gc.freeze()
        gc.enable()


def main() -> None:
    """Console-script entry point.

    The cyclic garbage collector is off until the data is read (:func:`_resume_gc`):
    start-up makes objects that live to the end, and scanning them again and again
    was about 4% of the instructions of ``nrr`` on a tiny file.
    """
    if "polars" not in sys.modules:  # read once, when polars loads
        os.environ.setdefault("_RJEM_MALLOC_CONF", ALLOCATOR)
    if gc.isenabled():
        gc.disable()
        _GC_PAUSED.append(True)
    command_app(sys.argv)()
