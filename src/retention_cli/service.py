"""One call per command: load → ledger → metrics → :class:`Result` (no CLI, no Rich)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import polars as pl

from retention_cli.batches import batch_count, batch_rows, retention_in_parts
from retention_cli.calendar import FiscalCalendar, fiscal_year_table
from retention_cli.commands import (
    COMMANDS,
    REPORT_SECTIONS,
    CommandSpec,
    command_spec,
    section_command,
)
from retention_cli.defaults import CANONICAL_COLUMNS
from retention_cli.errors import InputError, Problem, RetentionError, UsageError
from retention_cli.inputs import LINE, Loaded, ReadLimits, Rules, load, load_frame
from retention_cli.inputs.checks import check_segment_values
from retention_cli.inputs.columns import AUTO_COLUMNS
from retention_cli.keys import AGE_PATTERN, KEYS
from retention_cli.ledger import Ledger, bridge_gaps, build_ledger
from retention_cli.metrics import BRIDGE_KEYS, bridge, retention
from retention_cli.metrics.bands import COMPUTED_DIMENSIONS, order_bands, with_bands
from retention_cli.metrics.books import books
from retention_cli.metrics.cohorts import CohortMetric
from retention_cli.metrics.credit import MAPPED, credit_rows, credit_warnings
from retention_cli.metrics.explain import dimensions_at, explain, find_period
from retention_cli.metrics.transfers import TRANSFER_KEYS
from retention_cli.options import MAX_WINDOW, BridgeMode, Grain, Method, Shape
from retention_cli.result import Report, Result
from retention_cli.rollup import frame_parents, read_parents
from retention_cli.spend import Spend

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Collection

    from retention_cli.config import Config


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
    as_of: str | None = None
    shape: Shape | None = None
    columns: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    preset: str | None = None
    cohort_metric: CohortMetric = CohortMetric.nrr
    spend: Spend | None = None
    on_invalid: str = "error"
    benchmark: str | None = None
    """A bundled benchmark source (``retention benchmarks`` lists them) for peer columns."""
    accounts: str | None = None
    """An accounts file (child → parent): every metric at the parent level."""
    credit: str | None = None
    """``mix``: the movement log's column naming the team credited with each gain."""
    credits: str | None = None
    """``mix``: a credits file (date, account_id, credit) for any shape."""
    decimal_comma: bool = False


def ledger_from_frame(
    data: pl.DataFrame,
    *,
    shape: Shape | str | None = None,
    config: Config | None = None,
    columns: dict[str, str] | None = None,
) -> Ledger:
    """Build a ledger straight from an in-memory DataFrame (see ``load_frame``).

    Examples
    --------
    >>> import polars as pl
    >>> from retention_cli import ledger_from_frame
    >>> snaps = pl.DataFrame({
    ...     "account_id": ["a", "a"],
    ...     "date": ["2026-01-31", "2026-02-28"],
    ...     "arr": ["100.00", "80.00"],
    ... })
    >>> ledger = ledger_from_frame(snaps, shape="snapshots")
    >>> ledger.collect()["arr"].to_list(), ledger.opening_balance
    ([10000, 8000], True)
    """
    if config is None:
        from retention_cli.config import Config

        config = Config()
    loaded = load_frame(
        data, shape=shape, columns={**config.columns, **(columns or {})}, fx=config.fx,
        rules=Rules.of(config),
    )  # fmt: skip
    return build_ledger(loaded, FiscalCalendar(config.fiscal_year), config=config)


def definitions(config: Config, opts: RunOptions, command: str = "nrr") -> dict[str, Any]:
    """The definitions in force: what must match for two numbers to be comparable."""
    out: dict[str, Any] = {
        "method": opts.method.value,
        "window": opts.window,
        "bridge": opts.bridge.value,
        "policies": config.policies.model_dump(mode="json"),
        "calendar": config.fiscal_year.model_dump(mode="json"),
    }
    if config.fx is not None:
        out["fx"] = config.fx.model_dump(mode="json")
    if opts.accounts:
        out["accounts"] = opts.accounts  # a roll-up: metrics at the parent level
    rules = input_rules(config, opts)
    if rules:
        out["input_rules"] = rules
    for setting in command_spec(command).settings:
        out.update(setting.definitions(config, opts))
    return out


RULE_KEYS = ("amount", "billing", "statuses", "cancellation", "discounts", "movement_types",
             "snapshots", "subscriptions")  # fmt: skip
"""Config keys that decide which rows count and what an amount means."""


def input_rules(config: Config, opts: RunOptions) -> dict[str, Any]:
    """The preset and the reading rules in force that differ from the defaults.

    They change what every number means (a status counted, an annual plan read
    as a year), so they are part of ``definitions``: a baseline computed under
    other rules is a definition change. Empty for a plain file, so the hash of
    the usual run does not move.
    """
    from retention_cli.inputs.presets import with_preset

    merged = with_preset(config, opts.preset)
    rules = merged.model_dump(mode="json", exclude_defaults=True, include=set(RULE_KEYS))
    if merged.preset:
        rules = {"preset": merged.preset, **rules}
    return rules


def _filter_periods(frame: pl.DataFrame, cal: FiscalCalendar, opts: RunOptions) -> pl.DataFrame:
    out = frame
    if opts.date_from:
        lo, _ = cal.resolve(opts.date_from, param="date_from")
        out = out.filter(pl.col("end") >= lo)
    if opts.date_to:
        _, hi = cal.resolve(opts.date_to, param="date_to")
        out = out.filter(pl.col("start") <= hi)
    if out.height == 0 and frame.height:
        first, last = frame["period"][0], frame["period"][-1]
        msg = (
            f"no {opts.grain.value} periods from {opts.date_from or '…'} to "
            f"{opts.date_to or '…'}; the data covers {first} to {last}"
        )
        raise UsageError(msg, param="date_from" if opts.date_from else "date_to")
    return out


EXPLAIN_TAKEN = frozenset(
    {*CANONICAL_COLUMNS, "period", "start", "end", "window_start", "account", "value", "class",
     "arr_at_window_start", "arr_at_end", "numerator_arr", "denominator_arr", *BRIDGE_KEYS}
)  # fmt: skip
"""Column names ``explain`` uses itself: a dimension of that name cannot ride along."""

BY_TAKEN = frozenset({*EXPLAIN_TAKEN, *KEYS}) - {
    *("fiscal_year", "quarter", "days"),  # calendar's
    *("metric", "check", "baseline", "now", "change", "limit", "status", "reason"),  # check's
}
"""Names a ``by`` dimension cannot have: the output keys of the metric commands
(``period``, ``nrr``, ...), the canonical input columns and the ledger's own
columns. Names starting with ``_`` and cohort ages (``month_3``) are taken too."""


def name_taken(name: str, taken: frozenset[str] = BY_TAKEN) -> bool:
    """True when a dimension called ``name`` would collide with a column of the output."""
    return name in taken or name.startswith("_") or AGE_PATTERN.match(name) is not None


def delimiter_char(text: str | None) -> str | None:
    r"""The field delimiter ``text`` stands for; ``None`` to detect it.

    One character, or ``\t`` (a backslash and a t, as typed in a shell) or
    ``tab`` for a tab.
    """
    if text is None:
        return None
    named = {"\\t": "\t", "tab": "\t", "\\x09": "\t"}
    char = named.get(text.lower(), text)
    if len(char) != 1 or char in '"\r\n' or len(char.encode("utf-8")) != 1:
        shown = "an empty string" if not text else repr(text)
        msg = f"{shown} is not a delimiter: give one character, such as , ; | or \\t for a tab"
        raise UsageError(
            msg, param="delimiter", hint="leave it out to detect comma, semicolon or tab"
        )
    return char


def load_input(
    path: str, config: Config, opts: RunOptions, *, dimensions: Collection[str] | None = None
) -> Loaded:
    """Load a file with the config's column mapping overridden by ``opts.columns``.

    The input options come from ``opts``, else the config (``shape``,
    ``date_format``, ``delimiter``, ``sheet``); a preset (``opts.preset``, else
    the config's ``preset:``) supplies every key the config does not set.
    A header the tool cannot use as it is (a ``_line`` column, or two headers
    read as the same canonical column) is an :class:`InputError`.
    ``dimensions``: the dimension columns the run reads (:func:`needed_dimensions`;
    None: all), as :func:`~retention_cli.inputs.load` takes it.
    """
    from retention_cli.inputs.presets import with_preset

    config = with_preset(config, opts.preset)

    def given(flag: str | None, key: str | None) -> str | None:
        return flag if flag is not None else key

    shape = opts.shape or (Shape(config.shape) if config.shape else None)
    loaded = load(
        path,
        columns={**config.columns, **opts.columns},
        shape=shape,
        date_format=given(opts.date_format, config.date_format),
        separator=delimiter_char(given(opts.delimiter, config.delimiter)),
        sheet=given(opts.sheet, config.sheet),
        on_invalid=opts.on_invalid,
        fx=config.fx,
        rules=Rules.of(config),
        decimal_comma=opts.decimal_comma or config.decimal == "comma",
        limits=ReadLimits(
            max_bytes=config.limits.max_input_mb * 2**20,
            max_ratio=config.limits.max_expansion,
        ),
        dimensions=dimensions,
    )
    clash = [d for d in loaded.dimensions if d in AUTO_COLUMNS]
    if clash:
        msg = (
            f"two columns are read as {clash[0]}: the header {clash[0]!r} and another that "
            "matches it ignoring case, spaces and underscores"
        )
        hint = (
            "rename or drop one of them, or name the one to use in the config's columns "
            f"(e.g. {clash[0]}: {clash[0]!r})"
        )
        raise InputError(path, [Problem(msg, line=1)], hint=hint)
    return loaded


def prepare(loaded: Loaded, config: Config, opts: RunOptions) -> Ledger:
    """Check the options against the data and build the ledger."""
    cal, as_of, computed, from_file = check_options(loaded, config, opts)
    parents = read_parents(opts.accounts) if opts.accounts else None
    led = build_ledger(
        loaded, cal, config=config, dimensions=from_file, as_of=as_of, parents=parents
    )
    led = with_bands(led, computed, config.bands, list(opts.by))
    shadowed = [d for d in opts.by if d in COMPUTED_DIMENSIONS and d not in computed]
    if shadowed:  # the file's own column wins: the user's data, and what --by meant before
        said = (f"the file has a column {d!r}: the split uses its values, not the computed "
                "band (rename the column to get the computed one)" for d in shadowed)  # fmt: skip
        led = replace(led, warnings=(*led.warnings, *said))
    if opts.credit and opts.credits:
        msg = "give a credit column or a credits file, not both"
        raise UsageError(msg, param="credits")
    # mix and report: who is credited with the gains (a flag, or a mapped credit column)
    if opts.credit or opts.credits or MAPPED in loaded.frame.columns:
        rows = credit_rows(loaded, cal, column=opts.credit, path=opts.credits, parents=parents)
        led = replace(led, credits=rows, warnings=(*led.warnings, *credit_warnings(rows, led)))
    return led


def check_options(
    loaded: Loaded, config: Config, opts: RunOptions
) -> tuple[FiscalCalendar, dt.date | None, list[str], list[str]]:
    """The checks of the options against the data that come before the ledger.

    Returns the calendar, the ``as_of`` day, the computed dimensions of ``by`` and
    those read from the file.
    """
    if opts.window < 1:
        msg = f"must be at least 1 fiscal month, not {opts.window}"
        raise UsageError(msg, param="window")
    if opts.window > MAX_WINDOW:
        msg = f"{opts.window} fiscal months is longer than the {MAX_WINDOW} allowed"
        hint = "a window longer than the data has no ratio anyway; 12 (a year) is usual"
        raise UsageError(msg, param="window", hint=hint)
    twice = [d for d in dict.fromkeys(opts.by) if opts.by.count(d) > 1]
    if twice:
        msg = f"{twice[0]!r} is given twice"
        raise UsageError(msg, param="by", hint="name each dimension column once")
    computed = [d for d in opts.by if d in COMPUTED_DIMENSIONS and d not in loaded.dimensions]
    unknown = [d for d in opts.by if d not in loaded.dimensions and d not in computed]
    if unknown:
        dims = ", ".join(map(repr, loaded.dimensions)) or "none"
        msg = f"no dimension column {', '.join(map(repr, unknown))} in the file (its dimensions: {dims})"
        hint = (
            f"use one of them, or a dimension the tool computes: {', '.join(COMPUTED_DIMENSIONS)}"
        )
        raise UsageError(msg, param="by", hint=hint)
    taken = [d for d in opts.by if d not in computed and name_taken(d)]
    if taken:
        msg = f"cannot split by {taken[0]!r}: the output has a column of that name"
        hint = f"rename the column {taken[0]!r} in the file (e.g. to {taken[0]}_name)"
        raise UsageError(msg, param="by", hint=hint)
    cal = FiscalCalendar(config.fiscal_year)
    as_of = cal.resolve(opts.as_of, param="as_of")[1] if opts.as_of else None
    from_file = [d for d in opts.by if d not in computed]
    check_segment_values(loaded.frame, _with_reserved(loaded, from_file), loaded.source.path)
    return cal, as_of, computed, from_file


def _in_parts(loaded: Loaded, config: Config, opts: RunOptions) -> bool:
    """Whether ``nrr`` builds its ledger a part of the accounts at a time.

    Only where that is the same computation: a snapshot file or movement log of more
    than :func:`~retention_cli.batches.batch_rows` rows, with no option that needs
    the whole ledger (``as_of``, a roll-up, dated FX, credits, computed bands, peers).
    """
    cols = loaded.frame.columns
    return (
        loaded.shape in (Shape.snapshots, Shape.movements)
        and loaded.frame.height > batch_rows()
        and not (opts.as_of or opts.accounts or opts.credit or opts.credits or opts.benchmark)
        and config.fx is None
        and not any(c in cols for c in (MAPPED, "_parent_id", "_currency"))
        and not any(d in COMPUTED_DIMENSIONS for d in opts.by)
    )


def _nrr_in_parts(
    loaded: Loaded, config: Config, opts: RunOptions, *, release_input: bool
) -> MetricRun | None:
    """The ``nrr`` run with its ledger built in parts (see :func:`_in_parts`).

    None when a part stops with an error: the whole-file run then says it as ever.
    """
    if release_input:  # as MetricRun: the dimensions not split by go first
        loaded.frame = loaded.frame.drop(_unused_dimensions(loaded, opts))
    cal, _, _, from_file = check_options(loaded, config, opts)
    try:
        ledger, frame = retention_in_parts(
            loaded, cal, config=config, dimensions=from_file, grain=opts.grain,
            window=opts.window, method=opts.method, by=list(opts.by),
            parts=batch_count(loaded.frame.height),
        )  # fmt: skip
    except RetentionError:
        return None
    job = MetricRun(loaded, config, opts, release_input=release_input, ledger=ledger)
    job.computed("nrr", frame)
    return job


def _with_reserved(loaded: Loaded, dims: list[str]) -> list[str]:
    """The dimensions among ``dims`` with a value outputs reserve for a label.

    The check runs on each column's distinct values first (it looks at one
    value at a time); the row-level check then runs only where it finds one,
    to name the lines (on every row it cost 0.6 s a column on 9M rows).
    """
    found = []
    for d in dims:
        distinct = loaded.frame.select(pl.col(d).unique(), pl.lit(0, dtype=pl.Int64).alias(LINE))
        try:
            check_segment_values(distinct, [d], loaded.source.path)
        except InputError:
            found.append(d)
    return found


def needed_dimensions(command: str, opts: RunOptions) -> list[str] | None:
    """The dimension columns a run of ``command`` reads: ``by``'s, or None (all).

    None for a view and with a credit column or file. :func:`run_loaded` with
    ``release_input`` drops the others before the ledger (:func:`_unused_dimensions`),
    and no metric reads them without it either, so the load need not build them. A
    credit column mapped in the config is text, which the one-pass reader declines.
    """
    if command_spec(command).view is not None or opts.credit or opts.credits:
        return None
    return list(opts.by)


def _unused_dimensions(loaded: Loaded, opts: RunOptions) -> list[str]:
    """The dimension columns of ``loaded`` no metric of this run reads.

    Those not in ``by``; none when a credit column or file may name one. Dropping them
    before the ledger is built lowers the peak memory (on a file with five dimensions,
    20 of its 44 bytes a row).
    """
    if opts.credit or opts.credits or MAPPED in loaded.frame.columns:
        return []
    return [d for d in loaded.dimensions if d not in opts.by and d in loaded.frame.columns]


class MetricRun:
    """One input under one set of options; each command's frame computed at most once."""

    bands: tuple[str, ...] = ()
    """The computed band dimensions of ``by`` (``acv_band``, ``arr_stage``): listed by
    lower edge. A subclass that builds no ledger (the SQL path) has none."""

    def __init__(
        self,
        loaded: Loaded,
        config: Config,
        opts: RunOptions,
        *,
        release_input: bool = False,
        ledger: Ledger | None = None,
    ) -> None:
        """``ledger``: built already (then the metric frames come through :meth:`computed`)."""
        self.loaded, self.config, self.opts = loaded, config, opts
        if release_input:  # the dimensions not split by go before the ledger is built
            loaded.frame = loaded.frame.drop(_unused_dimensions(loaded, opts))
        self.ledger = prepare(loaded, config, opts) if ledger is None else ledger
        if release_input:  # every metric reads the ledger: the parsed rows can go
            loaded.frame = loaded.frame.clear()
        self.by = list(opts.by)
        self.bands = tuple(
            d for d in self.by if d in COMPUTED_DIMENSIONS and d not in loaded.dimensions
        )
        self.report = False
        self._cache: dict[str, pl.DataFrame] = {}

    def computed(self, name: str, frame: pl.DataFrame) -> None:
        """Take ``frame`` as command ``name``'s (computed elsewhere, e.g. in parts)."""
        self._cache[name] = order_bands(frame, self.by, list(self.bands), self.config.bands)

    def frame(self, name: str) -> pl.DataFrame:
        """The frame of metric command ``name``, computed on first use."""
        if name not in self._cache:
            compute = command_spec(name).compute
            if compute is None:
                msg = f"{name!r} is not a metric command"
                raise UsageError(msg, param="command")
            # band segments listed by their lower edge, not as text
            self._cache[name] = order_bands(
                compute(self), self.by, list(self.bands), self.config.bands
            )
        return self._cache[name]

    def result(self, command: str) -> Result:
        """The :class:`Result` of one metric command."""
        o, cal, led = self.opts, self.ledger.calendar, self.ledger
        spec = command_spec(command)
        frame = self.frame(command)
        keys, notes = spec.frame_keys(self, frame)
        frame = _filter_periods(frame, cal, o)  # for cohorts: by acquisition period
        if spec.narrow_keys is not None:
            keys = spec.narrow_keys(frame, keys)
        notes += null_notes(frame, keys, self.by)
        warnings = [*self.loaded.warnings, *led.warnings]
        if o.as_of:
            day = cal.resolve(o.as_of, param="as_of")[1]
            if day < cal.month_end(led.last_period):
                warnings.append(
                    f"as of {day}: {cal.label(led.last_period, Grain.month)} counts only what "
                    "was known by that day"
                )
        if spec.extras is not None:
            more_warnings, more_notes = spec.extras(self)
            warnings += more_warnings
            notes += more_notes
        labels = frame["period"].to_list()
        last_label = cal.label(led.last_period, Grain.month)
        if cal.grain_last(led.last_period, o.grain) != led.last_period:
            period = cal.label(cal.grain_last(led.last_period, o.grain), o.grain)
            if period in labels or spec.rows_are_cohorts:
                warnings.append(
                    f"{period} is incomplete: the data ends with fiscal month {last_label}, "
                    "so its figures are as of that month"
                )
        first = cal.label(cal.grain_last(led.first_period, o.grain), o.grain)
        if led.opening_balance and first in labels and spec.opening_balance:
            warnings.append(spec.opening_balance.format(first=first))
        return Result(
            command=command,
            title=spec.title,
            frame=frame,
            keys=keys,
            by=tuple(self.by),
            input=self.input,
            options=self.options(command),
            definitions=definitions(self.config, o, command),
            caption=_caption(spec, self.config, o),
            warnings=tuple(warnings),
            notes=tuple(notes),
            currency=self.config.display_currency,
        )

    @property
    def input(self) -> dict[str, Any]:
        src = self.loaded.source
        return {
            "path": src.path,
            "sha256": src.sha256,
            "rows_read": src.rows_read,
            "rows_used": self.loaded.rows_used,
            "rows_skipped": self.loaded.skipped,
            "shape": self.loaded.shape.value,
            **self.loaded.accounting(),
        }

    def options(self, command: str) -> dict[str, Any]:
        o = self.opts
        out: dict[str, Any] = {
            "grain": o.grain.value,
            "window": o.window,
            "method": o.method.value,
            "bridge": o.bridge.value,
            "by": self.by,
            "from": o.date_from,
            "to": o.date_to,
            "as_of": o.as_of,
            "fiscal_year": self.config.fiscal_year.model_dump(mode="json"),
            "policies": self.config.policies.model_dump(mode="json"),
        }
        if self.config.fx is not None:
            out["fx"] = self.config.fx.model_dump(mode="json")
        out.update({k: v for k, v in [("credit", o.credit), ("credits", o.credits)] if v})
        for setting in command_spec(command).settings:
            out.update(setting.options(self.config, o))
        return out


def null_notes(frame: pl.DataFrame, keys: tuple[str, ...] | list[str], by: list[str]) -> list[str]:
    """One note per (metric, reason) saying where and why the metric is null."""
    notes = []
    for key in keys:
        why = f"_why_{key}"
        if why not in frame.columns:
            continue
        where = pl.col("period")
        if by:
            seg = pl.concat_str([pl.col(d).fill_null("Total") for d in by], separator="/")
            where = (
                pl.when(pl.all_horizontal(pl.col(d).is_null() for d in by))
                .then(pl.col("period"))
                .otherwise(pl.format("{} {}", pl.col("period"), seg))
            )
        found = (
            frame.filter(pl.col(why).is_not_null())
            .select(pl.col(why).alias("why"), where.alias("where"))
            .group_by("why", maintain_order=True)
            .agg("where")
        )
        for reason, places in found.iter_rows():
            shown = ", ".join(places[:6])
            more = f" and {len(places) - 6} more" if len(places) > 6 else ""
            notes.append(f"{key} is null in {shown}{more}: {reason}")
    return notes


def compute(
    command: str, loaded: Loaded, config: Config, opts: RunOptions, *, release_input: bool = False
) -> Result:
    """Run one metric command on loaded data.

    ``command`` is ``nrr``, ``bridge``, ``churn``, ``mix``, ``cohorts`` or
    ``economics``. ``release_input`` empties ``loaded.frame`` once the ledger is
    built, to save memory (the CLI does; a notebook may want it kept).
    """
    if command_spec(command).compute is None:
        msg = f"unknown command {command!r}"
        raise UsageError(msg, param="command")
    if command == "nrr" and _in_parts(loaded, config, opts):
        job = _nrr_in_parts(loaded, config, opts, release_input=release_input)
        if job is not None:
            return job.result(command)
    return MetricRun(loaded, config, opts, release_input=release_input).result(command)


def compute_report(
    loaded: Loaded,
    config: Config,
    opts: RunOptions,
    *,
    sections_wanted: tuple[str, ...] = REPORT_SECTIONS,
    release_input: bool = False,
) -> Report:
    """Every metric section over one input (economics only with spend or a gross margin).

    ``sections_wanted`` leaves out the others (``check`` needs no cohort
    matrix); ``release_input`` as for :func:`compute`.
    """
    job = MetricRun(loaded, config, opts, release_input=release_input)
    job.report = True
    sections: dict[str, Result] = {}
    notes: list[str] = []
    for name in sections_wanted:
        spec = section_command(name)
        why_not = spec.skip(config, opts) if spec.skip is not None else None
        if why_not is not None:
            notes += [why_not] if why_not else []  # "": left out without a note
            continue
        sections[name] = job.result(spec.name)
    warnings = list(dict.fromkeys(w for r in sections.values() for w in r.warnings))
    return Report(
        title=COMMANDS["report"].title,
        sections=sections,
        input=job.input,
        options=job.options("report"),
        definitions=definitions(config, opts, "report"),
        warnings=tuple(warnings),
        notes=tuple(notes),
        currency=config.display_currency,
    )


def explain_result(
    loaded: Loaded,
    config: Config,
    opts: RunOptions,
    *,
    period: str,
    metric: str = "nrr",
    where: dict[str, str] | None = None,
    top: int = 20,
) -> Result:
    """``retention explain``: the accounts behind one headline figure, checked against it."""
    where = where or {}
    taken = [c for c in where if c in loaded.dimensions and name_taken(c, EXPLAIN_TAKEN)]
    if taken:
        msg = f"cannot restrict to {taken[0]!r}: explain has a column of that name"
        hint = f"rename the column {taken[0]!r} in the file (e.g. to {taken[0]}_name)"
        raise UsageError(msg, param="where", hint=hint)
    # one ledger for both: every dimension rides along in the per-account rows (but
    # one named like a column of explain's own), and the headline is split by the
    # restricting columns only
    riding = tuple(d for d in loaded.dimensions if not name_taken(d, EXPLAIN_TAKEN))
    # a computed band (acv_band, arr_stage) restricts as a file column does
    riding += tuple(d for d in where if d in COMPUTED_DIMENSIONS and d not in loaded.dimensions)
    left_out = [d for d in loaded.dimensions if d not in riding]
    # the cohort metrics read the others at the window start only: from the input, for
    # the accounts explained (carried through every account-month they were 2.5 s of
    # CPU and most of the peak on 10M rows with three dimensions)
    later = (
        [d for d in riding if d not in where]
        if _dimensions_later(loaded, config, opts, metric)
        else []
    )
    if later:  # the checks of a ledger carrying them, as that run makes them
        check_options(loaded, config, replace(opts, by=riding))
    job = MetricRun(loaded, config, replace(opts, by=tuple(d for d in riding if d not in later)))
    led, o = job.ledger, replace(job.opts, by=riding)
    frame = explain(
        led, period=period, metric=metric, grain=o.grain, window=o.window, method=o.method,
        mode=o.bridge, where=where, policies=config.policies,
    )  # fmt: skip
    p = find_period(led, o.grain, period)
    if later:
        at = dimensions_at(loaded, led.calendar, p["_last"] - o.window, later)
        keys = [c for c in frame.columns if c not in ("period", "start", "end", "account_id")]
        frame = frame.join(at, on="account_id", how="left", maintain_order="left").select(
            "period", "start", "end", "account_id", *riding, *(k for k in keys if k not in riding)
        )
    label = frame["period"][0] if frame.height else p["period"]
    split = list(where)
    if metric == "books":
        figures = books(led, owner=split[0], grain=o.grain, window=o.window, method=o.method)
    elif metric in ("nrr", "grr"):
        figures = retention(led, grain=o.grain, window=o.window, method=o.method, by=split)
    else:
        figures = bridge(led, grain=o.grain, mode=o.bridge, by=split, policies=config.policies)
    seg = pl.all_horizontal(pl.col(c) == v for c, v in where.items()) if where else pl.lit(True)
    headline = figures.filter((pl.col("period") == label) & seg)
    if where and headline.height == 0:
        raise _no_segment(led, where, label)
    notes = _reconcile(frame, headline, metric, label)
    dims = list(riding) if later else list(led.dimensions)
    keys = tuple(c for c in frame.columns if c not in ("period", "start", "end"))
    what = {"nrr": "NRR", "grr": "GRR", "bridge": "the ARR bridge",
            "churn": "period gross revenue churn", "books": "the book of business"}[metric]  # fmt: skip
    scope = ", ".join(f"{k}={v}" for k, v in where.items())
    return Result(
        command="explain",
        title=f"Accounts behind {what} for {label}" + (f" ({scope})" if scope else ""),
        frame=frame,
        keys=keys,
        by=(),
        input=job.input,
        options={
            **job.options("explain"),
            "by": [],
            "period": label,
            "metric": metric,
            "where": where,
            "top": top,
            "dimensions": dims,
        },
        definitions=definitions(config, o),
        caption=_headline_caption(metric, config, o),
        warnings=(
            *loaded.warnings,
            *led.warnings,
            *(
                f"column {d!r} is left out of the accounts: explain has a column of that name"
                for d in left_out
            ),
        ),
        notes=tuple(notes),
        currency=config.display_currency,
        table_limit=top,
    )


def _dimensions_later(loaded: Loaded, config: Config, opts: RunOptions, metric: str) -> bool:
    """Whether ``explain`` reads its accounts' dimensions from the input, not the ledger.

    See :func:`~retention_cli.metrics.explain.dimensions_at`. For the cohort metrics (their
    dimensions are as of the window start), unless the ledger's dimensions are not the
    input's own (a roll-up to parents) or its ARR is restated at dated FX rates.
    """
    return (
        metric in ("nrr", "grr", "books")
        and not opts.accounts
        and frame_parents(loaded, None) is None
        and not (config.fx is not None and config.fx.restates)
    )


def _no_segment(ledger: Ledger, where: dict[str, str], label: str) -> UsageError:
    """The error for an ``explain`` restriction that matches no account in ``label``."""
    scope = ", ".join(f"{k}={v}" for k, v in where.items())
    col = next(iter(where))
    values = ledger.frame.select(pl.col(col).drop_nulls().unique().sort().head(11)).collect()[col]
    shown = ", ".join(map(repr, values.to_list()[:10])) + (", ..." if len(values) > 10 else "")
    msg = f"no account has {scope} in {label}"
    return UsageError(msg, param="where", hint=f"{col} has the values {shown or '(none)'}")


def _headline_caption(metric: str, config: Config, opts: RunOptions) -> str:
    """The caption of the command whose headline ``explain`` checks against."""
    name = "nrr" if metric in ("nrr", "grr") else "books" if metric == "books" else "bridge"
    return _caption(COMMANDS[name], config, opts)


def _caption(spec: CommandSpec, config: Config, opts: RunOptions) -> str:
    return spec.caption(config, opts) if spec.caption is not None else ""


def _reconcile(frame: pl.DataFrame, headline: pl.DataFrame, metric: str, label: str) -> list[str]:
    """Check that the accounts add up to the headline exactly; say so in a note."""

    def fmt_money(cents: int) -> str:
        return f"{cents / 100:,.2f}"

    def fmt_ratio(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.1f}%"

    if headline.height != 1:
        msg = f"explain: no headline row for {label}"
        raise RuntimeError(msg)
    h = headline.row(0, named=True)
    got: tuple[int, ...]
    if metric in ("nrr", "grr"):
        num, den = int(frame["numerator_arr"].sum()), int(frame["denominator_arr"].sum())
        want = (
            h["_cohort_end_arr"] if metric == "nrr" else h["_cohort_min_arr"],
            h["cohort_start_arr"],
        )
        got = (num, den)
        ratio = num / den if den else None
        text = (f"{frame.height:,} cohort accounts add up to {metric.upper()} = "
                f"{fmt_money(num)} / {fmt_money(den)} = {fmt_ratio(ratio)}")  # fmt: skip
    elif metric == "books":
        sums = ("numerator_arr", "denominator_arr", "reassigned_in_arr", "reassigned_out_arr")
        got = tuple(int(frame[k].sum()) for k in sums)
        want = (h["_cohort_end_arr"], h["cohort_start_arr"], h["reassigned_in_arr"],
                h["reassigned_out_arr"])  # fmt: skip
        ratio = got[0] / got[1] if got[1] else None
        text = (f"{frame.height:,} accounts add up to the book's NRR = {fmt_money(got[0])} / "
                f"{fmt_money(got[1])} = {fmt_ratio(ratio)}, reassigned in "
                f"{fmt_money(got[2])}, out {fmt_money(got[3])}")  # fmt: skip
    elif metric == "churn":
        num, den = int(frame["numerator_arr"].sum()), int(frame["denominator_arr"].sum())
        want = (h["contraction_arr"] + h["churned_arr"], h["start_arr"])
        got = (num, den)
        ratio = num / den if den else None
        text = (f"{frame.height:,} accounts add up to period gross revenue churn = "
                f"{fmt_money(num)} / {fmt_money(den)} = {fmt_ratio(ratio)}")  # fmt: skip
    else:
        cols = [k for k in (*BRIDGE_KEYS, *TRANSFER_KEYS) if k.endswith("_arr") and k in frame]
        got = tuple(int(frame[k].sum()) for k in cols)
        want = tuple(h[k] for k in cols)
        text = (f"{frame.height:,} accounts add up to the bridge: start {fmt_money(got[0])}, "
                f"end {fmt_money(got[cols.index('end_arr')])}")  # fmt: skip
    if got != want:
        msg = f"explain: the accounts add up to {got}, the headline is {want}"
        raise RuntimeError(msg)
    return [f"{text}, exactly the headline figure"]


def grace_ledger(led: Ledger, loaded: Loaded, config: Config, opts: RunOptions) -> Ledger:
    """The ledger of ``loaded`` under ``config`` (another ``churn_grace``), from ``led``.

    ``led`` was built without grace: when its ARR is the input's own (no dated FX
    restatement, no roll-up to parents, no ARR band among the dimensions), bridging
    its gaps is what a fresh build under ``config`` does, at a fraction of the cost
    (the gaps are bridged on the same dense frame); otherwise it is a fresh build.
    """
    grace = config.policies.churn_grace
    bands = [d for d in opts.by if d in COMPUTED_DIMENSIONS and d not in loaded.dimensions]
    if (
        grace
        and not led.policies.churn_grace
        and led.fx is None
        and not bands
        and not opts.accounts
        and frame_parents(loaded, None) is None
    ):
        frame, _ = bridge_gaps(led.frame.rename({"arr": "value"}), grace)
        bridged = frame.rename({"value": "arr"}).collect()
        return replace(led, frame=bridged.lazy(), policies=config.policies)
    return prepare(loaded, config, opts)


def variants_result(loaded: Loaded, config: Config, opts: RunOptions) -> Result:
    """``nrr --variants``: NRR and GRR under each documented definition, side by side.

    Rows per period (the latest unless ``--from``/``--to``) and variant: as
    configured, the other method, returns excluded, and another churn grace;
    ``nrr_change``/``grr_change`` are the differences from the configured
    figures (fractions: 0.012 = 1.2 percentage points).
    """
    job = MetricRun(loaded, config, opts)
    led, by, o = job.ledger, list(opts.by), opts
    other = Method.bridge if o.method is Method.cohort else Method.cohort
    grace = config.policies.churn_grace
    alt_grace = 0 if grace else 1
    alt_config = config.model_copy(
        update={"policies": config.policies.model_copy(update={"churn_grace": alt_grace})}
    )
    alt_ledger = grace_ledger(led, loaded, alt_config, opts)
    base: dict[str, Any] = {"grain": o.grain, "window": o.window, "by": by}
    how = {
        Method.cohort: "compares each cohort account's end ARR with its start: a cut won back "
        "inside the window does not lower GRR",
        Method.bridge: "sums the cohort's monthly movements: a cut won back inside the window "
        "still lowers GRR (NRR is the same)",
    }
    variants = [
        ("as configured", retention(led, method=o.method, **base),
         f"{o.method.value} method, {config.policies.describe()}"),
        (f"{other.value} method", retention(led, method=other, **base), how[other]),
        ("returns excluded", retention(led, method=Method.cohort, count_returns=False, **base),
         "a cohort account at zero ARR at any month end in the window counts as lost, "
         "even if it came back"),
        (f"churn_grace {alt_grace}", retention(alt_ledger, method=o.method, **base),
         f"churn_grace {alt_grace}: " + ("every month at zero ARR is churn" if alt_grace == 0
          else "one month at zero ARR, then back, is not churn")),
    ]  # fmt: skip
    keys = ["period", "start", "end", *by]
    first = variants[0][1].select(*keys, pl.col("nrr").alias("_n0"), pl.col("grr").alias("_g0"))
    parts = []
    for rank, (name, frame, what) in enumerate(variants):
        parts.append(
            frame.select(*keys, "nrr", "grr")
            .join(first.drop("start", "end"), on=["period", *by], how="left", nulls_equal=True)
            .with_columns(
                variant=pl.lit(name),
                what=pl.lit(what),
                nrr_change=pl.col("nrr") - pl.col("_n0"),
                grr_change=pl.col("grr") - pl.col("_g0"),
                _rank=pl.lit(rank),
            )
            .with_row_index("_row")
        )
    frame = pl.concat(parts).sort("_row", "_rank").drop("_row", "_rank", "_n0", "_g0")
    frame = _filter_periods(frame, led.calendar, o)
    if not (o.date_from or o.date_to):
        frame = frame.filter(pl.col("period") == frame["period"][-1])
    spec = COMMANDS["variants"]
    frame = frame.select(*keys, *spec.keys)
    return Result(
        command="variants",
        title=spec.title,
        frame=frame,
        keys=spec.keys,
        by=tuple(by),
        input=job.input,
        options={**job.options("nrr"), "variants": True},
        definitions=definitions(config, o),
        caption=_caption(spec, config, o),
        warnings=(*loaded.warnings, *led.warnings),
        currency=config.display_currency,
    )


def calendar_result(config: Config, year: str, grain: Grain = Grain.month) -> Result:
    """``retention calendar``: the fiscal periods of one year with their dates (SPEC §6)."""
    try:
        frame = fiscal_year_table(FiscalCalendar(config.fiscal_year), year, grain)
    except (OverflowError, ValueError) as exc:  # a year the calendar cannot reach
        msg = f"{year!r} is outside the dates this calendar can show ({exc})"
        raise UsageError(msg, param="year", hint="use a fiscal year such as FY2027") from None
    fy = frame["fiscal_year"][0]
    spec = COMMANDS["calendar"]
    return Result(
        command="calendar",
        title=f"{spec.title} {fy}",
        frame=frame,
        keys=spec.keys if grain is not Grain.year else ("fiscal_year", "days"),
        by=(),
        input=None,
        options={
            "year": fy,
            "grain": grain.value,
            "fiscal_year": config.fiscal_year.model_dump(mode="json"),
        },
        definitions={"calendar": config.fiscal_year.model_dump(mode="json")},
        caption=_caption(spec, config, RunOptions(grain=grain)),
    )


def benchmarks_result(source: str | None = None) -> Result:
    """``retention benchmarks``: the bundled published medians, each with its citation."""
    from retention_cli.benchmarks import listing

    spec = COMMANDS["benchmarks"]
    frame = listing(source)
    return Result(
        command="benchmarks",
        title=spec.title,
        frame=frame,
        keys=spec.keys,
        by=(),
        input=None,
        options={"source": source},
        definitions={},
        caption="medians as published (1.02 = 102%) · a band includes its lower edge · JSON and "
        "CSV carry each row's sample, publication, URL and the quote it was read from",
        head=(),
        rows_key="benchmarks",
    )


def run(command: str, path: str, config: Config, opts: RunOptions) -> Result | Report:
    """Load ``path`` and run ``command`` (or ``report``) on it.

    Examples
    --------
    >>> from retention_cli import Config, RunOptions, run
    >>> opts = RunOptions(date_from="2026-01")
    >>> result = run("nrr", "examples/tiny_movements.csv", Config(), opts)
    >>> result.title
    'Net and gross revenue retention'
    >>> result.frame.select("period", "nrr", "grr").rows()
    [('2026-01', 0.8444444444444444, 0.7333333333333333)]
    """
    loaded = load_input(path, config, opts, dimensions=needed_dimensions(command, opts))
    return run_loaded(command, loaded, config, opts)


def run_loaded(
    command: str,
    loaded: Loaded,
    config: Config,
    opts: RunOptions,
    *,
    release_input: bool = False,
) -> Result | Report:
    """Run ``command`` (or ``report``) on already loaded data.

    ``release_input`` as for :func:`compute`.
    """
    spec = command_spec(command)
    if spec.report:
        return compute_report(loaded, config, opts, release_input=release_input)
    if spec.view is not None:
        return spec.view(loaded, config, opts)
    return compute(command, loaded, config, opts, release_input=release_input)


__all__ = [
    "RunOptions",
    "benchmarks_result",
    "calendar_result",
    "compute",
    "compute_report",
    "definitions",
    "explain_result",
    "ledger_from_frame",
    "load_input",
    "needed_dimensions",
    "run",
    "run_loaded",
    "variants_result",
]
