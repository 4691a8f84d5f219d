"""The CI gate (SPEC §11): compare metrics with a baseline and with thresholds.

Pure functions over plain data: a baseline is the JSON a ``retention`` command
wrote (``report`` or a single metric command); "now" is the same long table
built from freshly computed results. Nothing here prints or exits.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from retention_cli.config import load_yaml
from retention_cli.errors import ExitCode, RetentionError
from retention_cli.keys import CHECKABLE, DEFAULT_COMPARED, Direction, Kind, spec_for
from retention_cli.options import BridgeMode, Grain, Method
from retention_cli.result import SCHEMA_VERSION, Result

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
    """How much worse a metric may get: ``0.5pp`` (absolute, percentage points of a
    ratio), ``2%`` (relative to the baseline) or a plain number (absolute)."""

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
        if text < 0:
            msg = f"{prefix}a tolerance cannot be negative ({text})"
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
    if isinstance(value, str) and value.strip().endswith("%"):
        return float(value.strip()[:-1]) / 100
    return float(value)


class Rule(BaseModel):
    """Limits for one metric: ``min``, ``max`` (fractions for ratios: 0.9 or "90%")
    and ``max_drop`` (a tolerance for the baseline comparison)."""

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
            msg = f"{where}: {name}.{key}: {err['msg']} (got {err.get('input')!r})"
            raise CheckError(msg) from None
    return out


def load_thresholds(path: Path) -> Thresholds:
    """Read a thresholds YAML: metric rules at the top level, and a ``segments:``
    mapping of ``"segment=SMB"`` (or ``"segment=SMB,region=EMEA"``) to more rules."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8-sig"))
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
def load_baseline(path: Path) -> dict[str, Any]:
    """Read a JSON document written by ``retention``; check its schema version."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        msg = f"{path}: baseline file not found"
        raise CheckError(
            msg, hint="write one with: retention report FILE -f json -o metrics.json"
        ) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
        raise CheckError(
            msg, hint="the baseline must be a document written by retention -f json"
        ) from None
    if not isinstance(doc, dict) or "schema_version" not in doc:
        msg = f"{path}: not a retention JSON document (no schema_version)"
        raise CheckError(msg, hint="write one with: retention report FILE -f json -o metrics.json")
    if doc["schema_version"] != SCHEMA_VERSION:
        msg = (
            f"{path}: schema_version {doc['schema_version']!r} is not {SCHEMA_VERSION}, "
            "the version this retention writes"
        )
        raise CheckError(msg, hint="regenerate the baseline with this version of retention")
    if not any(isinstance(doc.get(s), list) for s in SECTIONS):
        msg = f"{path}: the document has no metric rows (no periods or report sections)"
        raise CheckError(msg)
    return doc


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
    """What a check compares against: the baseline document and thresholds read,
    the tolerance, and which periods and metrics are asked for."""

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
        """``base`` with the definitions not given taken from the baseline (else the
        defaults), and ``by`` widened by the columns the segment thresholds name."""
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
        wanted = tuple(s for s in REPORT_SECTIONS if s != "cohorts")
        report = compute_report(loaded, config, opts, sections_wanted=wanted)
        now_doc = document(report)
        warnings = [*report.warnings, *self._definition_change(now_doc["definitions"])]
        now_rows = long_rows(now_doc)
        base_rows = long_rows(self.baseline) if self.baseline else None
        b_periods, t_periods = self._periods(now_rows, base_rows)
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
        """A warning when the baseline's definitions differ and that is allowed; an error
        when it is not."""
        if self.baseline is None:
            return []
        theirs = self.baseline.get("definitions") or {}
        differ = sorted(k for k in set(theirs) & set(ours) if theirs[k] != ours[k])
        if not differ:
            return []
        text = "; ".join(f"{k}: baseline {theirs[k]!r}, now {ours[k]!r}" for k in differ)
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
    """Recompute the metrics of the file at ``path`` and compare them with a baseline
    and/or thresholds (``plan``: the arguments of :func:`plan_check`).

    The definitions not given (``grain``, ``window``, ``method``, ``bridge``,
    ``by``) are the baseline's; ``options`` holds the input options (shape,
    columns, spend, ...). ``exit_code`` of the outcome is 1 when a check failed.
    """
    from retention_cli.config import Config
    from retention_cli.service import RunOptions, load_input

    config = config or Config()
    checking = plan_check(**plan)
    opts = checking.options(
        options or RunOptions(), grain=grain, window=window, method=method, bridge=bridge, by=by
    )
    return checking.run(load_input(path, config, opts), config, opts)
