"""Start-up: a command imports only what it needs (issue 17, item 5).

Not a timing test: it fails when a module the command path does not need is imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from retention_cli.cli import app, command_app

ROOT = Path(__file__).resolve().parents[1]

RUN_NRR = """
import contextlib, io, json, sys
sys.argv = ["retention", "nrr", "examples/tiny_movements.csv"]
from retention_cli.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit as exc:
        assert exc.code in (0, None), exc.code
import gc  # main() paused the collector while modules loaded, and resumed it to read
assert gc.isenabled() and gc.get_freeze_count() > 0
print(json.dumps(sorted(sys.modules)))
"""

SIGNED = """
import gc, json, sys
gc_at_start = gc.isenabled()
from retention_cli import cli
imported = len(cli._UNSIGNED)
cli.command_app(["retention", "nrr", "data.csv"]).registered_commands
after_nrr = len(cli._UNSIGNED)
cli.flag_for("date_from")
print(json.dumps([gc_at_start, imported, after_nrr, len(cli._UNSIGNED), len(cli.app._commands)]))
"""

NOT_FOR_A_TABLE = (
    "sqlglot", "duckdb", "xlsxwriter", "fastexcel", "hypothesis", "jinja2", "pandas",
    "pyarrow", "numpy", "retention_cli.sql", "retention_cli.render.xlsx",
    "retention_cli.render.html", "retention_cli.render.csv", "retention_cli.render.json",
    "retention_cli.render.markdown", "retention_cli.check", "retention_cli.validate",
    "xml.etree.ElementTree", "yaml", "retention_cli.safeyaml",
    "typer._adapters",  # option values are converted by cli._Coercion, not Pydantic adapters
    "pydantic", "retention_cli.config",  # no config file: defaults.default_config()
    "typer.rich_utils", "rich.traceback", "rich.pretty", "rich.markdown", "rich.syntax",
    "rich.progress",  # help and tracebacks only
)  # fmt: skip


def modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_nrr_to_the_terminal_imports_no_writer_engine_or_test_tool() -> None:
    loaded = modules_after(RUN_NRR)
    assert "retention_cli.render.table" in loaded  # the run did render its table
    assert not {m for m in loaded if m in NOT_FOR_A_TABLE or m.startswith("retention_cli.sql.")}


def test_importing_the_cli_loads_no_data_library() -> None:
    loaded = modules_after(
        "import json, sys, retention_cli.cli; print(json.dumps(sorted(sys.modules)))"
    )
    assert not loaded & {"polars", "rich", "yaml", "retention_cli.config", "retention_cli.service"}


def test_a_run_signs_only_its_command() -> None:
    """Importing the CLI puts no command's parameters together; picking ``nrr`` signs
    ``nrr`` alone; the flags of error messages sign them all."""
    out = subprocess.run(
        [sys.executable, "-c", SIGNED], cwd=ROOT, capture_output=True, text=True, check=True
    )
    gc_on, imported, after_nrr, after_flags, commands = json.loads(out.stdout.splitlines()[-1])
    assert gc_on  # the module changes nothing about the collector; main() does
    assert imported == commands > 1
    assert after_nrr == commands - 1
    assert after_flags == 0


def test_only_the_named_command_is_built() -> None:
    only = command_app(["retention", "nrr", "data.csv"])
    assert [c.callback.__name__ for c in only.registered_commands] == ["nrr"]
    assert only.registered_callback is app.registered_callback
    assert len(app.registered_commands) > 1  # the app itself is left whole
    for argv in (["retention"], ["retention", "--version"], ["retention", "nrrr"]):
        assert command_app(argv) is app


SAMPLES = (
    "", "0", "1", "12", "012", " 12", "12 ", "+3", "-1", "1_000", "1e3", "12.0", "१२", "0x1",
    "99999999999999999999", "1200", "month", "MONTH", "Month", " month", "quarter", "week",
    "json", "JSON", "table", "error", "skip", "net", "cohort", "nrr", "logos", "duckdb",
    "x.csv", "-", ".", "..", "a//b", "./x/", "~", "/", "/tmp", "/dev/null", "é.csv",
    "with space.csv", "tests", "examples/tiny_movements.csv", "a\x00b", 12, 0, True, None,
    ["a=b"], ("a=b", "c=d"), (), ["x", 1], [None],
)  # fmt: skip


def _outcome(runtime: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any]:
    """What ``runtime.coerce`` makes of ``value``: the value and its type, or the error."""
    try:
        out = runtime.coerce(value, param, ctx)
    except Exception as exc:  # the error is the outcome compared
        return "error", (type(exc).__name__, str(exc))
    return "value", (type(out), out)


def _conversion(param: Any) -> tuple[Any, ...]:
    """What decides how Typer converts ``param``'s value: options equal in this convert alike."""
    info = param.type_descriptor.parameter_info
    flags = ("min", "max", "clamp", "case_sensitive", "exists", "file_okay", "dir_okay",
             "writable", "readable", "resolve_path", "allow_dash", "path_type", "parser")  # fmt: skip
    return (repr(param.type_descriptor.annotation), param.multiple, param.nargs,
            *(repr(getattr(info, f, None)) for f in flags))  # fmt: skip


def test_quick_coercion_is_typers_own_for_every_option_and_value() -> None:
    """Every kind of option of every command: each sample value converts to the same
    object (or the same error) through ``cli._Coercion`` as through Typer's Pydantic adapter."""
    import typer.main
    from typer._coercion import build_runtime_param

    from retention_cli.cli import _SLOW, _Coercion

    group = typer.main.get_command(app)
    ctx = group.make_context("retention", ["nrr", "x.csv"], resilient_parsing=True)
    kinds: dict[tuple[Any, ...], Any] = {}
    for command in [group, *group.commands.values()]:  # type: ignore[attr-defined]
        for param in command.get_params(ctx):
            if hasattr(param, "type_descriptor"):
                assert isinstance(param._runtime_param, _Coercion), param.name
                kinds.setdefault(_conversion(param), param)
    quick = 0
    for param in kinds.values():
        typer_param = build_runtime_param(param.type_descriptor)
        for value in SAMPLES:
            ours = _outcome(param._runtime_param, value, param, ctx)
            theirs = _outcome(typer_param, value, param, ctx)
            assert ours == theirs, (param.name, value)
            quick += _Coercion.quick(value, param, ctx) is not _SLOW
    assert len(kinds) >= 12  # str, int, Path, list, each choice, the bool flags
    assert quick > 100  # the quick path is taken


def _same(ours: Any, theirs: Any) -> bool:
    """Equal values of equal types, element by element (``5`` is not ``5.0``, a list not a tuple)."""
    return type(ours) is type(theirs) and repr(ours) == repr(theirs) and ours == theirs


def _outcome_of(fn: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "value", fn(*args)
    except TypeError as exc:
        return "error", str(exc)


def test_the_default_config_without_pydantic_is_the_models_default() -> None:
    """``defaults.default_config()`` answers every field, description and recorded
    dump exactly as ``Config()`` does, and hands anything else to the model."""
    from pydantic import BaseModel

    from retention_cli.config import Config
    from retention_cli.defaults import METHODS, Defaults, default_config
    from retention_cli.service import RULE_KEYS

    real, ours = Config(), default_config()
    sections = [("", real, ours)]
    sections += [
        (name, getattr(real, name), getattr(ours, name))
        for name in Config.model_fields
        if isinstance(getattr(real, name), BaseModel)
    ]
    assert {name for name, _, _ in sections[1:]} == {
        name
        for name, v in ours._values.items()
        if isinstance(v, Defaults)  # type: ignore[attr-defined]
    }
    for name, model, stand in sections:
        assert isinstance(stand, Defaults), name
        fields = type(model).model_fields
        assert set(fields) <= set(stand._values), f"{name}: a field without its default value"
        for key, value in stand._values.items():
            theirs = getattr(model, key)
            if key in METHODS:
                assert getattr(stand, key)() == theirs(), (name, key)
            elif isinstance(value, Defaults):
                assert value.model_dump() == theirs.model_dump(), (name, key)
            else:
                assert _same(getattr(stand, key), theirs), (name, key)
        for kwargs in ({}, {"mode": "json"}, {"mode": "json", "exclude_defaults": True}):
            dumped, expected = stand.model_dump(**kwargs), model.model_dump(**kwargs)
            assert json.dumps(dumped, default=str) == json.dumps(expected, default=str), name
        assert stand == model
        assert repr(stand) == repr(model)
        assert _outcome_of(hash, stand) == _outcome_of(hash, model), name
    rules = {"mode": "json", "exclude_defaults": True, "include": set(RULE_KEYS)}
    assert ours.model_dump(**rules) == real.model_dump(**rules) == {}  # type: ignore[arg-type]
    assert ours.fiscal_year.weeks is None
    assert ours.display_currency is None
    copied = ours.model_copy(update={"window": 3})  # anything else: the model's own answer
    assert type(copied) is Config
    assert copied.window == 3
    assert ours.window is None
    assert default_config().columns is not default_config().columns  # fresh, like the model's
