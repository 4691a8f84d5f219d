"""One call per command: load → ledger → metrics → :class:`Result` (no CLI, no Rich)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from retention_cli.calendar import FiscalCalendar
from retention_cli.config import Config
from retention_cli.errors import UsageError
from retention_cli.inputs import Loaded, load, load_frame
from retention_cli.ledger import Ledger, build_ledger
from retention_cli.metrics import BRIDGE_KEYS, CHURN_KEYS, RETENTION_KEYS, bridge, churn, retention
from retention_cli.options import BridgeMode, Grain, Method, Shape
from retention_cli.result import Result

COMMANDS = {
    "nrr": ("Net and gross revenue retention", RETENTION_KEYS),
    "bridge": ("ARR bridge", BRIDGE_KEYS),
    "churn": ("Logo and revenue churn", CHURN_KEYS),
}


@dataclass(frozen=True)
class RunOptions:
    """Options shared by the metric commands (SPEC §10)."""

    grain: Grain = Grain.month
    window: int = 12
    method: Method = Method.cohort
    bridge: BridgeMode = BridgeMode.net
    by: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    shape: Shape | None = None
    columns: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None
    delimiter: str | None = None


def ledger_from_frame(
    data: pl.DataFrame,
    *,
    shape: Shape | str | None = None,
    config: Config | None = None,
    columns: dict[str, str] | None = None,
) -> Ledger:
    """Build a ledger straight from an in-memory DataFrame (see ``load_frame``)."""
    config = config or Config()
    loaded = load_frame(data, shape=shape, columns={**config.columns, **(columns or {})})
    return build_ledger(loaded, FiscalCalendar(config.fiscal_year), config=config)


def definitions(config: Config, opts: RunOptions) -> dict[str, Any]:
    """The definitions in force: what must match for two numbers to be comparable."""
    return {
        "method": opts.method.value,
        "window": opts.window,
        "bridge": opts.bridge.value,
        "policies": config.policies.model_dump(mode="json"),
        "calendar": config.fiscal_year.model_dump(mode="json"),
    }


def _caption(command: str, config: Config, opts: RunOptions) -> str:
    cal = config.fiscal_year.describe()
    policy = f"returns counted as {config.policies.reactivation.replace('_', ' ')}"
    window = f"trailing {opts.window}-month window"
    if command == "bridge":
        return f"{opts.bridge.value} bridge at {opts.grain.value} grain · {policy} · {cal}"
    if command == "nrr":
        return f"{opts.method.value} method · {window} · {cal}"
    return (
        f"period rates from the {opts.bridge.value} bridge · window rates: {opts.method.value} "
        f"method, {window} · {cal}"
    )


def _filter_periods(frame: pl.DataFrame, cal: FiscalCalendar, opts: RunOptions) -> pl.DataFrame:
    out = frame
    if opts.date_from:
        lo, _ = cal.resolve(opts.date_from, option="--from")
        out = out.filter(pl.col("end") >= lo)
    if opts.date_to:
        _, hi = cal.resolve(opts.date_to, option="--to")
        out = out.filter(pl.col("start") <= hi)
    if out.height == 0 and frame.height:
        first, last = frame["period"][0], frame["period"][-1]
        msg = (
            f"no {opts.grain.value} periods between --from {opts.date_from or '…'} and "
            f"--to {opts.date_to or '…'}; the data covers {first} to {last}"
        )
        raise UsageError(msg)
    return out


def load_input(path: str, config: Config, opts: RunOptions) -> Loaded:
    """Load a file with the config's column mapping overridden by ``opts.columns``."""
    return load(
        path,
        columns={**config.columns, **opts.columns},
        shape=opts.shape,
        date_format=opts.date_format,
        separator=opts.delimiter,
    )


def prepare(loaded: Loaded, config: Config, opts: RunOptions) -> Ledger:
    """Check the options against the data and build the ledger."""
    if opts.window < 1:
        msg = f"--window must be at least 1 fiscal month, not {opts.window}"
        raise UsageError(msg)
    unknown = [d for d in opts.by if d not in loaded.dimensions]
    if unknown:
        dims = ", ".join(map(repr, loaded.dimensions)) or "none"
        msg = f"--by: no dimension column {', '.join(map(repr, unknown))} in the file (its dimensions: {dims})"
        raise UsageError(msg)
    return build_ledger(
        loaded, FiscalCalendar(config.fiscal_year), config=config, dimensions=list(opts.by)
    )


def compute(command: str, loaded: Loaded, config: Config, opts: RunOptions) -> Result:
    """Run one metric command (``nrr``, ``bridge`` or ``churn``) on loaded data."""
    if command not in COMMANDS:
        msg = f"unknown command {command!r}"
        raise UsageError(msg)
    ledger = prepare(loaded, config, opts)
    by = list(opts.by)
    title, keys = COMMANDS[command]
    frames: dict[str, pl.DataFrame] = {}
    if command in ("bridge", "churn"):
        frames["bridge"] = bridge(
            ledger, grain=opts.grain, mode=opts.bridge, by=by, policies=config.policies
        )
    if command in ("nrr", "churn"):
        frames["retention"] = retention(
            ledger, grain=opts.grain, window=opts.window, method=opts.method, by=by
        )
    if command == "churn":
        frame = churn(frames["bridge"], frames["retention"], by=by)
    else:
        frame = frames["bridge" if command == "bridge" else "retention"]
    frame = _filter_periods(frame, ledger.calendar, opts)
    warnings = [*loaded.warnings, *ledger.warnings]
    last_label = ledger.calendar.label(ledger.last_period, Grain.month)
    cal = ledger.calendar
    if cal.grain_last(ledger.last_period, opts.grain) != ledger.last_period:
        period = cal.label(cal.grain_last(ledger.last_period, opts.grain), opts.grain)
        if period in frame["period"].to_list():
            warnings.append(
                f"{period} is incomplete: the data ends with fiscal month {last_label}, "
                "so its end figures are as of that month"
            )
    if ledger.opening_balance and command in ("bridge", "churn"):
        first = cal.label(cal.grain_last(ledger.first_period, opts.grain), opts.grain)
        if first in frame["period"].to_list():
            warnings.append(
                f"{first} is the snapshot file's opening balance: it has end ARR but no movements"
            )
    return Result(
        command=command,
        title=title,
        frame=frame,
        keys=keys,
        by=tuple(by),
        input={
            "path": loaded.source.path,
            "sha256": loaded.source.sha256,
            "rows_read": loaded.source.rows_read,
            "rows_used": loaded.rows_used,
            "shape": loaded.shape.value,
        },
        options={
            "grain": opts.grain.value,
            "window": opts.window,
            "method": opts.method.value,
            "bridge": opts.bridge.value,
            "by": by,
            "from": opts.date_from,
            "to": opts.date_to,
            "fiscal_year": config.fiscal_year.model_dump(mode="json"),
            "policies": config.policies.model_dump(mode="json"),
        },
        definitions=definitions(config, opts),
        caption=_caption(command, config, opts),
        warnings=tuple(warnings),
    )


def run(command: str, path: str, config: Config, opts: RunOptions) -> Result:
    """Load ``path`` and run ``command`` on it."""
    return compute(command, load_input(path, config, opts), config, opts)


__all__ = [
    "RunOptions",
    "compute",
    "definitions",
    "ledger_from_frame",
    "load_input",
    "run",
]
