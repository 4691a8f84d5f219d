"""The CI gate (SPEC §11): compare metrics with a baseline and with thresholds.

Pure functions over plain data: a baseline is the JSON a ``retention`` command
wrote (``report`` or a single metric command); "now" is the same long table
built from freshly computed results. Nothing here prints or exits.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from retention_cli.config import read_small_text
from retention_cli.errors import ExitCode, RetentionError
from retention_cli.keys import CHECKABLE, DEFAULT_COMPARED, Direction, Kind, spec_for
from retention_cli.options import BridgeMode, Grain, Method
from retention_cli.result import SCHEMA_VERSION, Result
from retention_cli.safeyaml import load_yaml

if TYPE_CHECKING:
    from retention_cli.config import Config
    from retention_cli.inputs import Loaded
    from retention_cli.service import RunOptions

ROW_KEYS = frozenset({"period", "start", "end", "window_start"})
SECTIONS = ("bridge", "retention", "churn", "mix", "economics", "periods")


class CheckError(RetentionError):
    """A baseline, thresholds file or check option is unusable (exit 2)."""


# ----------------------------------------------------------------------------- tolerances
@dataclass(frozen=True)
class Tolerance:
    """How much worse a metric may get.

    ``0.5pp`` (absolute, percentage points of a ratio), ``2%`` (relative to the
    baseline) or a plain number (absolute).
    """

    amount: float
    relative: bool
    text: str

    def limit(self, baseline: float) -> float:
        """The allowed worsening from ``baseline``."""
        return abs(baseline) * self.amount if self.relative else self.amount


def parse_tolerance(text: str | float, *, source: str | None = None) -> Tolerance:
    """``0.5pp`` → 0.005 absolute; ``2%`` → 2% of the baseline; ``0.01`` → 0.01 absolute.

    An unusable ``text`` is an error of the ``max_drop`` parameter, or of
    ``source`` (where in a file it was read) when given.
    """
    param = "max_drop" if source is None else None
    prefix = "" if source is None else f"{source}: "
    if isinstance(text, int | float) and not isinstance(text, bool):
        if text < 0 or not math.isfinite(text):
            msg = f"{prefix}a tolerance must be a finite number of at least 0, not {text}"
            raise CheckError(msg, param=param)
        return Tolerance(float(text), relative=False, text=f"{text:g}")
    raw = str(text).strip().lower().replace(" ", "")
    m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)(pp|%)?", raw)
    if not m:
        msg = f"{prefix}{text!r} is not a tolerance; write 0.5pp (percentage points), 2% (relative) or 0.01"
        raise CheckError(msg, param=param)
    value = float(m.group(1))
    if m.group(2) == "pp":
        return Tolerance(value / 100, relative=False, text=f"{value:g}pp")
    if m.group(2) == "%":
        return Tolerance(value / 100, relative=True, text=f"{value:g}%")
    return Tolerance(value, relative=False, text=f"{value:g}")


# ----------------------------------------------------------------------------- thresholds
def _number(value: Any) -> float:
    """A limit: a number, or a string such as ``"90%"`` or ``"0.9"``.

    Anything else is a ``ValueError``, which Pydantic reports with the key.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        msg = f"expected a number such as 0.9 or '90%', not {type(value).__name__} {value!r}"
        raise ValueError(msg)  # Pydantic reports a ValueError (not a TypeError) with the key
    text = value.strip() if isinstance(value, str) else ""
    number = float(text[:-1]) / 100 if text.endswith("%") else float(value)
    if not math.isfinite(number):
        msg = f"expected a finite number, not {value!r}"
        raise ValueError(msg)
    return number


class Rule(BaseModel):
    """Limits for one metric.

    ``min``, ``max`` (fractions for ratios: 0.9 or "90%") and ``max_drop`` (a
    tolerance for the baseline comparison).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    min: float | None = None
    max: float | None = None
    max_drop: str | None = None

    @field_validator("min", "max", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> Any:
        return None if value is None else _number(value)

    @field_validator("max_drop", mode="before")
    @classmethod
    def _tolerance(cls, value: Any) -> Any:
        if value is None:
            return None
        parse_tolerance(value, source="max_drop")
        return str(value)


@dataclass(frozen=True)
class Thresholds:
    """Rules per metric for every row, and per segment (``{"segment": "SMB"}``)."""

    rules: dict[str, Rule]
    segments: list[tuple[dict[str, str], dict[str, Rule]]]


def _rules(data: Any, where: str) -> dict[str, Rule]:
    if not isinstance(data, dict):
        msg = f"{where}: expected a mapping of metric names to {{min, max, max_drop}}"
        raise CheckError(msg)
    out = {}
    for name, body in data.items():
        if name not in CHECKABLE:
            near = difflib.get_close_matches(str(name), sorted(CHECKABLE), n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            msg = f"{where}: unknown metric {name!r}{hint}"
            raise CheckError(
                msg, hint="metric names are the JSON keys, e.g. nrr, grr, logo_churn_rate"
            )
        if not isinstance(body, dict):
            msg = f"{where}: {name}: expected {{min: ..., max: ..., max_drop: ...}}, got {body!r}"
            raise CheckError(msg)
        try:
            out[str(name)] = Rule.model_validate(body)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"])
            why = err["msg"].removeprefix("Value error, ")
            msg = f"{where}: {name}.{key}: {why} (got {err.get('input')!r})"
            raise CheckError(msg) from None
    return out


def load_thresholds(path: Path) -> Thresholds:
    """Read a thresholds YAML.

    Metric rules at the top level, and a ``segments:`` mapping of
    ``"segment=SMB"`` (or ``"segment=SMB,region=EMEA"``) to more rules.
    """
    try:
        data = load_yaml(read_small_text(path, "thresholds file"))
    except FileNotFoundError:
        msg = f"{path}: thresholds file not found"
        raise CheckError(msg) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        msg = f"{path}{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}"
        raise CheckError(msg) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        msg = f"{path}: expected a mapping like `nrr: {{min: 1.0}}`"
        raise CheckError(msg)
    segments_raw = data.pop("segments", None) or {}
    if not isinstance(segments_raw, dict):
        msg = f"{path}: segments: expected a mapping of COL=VALUE to metric rules"
        raise CheckError(msg)
    segments = []
    for key, body in segments_raw.items():
        pairs: dict[str, str] = {}
        for part in str(key).split(","):
            col, sep, value = part.partition("=")
            if not sep or not col.strip():
                msg = f"{path}: segments: {key!r} is not COL=VALUE (e.g. segment=SMB)"
                raise CheckError(msg)
            pairs[col.strip()] = value.strip()
        segments.append((pairs, _rules(body, f"{path}: segments: {key}")))
    return Thresholds(rules=_rules(data, str(path)), segments=segments)


# ----------------------------------------------------------------------------- baselines
SUPPORTED_SCHEMA_VERSIONS = (SCHEMA_VERSION,)
"""The ``schema_version`` values a baseline may have."""

ALWAYS_DEFINED = ("method", "window", "bridge", "policies", "calendar")
"""Keys every ``definitions`` record has (whatever the command)."""

ALWAYS_WRITTEN = ("bridge", "retention", "churn", "mix")
"""Report sections that every ``report`` document has (economics needs spend or a
margin; the cohort matrix has no metric ``check`` compares)."""

NULL_ONLY_WITHOUT = {
    "nrr": "cohort_start_arr",
    "grr": "cohort_start_arr",
    "gross_revenue_churn": "cohort_start_arr",
    "net_revenue_churn": "cohort_start_arr",
    "logo_retention": "cohort_logos",
    "logo_churn_rate": "cohort_logos",
    "period_logo_churn_rate": "start_logos",
    "period_gross_revenue_churn": "start_arr",
    "period_net_revenue_churn": "start_arr",
}
"""A ratio that is null only when its denominator (the key named here, in the same
row) is null or zero: a baseline null anywhere else has been tampered with."""

_WRITE_HINT = "write one with: retention report FILE -f json -o metrics.json"
_REGENERATE = "regenerate the baseline with: retention report FILE -f json -o metrics.json"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _baseline_error(
    path: Path | str, where: str, message: str, hint: str = _REGENERATE
) -> CheckError:
    return CheckError(f"{path}: {where}: {message}" if where else f"{path}: {message}", hint=hint)


def load_baseline(path: Path) -> dict[str, Any]:
    """Read a JSON document written by ``retention`` and check that it can gate.

    It needs a supported ``schema_version``, a metric command, ``definitions``
    whose ``definitions_sha256`` matches them, usable ``options`` and
    well-formed rows. Any doubt is a :class:`CheckError` (exit 2), never a
    check quietly skipped.
    """
    try:
        text = read_small_text(path, "baseline")
    except FileNotFoundError:
        msg = f"{path}: baseline file not found"
        raise CheckError(msg, hint=_WRITE_HINT) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot read the baseline ({getattr(exc, 'strerror', None) or exc})"
        raise CheckError(msg, hint=_WRITE_HINT) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
        raise CheckError(
            msg, hint="the baseline must be a document written by retention -f json"
        ) from None
    except RecursionError:
        msg = f"{path}: not valid JSON: nested too deeply"
        raise CheckError(msg, hint=_WRITE_HINT) from None
    if not isinstance(doc, dict) or "schema_version" not in doc:
        msg = f"{path}: not a retention JSON document (no schema_version)"
        raise CheckError(msg, hint=_WRITE_HINT)
    version = doc["schema_version"]
    if not (type(version) is int and version in SUPPORTED_SCHEMA_VERSIONS):
        msg = (
            f"{path}: schema_version {version!r} is not {SCHEMA_VERSION}, "
            "the version this retention writes"
        )
        raise CheckError(msg, hint="regenerate the baseline with this version of retention")
    if not any(isinstance(doc.get(s), list) for s in SECTIONS):
        msg = f"{path}: the document has no metric rows (no periods or report sections)"
        raise CheckError(msg)
    _check_command(path, doc)
    _check_definitions(path, doc)
    _check_options(path, doc)
    for section in SECTIONS:
        rows = doc.get(section)
        if rows is None:
            continue
        if not isinstance(rows, list):
            raise _baseline_error(path, section, f"expected a list of rows, got {_kind(rows)}")
        for i, row in enumerate(rows):
            if not isinstance(row, dict) or not isinstance(row.get("period"), str):
                msg = "not a metric row (an object with a period label)"
                raise _baseline_error(path, f"{section}[{i}]", msg)
    if doc.get("command") == "report":
        missing = [s for s in ALWAYS_WRITTEN if not isinstance(doc.get(s), list)]
        if missing:
            msg = (
                f"section {missing[0]!r} is missing (every report has {', '.join(ALWAYS_WRITTEN)})"
            )
            raise _baseline_error(path, "", msg)
    return doc


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _check_command(path: Path, doc: dict[str, Any]) -> None:
    from retention_cli.commands import COMMANDS, METRIC_COMMANDS

    command = doc.get("command")
    usable = ("report", *METRIC_COMMANDS, "variants")
    if command not in usable:
        shown = (
            f"`retention {command}`"
            if isinstance(command, str) and command in COMMANDS
            else repr(command)
        )
        msg = f"{path}: command: written by {shown}, not by a metric command"
        raise CheckError(msg, hint=_WRITE_HINT)


def _check_definitions(path: Path, doc: dict[str, Any]) -> None:
    """Check that ``definitions`` is complete and ``definitions_sha256`` is its hash.

    The record must have the keys every command writes; an edited record no
    longer matches its hash.
    """
    from retention_cli.result import definitions_hash

    theirs = doc.get("definitions")
    if not isinstance(theirs, dict):
        why = "missing" if theirs is None else f"expected an object, got {_kind(theirs)}"
        raise _baseline_error(path, "definitions", why)
    absent = [k for k in ALWAYS_DEFINED if k not in theirs]
    if absent:
        raise _baseline_error(path, "definitions", f"no {', '.join(absent)}")
    recorded = doc.get("definitions_sha256")
    if not isinstance(recorded, str):
        why = "missing" if recorded is None else f"not a hash ({recorded!r})"
        raise _baseline_error(path, "definitions_sha256", why)
    if recorded != definitions_hash(theirs):
        msg = "does not match the definitions (the baseline was edited after it was written)"
        raise _baseline_error(path, "definitions_sha256", msg)


def _check_options(path: Path, doc: dict[str, Any]) -> None:
    """The options a check takes from the baseline are usable values."""
    from retention_cli.options import MAX_WINDOW

    options = doc.get("options")
    if options is None:
        return
    if not isinstance(options, dict):
        raise _baseline_error(path, "options", f"expected an object, got {_kind(options)}")
    for key, kind in (("grain", Grain), ("method", Method), ("bridge", BridgeMode)):
        if key in options and options[key] not in {m.value for m in kind}:
            allowed = ", ".join(m.value for m in kind)
            msg = f"{options[key]!r} is not one of {allowed}"
            raise _baseline_error(path, f"options.{key}", msg)
    window = options.get("window", 12)
    if type(window) is not int or not 1 <= window <= MAX_WINDOW:
        msg = f"{window!r} is not a window of 1 to {MAX_WINDOW} fiscal months"
        raise _baseline_error(path, "options.window", msg)
    by = options.get("by") or []
    if not isinstance(by, list) or not all(isinstance(c, str) and c for c in by):
        raise _baseline_error(path, "options.by", f"expected a list of column names, got {by!r}")


def baseline_rows(
    doc: dict[str, Any], path: Path | str = "baseline"
) -> dict[tuple[str, str, str], float | None]:
    """``(metric, segment, period) -> value`` for every metric row of a baseline.

    Like :func:`long_rows`, but a value that is not a number or null, a null
    where the row has a denominator, or two sections that disagree is a
    :class:`CheckError`.
    """
    by = list((doc.get("options") or {}).get("by") or [])
    out: dict[tuple[str, str, str], float | None] = {}
    configured = None  # `nrr --variants`: the first variant is the one configured
    for section in SECTIONS:
        for i, row in enumerate(doc.get(section) or []):
            if "variant" in row:
                configured = row["variant"] if configured is None else configured
                if row["variant"] != configured:
                    continue
            seg = segment_name({d: row.get(d) for d in by})
            for key, value in row.items():
                if key in ROW_KEYS or key in by or key not in CHECKABLE:
                    continue
                where = f"{section}[{i}] ({row['period']}, {seg})"
                if value is not None and not _is_number(value):
                    msg = f"{key} is {value!r}, not a number"
                    raise _baseline_error(path, where, msg)
                if value is None and key in NULL_ONLY_WITHOUT:
                    denominator = row.get(NULL_ONLY_WITHOUT[key])
                    if _is_number(denominator) and denominator != 0:
                        msg = (
                            f"{key} is null although {NULL_ONLY_WITHOUT[key]} is "
                            f"{denominator!r} (null only where there is nothing to divide by)"
                        )
                        raise _baseline_error(path, where, msg)
                place = (key, seg, str(row["period"]))
                if place in out and out[place] != value:
                    msg = f"{key} is {value!r} here but {out[place]!r} in an earlier section"
                    raise _baseline_error(path, where, msg)
                out.setdefault(place, value)
    return out


def gated_metrics(
    doc: dict[str, Any], metrics: list[str] | None, thresholds: Thresholds | None
) -> tuple[str, ...]:
    """The metrics a baseline must hold for every segment at every checked period.

    Those named by ``metrics`` (else the default compared ones its command
    writes), and every threshold metric its command writes.
    """
    written = written_keys(doc)
    named = list(metrics) if metrics else [m for m in DEFAULT_COMPARED if m in written]
    if thresholds is not None:
        rules = [thresholds.rules, *(r for _, r in thresholds.segments)]
        named += [m for r in rules for m in r if m in written]
    return tuple(dict.fromkeys(named))


def written_keys(doc: dict[str, Any]) -> frozenset[str]:
    """The metric keys the command that wrote ``doc`` always writes."""
    from retention_cli.commands import COMMANDS, section_command

    command = doc.get("command")
    if command == "report":
        return frozenset(k for s in ALWAYS_WRITTEN for k in section_command(s).keys)
    spec = COMMANDS.get(str(command))
    return frozenset(spec.keys) if spec is not None else frozenset()


def missing_in_baseline(
    doc: dict[str, Any],
    rows: dict[tuple[str, str, str], float | None],
    periods: list[str],
    metrics: tuple[str, ...],
    path: Path | str = "baseline",
) -> str | None:
    """What the baseline lacks to gate ``metrics`` at ``periods``, as a message.

    Checked for the total and every segment it has there; ``None`` when
    nothing is missing.
    """
    segments: dict[str, set[str]] = {p: set() for p in periods}
    for _, seg, period in rows:
        if period in segments:
            segments[period].add(seg)
    for period in periods:
        if not segments[period]:
            return f"{path}: no rows for period {period}"
        for seg in sorted(segments[period], key=lambda s: (s != "Total", s)):
            absent = [m for m in metrics if (m, seg, period) not in rows]
            if absent:
                shown = ", ".join(absent[:4]) + (
                    f" and {len(absent) - 4} more" if len(absent) > 4 else ""
                )
                return f"{path}: {_section_of(doc, absent[0])}: no {shown} for {period} ({seg})"
    return None


def _section_of(doc: dict[str, Any], metric: str) -> str:
    """Where ``metric`` belongs in ``doc``: its report section, else ``periods``."""
    from retention_cli.commands import REPORT_SECTIONS, section_command

    if doc.get("command") != "report":
        return "periods"
    return next((s for s in REPORT_SECTIONS if metric in section_command(s).keys), "economics")


def long_rows(doc: dict[str, Any]) -> dict[tuple[str, str, str], float | None]:
    """``(metric, segment, period) -> value`` for every metric row of a document.

    ``segment`` is ``Total`` or ``col=value,...`` from the row's ``--by`` columns.
    """
    by = list((doc.get("options") or {}).get("by") or [])
    out: dict[tuple[str, str, str], float | None] = {}
    for section in SECTIONS:
        for row in doc.get(section) or []:
            if not isinstance(row, dict) or "period" not in row:
                continue
            seg = segment_name({d: row.get(d) for d in by})
            for key, value in row.items():
                if key in ROW_KEYS or key in by or key not in CHECKABLE:
                    continue
                if value is not None and not isinstance(value, int | float):
                    continue
                out.setdefault((key, seg, str(row["period"])), value)
    return out


def segment_name(values: dict[str, Any]) -> str:
    """``Total`` for a total row, else ``segment=SMB,region=EMEA``."""
    if not values or all(v is None for v in values.values()):
        return "Total"
    return ",".join(f"{k}={v}" for k, v in values.items())


# ----------------------------------------------------------------------------- comparison
def _worse(metric: str, base: float, now: float) -> float:
    """How much worse ``now`` is than ``base`` (negative = better)."""
    if spec_for(metric).direction is Direction.lower_is_better:
        return now - base
    return base - now


def compare(
    now: dict[tuple[str, str, str], float | None],
    *,
    baseline: dict[tuple[str, str, str], float | None] | None,
    thresholds: Thresholds | None,
    baseline_periods: list[str],
    threshold_periods: list[str],
    metrics: list[str] | None,
    max_drop: Tolerance,
    skip_null: bool = False,
) -> list[dict[str, Any]]:
    """One verdict per (metric, segment, period) checked.

    Baseline rows for ``baseline_periods``: now must exist and not be worse than the
    baseline by more than the tolerance (the metric's ``max_drop`` or
    ``max_drop``); a metric with no good direction (a share) is compared both
    ways. Threshold rows: now within ``min``/``max``. A value missing now is a
    failure (with ``skip_null``, a null value now is skipped instead).
    """
    out: list[dict[str, Any]] = []
    chosen = set(metrics) if metrics else None
    if baseline is not None:
        for (metric, seg, period), base in sorted(baseline.items(), key=_order_key):
            if period not in baseline_periods:
                continue
            if chosen is not None and metric not in chosen:
                continue
            if chosen is None and metric not in DEFAULT_COMPARED:
                continue
            if base is None:
                continue
            rule = _rule_for(thresholds, metric, seg)
            tol = (
                parse_tolerance(rule.max_drop, source="max_drop")
                if rule and rule.max_drop
                else max_drop
            )
            row = {"metric": metric, "segment": seg, "period": period, "baseline": base,
                   "now": None, "change": None, "limit": f"worse by ≤ {tol.text}", "check": "baseline"}  # fmt: skip
            if (metric, seg, period) not in now:
                out.append({**row, "status": "fail", "reason": "missing now"})
                continue
            value = now[(metric, seg, period)]
            if value is None:
                if skip_null:
                    continue
                out.append({**row, "status": "fail", "reason": "no value now"})
                continue
            neutral = spec_for(metric).direction is Direction.neutral
            worse = abs(value - base) if neutral else _worse(metric, base, value)
            ok = worse <= tol.limit(base) + 1e-12
            out.append({**row, "now": value, "change": value - base, "status": "pass" if ok else "fail",
                        "reason": "" if ok else "regressed"})  # fmt: skip
    if thresholds is not None:
        targets = [({}, thresholds.rules), *thresholds.segments]
        for where, rules in targets:
            seg_name = segment_name(where) if where else "Total"
            for metric, rule in rules.items():
                if rule.min is None and rule.max is None:
                    continue
                for period in threshold_periods:
                    key = (metric, seg_name, period)
                    limit = " and ".join(
                        t for t in (f"≥ {_show(metric, rule.min)}" if rule.min is not None else "",
                                    f"≤ {_show(metric, rule.max)}" if rule.max is not None else "") if t
                    )  # fmt: skip
                    row = {"metric": metric, "segment": seg_name, "period": period,
                           "baseline": None, "now": None, "change": None, "limit": limit,
                           "check": "threshold"}  # fmt: skip
                    if key not in now:
                        out.append({**row, "status": "fail", "reason": "missing now"})
                        continue
                    value = now[key]
                    if value is None:
                        if not skip_null:
                            out.append({**row, "status": "fail", "reason": "no value now"})
                        continue
                    low = rule.min is not None and value < rule.min - 1e-12
                    high = rule.max is not None and value > rule.max + 1e-12
                    reason = "below min" if low else "above max" if high else ""
                    out.append({**row, "now": value, "status": "fail" if reason else "pass",
                                "reason": reason})  # fmt: skip
    return out


def check_result(
    verdicts: list[dict[str, Any]],
    *,
    dates: dict[str, tuple[str, str]],
    input: dict[str, Any] | None,
    options: dict[str, Any],
    definitions: dict[str, Any],
    caption: str,
    warnings: tuple[str, ...] = (),
) -> Result:
    """The verdicts as a :class:`Result` (one row per metric, segment and period)."""
    import datetime as dt

    import polars as pl

    rows = [
        {
            "period": v["period"],
            "start": dt.date.fromisoformat(dates[v["period"]][0]) if v["period"] in dates else None,
            "end": dt.date.fromisoformat(dates[v["period"]][1]) if v["period"] in dates else None,
            **{k: v[k] for k in CHECK_KEYS},
        }
        for v in verdicts
    ]
    schema = {"period": pl.String, "start": pl.Date, "end": pl.Date, "metric": pl.String,
              "segment": pl.String, "check": pl.String, "baseline": pl.Float64,
              "now": pl.Float64, "change": pl.Float64, "limit": pl.String,
              "status": pl.String, "reason": pl.String}  # fmt: skip
    frame = pl.DataFrame(rows, schema=schema)
    failed = sum(v["status"] == "fail" for v in verdicts)
    summary = f"{len(verdicts) - failed} passed, {failed} failed"
    return Result(
        command="check",
        title=f"retention check: {'FAIL' if failed else 'PASS'} ({summary})",
        frame=frame,
        keys=CHECK_KEYS,
        by=(),
        input=input,
        options=options,
        definitions=definitions,
        caption=caption,
        warnings=warnings,
    )


CHECK_KEYS = (
    "metric",
    "segment",
    "check",
    "baseline",
    "now",
    "change",
    "limit",
    "status",
    "reason",
)


def _show(metric: str, value: float) -> str:
    kind = spec_for(metric).kind
    if kind is Kind.ratio:
        return f"{value * 100:.1f}%"
    if kind is Kind.money:
        return f"{value:,.2f}"
    return f"{value:g}"


def _order_key(item: tuple[tuple[str, str, str], Any]) -> tuple:
    (metric, seg, period), _ = item
    rank = DEFAULT_COMPARED.index(metric) if metric in DEFAULT_COMPARED else len(DEFAULT_COMPARED)
    return (period, seg != "Total", seg, rank, metric)


def _rule_for(thresholds: Thresholds | None, metric: str, seg: str) -> Rule | None:
    if thresholds is None:
        return None
    for where, rules in thresholds.segments:
        if segment_name(where) == seg and metric in rules:
            return rules[metric]
    return thresholds.rules.get(metric)


# ----------------------------------------------------------------------------- a whole check
@dataclass(frozen=True)
class CheckOutcome:
    """The verdicts of one check as a :class:`Result`, and the exit status they give."""

    result: Result
    verdicts: list[dict[str, Any]]

    @property
    def failed(self) -> int:
        """How many checks failed."""
        return sum(v["status"] == "fail" for v in self.verdicts)

    @property
    def exit_code(self) -> ExitCode:
        """``REGRESSION`` when a check failed, else ``OK``."""
        return ExitCode.REGRESSION if self.failed else ExitCode.OK


@dataclass(frozen=True)
class CheckPlan:
    """What a check compares against.

    The baseline document and thresholds read, the tolerance, and which
    periods and metrics are asked for.
    """

    baseline: dict[str, Any] | None
    thresholds: Thresholds | None
    tolerance: Tolerance
    baseline_path: str | None = None
    thresholds_path: str | None = None
    period: str | None = None
    all_periods: bool = False
    metrics: list[str] | None = None
    allow_definition_change: bool = False

    def options(
        self,
        base: RunOptions,
        *,
        grain: Grain | None = None,
        window: int | None = None,
        method: Method | None = None,
        bridge: BridgeMode | None = None,
        by: tuple[str, ...] | None = None,
    ) -> RunOptions:
        """``base`` with the definitions not given taken from the baseline (else the defaults).

        ``by`` is widened by the columns the segment thresholds name.
        """
        from dataclasses import replace

        known = (self.baseline or {}).get("options") or {}
        by_cols = by if by is not None else tuple(known.get("by") or ())
        if self.thresholds is not None:  # a threshold for segment=SMB needs the segment rows
            extra = [c for where, _ in self.thresholds.segments for c in where if c not in by_cols]
            by_cols = (*by_cols, *dict.fromkeys(extra))
        return replace(
            base,
            grain=grain or Grain(known.get("grain", "month")),
            window=window or int(known.get("window", 12)),
            method=method or Method(known.get("method", "cohort")),
            bridge=bridge or BridgeMode(known.get("bridge", "net")),
            by=by_cols,
        )

    def run(self, loaded: Loaded, config: Config, opts: RunOptions) -> CheckOutcome:
        """Recompute the metrics on ``loaded`` and compare them (SPEC §11)."""
        from retention_cli.commands import REPORT_SECTIONS
        from retention_cli.render.json import document
        from retention_cli.service import compute_report

        # the cohort matrix has no checkable metric: do not compute it
        wanted = tuple(s for s in REPORT_SECTIONS if s not in ("cohorts", "summary"))
        report = compute_report(loaded, config, opts, sections_wanted=wanted)
        now_doc = document(report)
        warnings = [*report.warnings, *self._definition_change(now_doc["definitions"])]
        now_rows = long_rows(now_doc)
        where = self.baseline_path or "baseline"
        base_rows = baseline_rows(self.baseline, where) if self.baseline else None
        b_periods, t_periods = self._periods(now_rows, base_rows)
        if self.baseline is not None and base_rows is not None:
            gated = gated_metrics(self.baseline, self.metrics, self.thresholds)
            missing = missing_in_baseline(self.baseline, base_rows, b_periods, gated, where)
            if missing:
                raise CheckError(missing, hint=_REGENERATE)
        verdicts = compare(
            now_rows, baseline=base_rows, thresholds=self.thresholds, baseline_periods=b_periods,
            threshold_periods=t_periods, metrics=self.metrics, max_drop=self.tolerance,
            skip_null=self.all_periods,
        )  # fmt: skip
        if not verdicts:
            msg = "nothing to check: no metric of the baseline or thresholds is in the selected periods"
            raise CheckError(msg, hint="check --metrics, --period and the baseline's options")
        result = check_result(
            verdicts,
            dates=_dates(now_doc, self.baseline),
            input=now_doc["input"],
            options={**now_doc["options"], "baseline": self.baseline_path,
                     "thresholds": self.thresholds_path, "max_drop": self.tolerance.text,
                     "periods": sorted(set(b_periods) | set(t_periods))},
            definitions=now_doc["definitions"],
            caption=(f"worse-than-baseline tolerance {self.tolerance.text} unless the thresholds "
                     "set one; " + report.sections["retention"].caption),
            warnings=tuple(warnings),
        )  # fmt: skip
        return CheckOutcome(result, verdicts)

    def _definition_change(self, ours: dict[str, Any]) -> list[str]:
        """A warning when the baseline's definitions differ and that is allowed.

        An error (:class:`CheckError`) when it is not.
        """
        if self.baseline is None:
            return []
        theirs = self.baseline.get("definitions") or {}
        # keys every command writes, and fx (written when the config converts
        # currencies), must agree; a command's own settings only where both have them
        shared = set(theirs) & set(ours) | ({"fx"} & (set(theirs) | set(ours)))
        differ = sorted(k for k in shared if theirs.get(k) != ours.get(k))
        if not differ:
            return []
        text = "; ".join(f"{k}: baseline {theirs.get(k)!r}, now {ours.get(k)!r}" for k in differ)
        if not self.allow_definition_change:
            msg = f"the baseline was computed under other definitions ({text})"
            raise CheckError(msg, hint="recompute the baseline, or pass --allow-definition-change")
        return [f"comparing across a definition change: {text}"]

    def _periods(
        self,
        now_rows: dict[tuple[str, str, str], float | None],
        base_rows: dict[tuple[str, str, str], float | None] | None,
    ) -> tuple[list[str], list[str]]:
        """The periods compared with the baseline and with the thresholds."""
        now_periods = list(dict.fromkeys(p for (_, _, p) in now_rows))
        base_periods = list(dict.fromkeys(p for (_, _, p) in base_rows)) if base_rows else []
        if self.period:
            if self.period not in now_periods and self.period not in base_periods:
                shown = ", ".join((now_periods or base_periods)[-3:])
                msg = f"no period {self.period!r} in the data or the baseline (latest: {shown})"
                raise CheckError(msg, param="period")
            return [self.period], [self.period]
        if self.all_periods:
            return base_periods, now_periods
        return base_periods[-1:], now_periods[-1:]


def _dates(now_doc: dict[str, Any], base_doc: dict[str, Any] | None) -> dict[str, tuple[str, str]]:
    """Each period's start and end, from the fresh results, else the baseline."""
    dates = {}
    for section in ("bridge", "retention"):
        for row in now_doc.get(section) or []:
            dates[row["period"]] = (row["start"], row["end"])
    for row in (base_doc or {}).get("periods") or []:
        dates.setdefault(row["period"], (row["start"], row["end"]))
    return dates


def plan_check(
    *,
    baseline: Path | None = None,
    thresholds: Path | None = None,
    max_drop: str | float = "0pp",
    period: str | None = None,
    all_periods: bool = False,
    metrics: list[str] | None = None,
    allow_definition_change: bool = False,
) -> CheckPlan:
    """Read and check what a check compares against, before any data is read.

    ``baseline`` is a JSON document ``retention`` wrote, ``thresholds`` a YAML of
    limits (at least one is needed); ``max_drop`` how much worse than the
    baseline a metric may get; ``period`` one period to check, or
    ``all_periods``, else the latest; ``metrics`` the keys compared with the
    baseline (default: NRR, GRR, logo and revenue churn).
    """
    if baseline is None and thresholds is None:
        msg = "a check needs a baseline, thresholds or both"
        raise CheckError(msg, param="baseline", hint="write a baseline with a JSON report")
    if period and all_periods:
        msg = "give one period or all periods, not both"
        raise CheckError(msg, param="period")
    tolerance = parse_tolerance(max_drop)
    base_doc = load_baseline(baseline) if baseline else None
    rules = load_thresholds(thresholds) if thresholds else None
    bad = [m for m in metrics or () if m not in CHECKABLE]
    if bad:
        msg = f"unknown metric {bad[0]!r}"
        raise CheckError(
            msg,
            param="metrics",
            hint="metric names are the JSON keys, e.g. nrr, grr, logo_churn_rate",
        )
    return CheckPlan(
        baseline=base_doc, thresholds=rules, tolerance=tolerance,
        baseline_path=str(baseline) if baseline else None,
        thresholds_path=str(thresholds) if thresholds else None, period=period,
        all_periods=all_periods, metrics=metrics or None,
        allow_definition_change=allow_definition_change,
    )  # fmt: skip


def run_check(
    path: str,
    *,
    config: Config | None = None,
    options: RunOptions | None = None,
    grain: Grain | None = None,
    window: int | None = None,
    method: Method | None = None,
    bridge: BridgeMode | None = None,
    by: tuple[str, ...] | None = None,
    **plan: Any,
) -> CheckOutcome:
    """Recompute the metrics of the file at ``path`` and compare them with a baseline and/or thresholds.

    ``plan`` holds the arguments of :func:`plan_check`.

    The definitions not given (``grain``, ``window``, ``method``, ``bridge``,
    ``by``) are the baseline's; ``options`` holds the input options (shape,
    columns, spend, ...). ``exit_code`` of the outcome is 1 when a check failed.

    Examples
    --------
    The bundled CI example (``examples/ci/``) against the data it was made from:

    >>> from pathlib import Path
    >>> from retention_cli import run_check
    >>> outcome = run_check(
    ...     "examples/saas_movements.csv",
    ...     baseline=Path("examples/ci/baseline.json"),
    ...     thresholds=Path("examples/ci/thresholds.yaml"),
    ... )
    >>> outcome.result.title, int(outcome.exit_code)
    ('retention check: PASS (14 passed, 0 failed)', 0)
    >>> outcome.result.frame.select("period", "metric", "check", "status").row(0)
    ('FY2026-Q2', 'nrr', 'baseline', 'pass')
    """
    from retention_cli.config import Config
    from retention_cli.service import RunOptions, load_input

    config = config or Config()
    checking = plan_check(**plan)
    opts = checking.options(
        options or RunOptions(), grain=grain, window=window, method=method, bridge=bridge, by=by
    )
    return checking.run(load_input(path, config, opts), config, opts)
