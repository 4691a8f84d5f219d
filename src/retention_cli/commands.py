"""Commands as data: one :class:`CommandSpec` per command that renders a table.

A spec says what a command is called, which frame it computes from a run and
how, which keys it shows, its caption, its own entries in ``definitions`` and
``options``, and how the terminal shows it (first column, movement bars, heat
map, trend lines). ``service`` and ``render`` look a command up in
:data:`COMMANDS` instead of testing its name: adding a command is one spec here
plus its metric function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from retention_cli.benchmarks import LISTING_KEYS as BENCHMARK_LISTING
from retention_cli.benchmarks import PEER_KEYS, peer_caption, with_peers
from retention_cli.errors import UsageError
from retention_cli.keys import Kind
from retention_cli.metrics import BRIDGE_KEYS, CHURN_KEYS, RETENTION_KEYS, reporting_periods
from retention_cli.metrics import bridge as bridge_frame
from retention_cli.metrics import churn as churn_frame
from retention_cli.metrics import retention as retention_frame
from retention_cli.metrics.books import BOOK_KEYS
from retention_cli.metrics.books import books as books_frame
from retention_cli.metrics.bridge import bridge_keys
from retention_cli.metrics.cohorts import COHORT_SIZE_KEYS, cohorts
from retention_cli.metrics.credit import CREDIT_KEYS, credit_split
from retention_cli.metrics.distribution import DISTRIBUTION_KEYS, distribution
from retention_cli.metrics.economics import CONTEXT_KEYS, available, economics_from
from retention_cli.metrics.frames import order_rows
from retention_cli.metrics.mix import MIX_KEYS, acquired, acquired_from, concentration, mix_from
from retention_cli.metrics.transfers import TRANSFER_KEYS
from retention_cli.spend import SPEND_COLUMNS, spend_by_period

if TYPE_CHECKING:
    import polars as pl

    from retention_cli.config import Config
    from retention_cli.ledger import Ledger
    from retention_cli.service import RunOptions


class Run(Protocol):
    """What a compute function gets: one input under one set of options."""

    ledger: Ledger
    config: Config
    opts: RunOptions
    by: list[str]
    report: bool
    """Whether the run makes ``retention report`` (whose mix section stays the mix)."""

    def frame(self, name: str) -> pl.DataFrame:
        """The frame of command ``name`` (computed once per run)."""
        ...


@dataclass(frozen=True)
class Setting:
    """A command-specific setting: its entry in ``definitions`` and in ``options``."""

    definitions: Callable[[Config, RunOptions], dict[str, Any]]
    options: Callable[[Config, RunOptions], dict[str, Any]]


COHORT_METRIC = Setting(
    definitions=lambda c, o: {"cohort_metric": o.cohort_metric.value},
    options=lambda c, o: {"metric": o.cohort_metric.value},
)
ECONOMICS = Setting(
    definitions=lambda c, o: {"economics": c.economics.model_dump(mode="json")},
    options=lambda c, o: {
        "spend": (
            {"path": o.spend.source.path, "sha256": o.spend.source.sha256}
            if o.spend is not None
            else None
        ),
        "economics": c.economics.model_dump(mode="json"),
    },
)

BENCHMARK = Setting(  # peers are context, not a definition of the figures: options only
    definitions=lambda c, o: {},
    options=lambda c, o: {"benchmark": o.benchmark} if o.benchmark else {},
)
DISTRIBUTION = Setting(
    definitions=lambda c, o: {"distribution": c.distribution.model_dump(mode="json")},
    options=lambda c, o: {"distribution": True},
)

Keys = tuple[str, ...]


@dataclass(frozen=True)
class CommandSpec:
    """One command: what it computes and how it is shown."""

    name: str
    title: str
    """The table title (commands with a computed title set their own)."""
    keys: Keys = ()
    """The output keys, in order (JSON and CSV show all of them)."""
    compute: Callable[[Run], pl.DataFrame] | None = None
    """The command's frame from a run (None: the command has its own function)."""
    caption: Callable[[Config, RunOptions], str] | None = None
    """The definitions line under the table."""
    settings: tuple[Setting, ...] = ()
    """Its own entries in ``definitions`` and ``options``, after the shared ones."""
    section: str | None = None
    """Its section name in ``retention report`` (None: not a report section)."""
    choose_keys: Callable[[Run, pl.DataFrame], tuple[Keys, list[str]]] | None = None
    """Keys (and notes on those left out) that depend on the data or the options."""
    narrow_keys: Callable[[pl.DataFrame, Keys], Keys] | None = None
    """Drops keys once the periods are chosen (ages no reported cohort reached)."""
    extras: Callable[[Run], tuple[list[str], list[str]]] | None = None
    """Further (warnings, notes) about the run."""
    skip: Callable[[Config, RunOptions], str | None] | None = None
    """Why the report leaves this section out (None: it is in)."""
    rows_are_cohorts: bool = False
    """Rows are acquisition cohorts, not reporting periods."""
    opening_balance: str | None = None
    """Warning when the first row is a snapshot file's opening balance (``{first}``)."""
    view: Callable[..., Any] | None = None
    """A command with its own function over loaded data (``nrr --variants``)."""
    report: bool = False
    """Every section over one input (``retention report``)."""
    # display hints
    first_column: str = "Period"
    """Header of the row-label column."""
    period_column: bool = True
    """Show the row label (explain names its period in the title instead)."""
    table_keys: Keys | None = None
    """The keys the terminal shows when fewer than ``keys``."""
    hidden: frozenset[str] = frozenset()
    """Keys left out of the terminal table (not of JSON/CSV) so it fits a screen."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Headers that differ for this command (a key that is a data column elsewhere)."""
    kinds: Mapping[str, Kind] = field(default_factory=dict)
    """Kinds that differ for this command (check's baseline is in the row metric's unit)."""
    movement_bars: bool = False
    """Gained/lost bars beside each row (bridge)."""
    heat_map: bool = False
    """Colour the heat keys (cohort ages) by value."""
    sparklines: Keys = ()
    """Ratios whose trend over the total rows follows the table."""
    bold: Callable[[dict[str, Any]], bool] | None = None
    """Rows shown bold (default: the total rows of a split)."""
    starts_at_value: Keys = ()
    """The terminal table starts at the first period where one of these keys has a
    value (unless ``--from`` is given); JSON and CSV keep every period."""

    def frame_keys(self, run: Run, frame: pl.DataFrame) -> tuple[Keys, list[str]]:
        """The keys of this run's result, and notes on keys left out."""
        if self.choose_keys is not None:
            return self.choose_keys(run, frame)
        return self.keys, []


# ----------------------------------------------------------------------------- captions
def _window(o: RunOptions) -> str:
    return f"trailing {o.window}-month window"


def _bridge_caption(c: Config, o: RunOptions) -> str:
    policy, cal = c.policies.describe(), c.fiscal_year.describe()
    return f"{o.bridge.value} bridge at {o.grain.value} grain · {policy} · {cal}"


def _nrr_caption(c: Config, o: RunOptions) -> str:
    return f"{o.method.value} method · {_window(o)} · {c.fiscal_year.describe()}" + _peer(c, o)


def _peer(c: Config, o: RunOptions) -> str:
    """The caption's peer part with ``--benchmark`` (empty without)."""
    if not o.benchmark:
        return ""
    text = " · " + peer_caption(o.benchmark, o.method.value, stage="arr_stage" in o.by)
    if c.display_currency not in (None, "$", "USD"):
        text += f" · peer bands are in US dollars, amounts here in {c.display_currency}"
    return text


def _summary_caption(c: Config, o: RunOptions) -> str:
    return (
        f"{o.bridge.value} bridge at {o.grain.value} grain · net new = from acquisition (new) + "
        "from retention (expansion + reactivation − contraction − churn) · retained per $1 new = "
        f"cohort end ARR / end ARR of accounts won in the {_window(o)} · NRR/GRR "
        f"{o.method.value} method · {c.fiscal_year.describe()}" + _peer(c, o)
    )


def _distribution_caption(c: Config, o: RunOptions) -> str:
    d = c.distribution
    return (
        f"{_window(o)} cohort · account NRR = end ARR / start ARR, percentiles by linear "
        f"interpolation · shares of cohort start ARR · {d.level:.0%} bootstrap interval "
        f"({d.resamples} resamples, seed {d.seed}) for cohorts under {d.min_accounts} accounts · "
        f"GRR compares end with start ARR (cohort method) · {c.fiscal_year.describe()}"
    )


def _churn_caption(c: Config, o: RunOptions) -> str:
    return (
        f"period rates from the {o.bridge.value} bridge · window rates: {o.method.value} "
        f"method, {_window(o)} · {c.fiscal_year.describe()}"
    )


def _mix_caption(c: Config, o: RunOptions) -> str:
    return (
        f"{o.bridge.value} bridge at {o.grain.value} grain · {c.policies.describe()} · "
        f"retained/acquired over a {_window(o)} · {c.fiscal_year.describe()}"
    )


def _books_caption(c: Config, o: RunOptions) -> str:
    return (
        f"book = the owner at the window start · {o.method.value} method · {_window(o)} · "
        "reassigned: ARR at the window start of accounts whose owner changed by its end "
        f"(never churn or expansion) · {c.fiscal_year.describe()}"
    )


COHORT_CELLS = {
    "nrr": "cohort ARR / its ARR at the end of its first period",
    "grr": "cohort ARR, each account capped at its first-period ARR, / first-period ARR",
    "logos": "cohort accounts still active / accounts acquired",
}


def _cohorts_caption(c: Config, o: RunOptions) -> str:
    what = COHORT_CELLS[o.cohort_metric.value]
    return (
        f"cells: {what} · by fiscal {o.grain.value} since acquisition · {c.fiscal_year.describe()}"
    )


def _economics_caption(c: Config, o: RunOptions) -> str:
    e = c.economics
    return (
        f"{o.bridge.value} bridge · CAC lag {e.cac_lag} period(s) · LTV capped at "
        f"{e.ltv_cap_years:g} years, annual churn from 12-month {o.method.value} GRR · "
        f"{c.fiscal_year.describe()}"
    )


def _variants_caption(c: Config, o: RunOptions) -> str:
    return (
        f"trailing {o.window}-month window · changes are from the configured definition, "
        f"in percentage points · {c.fiscal_year.describe()}"
    )


# ----------------------------------------------------------------------------- frames
def _bridge(run: Run) -> pl.DataFrame:
    o = run.opts
    return bridge_frame(
        run.ledger, grain=o.grain, mode=o.bridge, by=run.by, policies=run.config.policies
    )


def _retention(run: Run) -> pl.DataFrame:
    o = run.opts
    frame = retention_frame(run.ledger, grain=o.grain, window=o.window, method=o.method, by=run.by)
    if not o.benchmark:
        return frame
    return with_peers(frame, o.benchmark, by=run.by, stage="arr_stage" in run.by)


def _distribution(run: Run) -> pl.DataFrame:
    o, d = run.opts, run.config.distribution
    return distribution(
        run.ledger, grain=o.grain, window=o.window, by=run.by, min_accounts=d.min_accounts,
        level=d.level, resamples=d.resamples, seed=d.seed,
    )  # fmt: skip


SUMMARY_KEYS = (
    "end_arr", "net_new_arr", "acquisition_net_new_arr", "retention_net_new_arr",
    "retention_to_acquisition", "nrr", "grr",
)  # fmt: skip
"""The growth summary that opens ``retention report``."""


def _summary(run: Run) -> pl.DataFrame:
    import polars as pl

    by = run.by
    on = ["period", *by]
    bridge, mix = run.frame("bridge"), run.frame("mix")
    peers = [k for k in PEER_KEYS if k in run.frame("nrr").columns]
    whys = [c for c in run.frame("nrr").columns if c.startswith("_why_peer")]
    gained = pl.col("expansion_arr") + pl.col("reactivation_arr")
    lost = pl.col("contraction_arr") + pl.col("churned_arr")
    return (
        bridge.select(
            "period", "start", "end", *by, "end_arr",
            acquisition_net_new_arr=pl.col("new_arr"),
            retention_net_new_arr=gained - lost,
        )
        .join(mix.select(*on, "net_new_arr", "retention_to_acquisition"), on=on, how="left",
              nulls_equal=True)
        .join(run.frame("nrr").select(*on, "nrr", "grr", *peers, *whys), on=on, how="left",
              nulls_equal=True)
        .select("period", "start", "end", *by, *SUMMARY_KEYS, *peers, *whys)
    )  # fmt: skip


def _churn(run: Run) -> pl.DataFrame:
    return churn_frame(run.frame("bridge"), run.frame("nrr"), by=run.by)


def _credit(run: Run) -> pl.DataFrame:
    """Gross new ARR by credited team (``--credit``/``--credits``): company-wide, so
    with ``--by`` its rows are the total rows (segment columns empty)."""
    import polars as pl

    o, led = run.opts, run.ledger
    assert led.credits is not None
    split = credit_split(
        led, led.credits, grain=o.grain, mode=o.bridge, policies=run.config.policies
    )
    segments = [pl.lit(None, pl.String).alias(d) for d in run.by]
    return split.select("period", "start", "end", *segments, *CREDIT_KEYS)


def _mix(run: Run) -> pl.DataFrame:
    """The growth mix; ``mix --credit`` shows its split by credited team instead (the
    report keeps the mix and adds the split as its own section)."""
    if run.ledger.credits is not None and not run.report:
        return run.frame("credit")
    return _growth_mix(run)


def _growth_mix(run: Run) -> pl.DataFrame:
    o, led, by = run.opts, run.ledger, run.by
    if by:
        acq = acquired(led, grain=o.grain, window=o.window, by=by)
    else:  # the totals follow from the bridge and retention already computed
        acq = acquired_from(run.frame("bridge"), run.frame("nrr"))
    totals = None if by else run.frame("bridge")  # its end ARR: the shares' denominators
    conc = concentration(led, grain=o.grain, by=by, totals=totals)
    frame = mix_from(run.frame("bridge"), run.frame("nrr"), acq, by=by, concentration_frame=conc)
    return order_rows(frame, reporting_periods(led, o.grain), by)


def _books(run: Run) -> pl.DataFrame:
    o = run.opts
    return books_frame(run.ledger, owner=run.by[0], grain=o.grain, window=o.window, method=o.method)


def _cohorts(run: Run) -> pl.DataFrame:
    o = run.opts
    return cohorts(run.ledger, grain=o.grain, metric=o.cohort_metric, by=run.by)


def _economics(run: Run) -> pl.DataFrame:
    o, led, by = run.opts, run.ledger, run.by
    annual = (
        run.frame("nrr")
        if o.window == 12
        else retention_frame(led, grain=o.grain, window=12, method=o.method, by=by)
    )
    spend = spend_by_period(o.spend, led.calendar, o.grain, by) if o.spend is not None else None
    return economics_from(
        led, run.frame("bridge"), annual, spend, grain=o.grain, settings=run.config.economics, by=by
    )


# ----------------------------------------------------------------------------- keys
def _with_peer_keys(keys: Keys) -> Callable[[Run, pl.DataFrame], tuple[Keys, list[str]]]:
    """``keys``, then the peer keys when the run has ``--benchmark``."""

    def choose(run: Run, frame: pl.DataFrame) -> tuple[Keys, list[str]]:
        return (*keys, *PEER_KEYS) if run.opts.benchmark else keys, []

    return choose


def _cohort_keys(run: Run, frame: pl.DataFrame) -> tuple[Keys, list[str]]:
    head = ("period", "start", "end", *run.by)
    return tuple(c for c in frame.columns if c not in head), []


def _bridge_keys(run: Run, frame: pl.DataFrame) -> tuple[Keys, list[str]]:
    """With segments the bridge rolls forward through transfers (SPEC §4, §12.1); with
    dated fx it shows ``fx_impact_arr``."""
    keys = bridge_keys(run.ledger)
    return ((*keys, *TRANSFER_KEYS) if run.by else keys), []


def _mix_keys(run: Run, frame: pl.DataFrame) -> tuple[Keys, list[str]]:
    """The growth mix, or with ``--credit``/``--credits`` its split by credited team."""
    return (CREDIT_KEYS if "credit_share" in frame.columns else MIX_KEYS), []


def _no_credit(c: Config, o: RunOptions) -> str | None:
    """The report has a credit section only with ``--credit``/``--credits`` or a mapped
    ``credit`` column (no note without)."""
    return None if o.credit or o.credits or "credit" in {**c.columns, **o.columns} else ""


def _reached_ages(frame: pl.DataFrame, keys: Keys) -> Keys:
    """Ages that no reported cohort has reached get no column."""
    return tuple(k for k in keys if k in COHORT_SIZE_KEYS or frame[k].null_count() < frame.height)


def _economics_keys(run: Run, frame: pl.DataFrame) -> tuple[Keys, list[str]]:
    spend = run.opts.spend
    metrics, notes = available(spend.columns if spend else (), run.config.economics)
    inputs = [c for c in SPEND_COLUMNS if c in frame.columns]
    return (*inputs, *CONTEXT_KEYS, *metrics), notes


def _spend_remarks(run: Run) -> tuple[list[str], list[str]]:
    spend, by = run.opts.spend, run.by
    if spend is None:
        return [], []
    notes = []
    missing = [d for d in by if d not in spend.dimensions]
    if missing:
        notes.append(
            f"segment rows have no spend metrics: the spend file has no "
            f"{', '.join(map(repr, missing))} column to split the spend by"
        )
    unused = [d for d in spend.dimensions if d not in by]
    if unused:
        notes.append(
            f"spend rows are added up over {', '.join(map(repr, unused))} "
            f"(--by {unused[0]} splits by it)"
        )
    return list(spend.warnings), notes


def _no_economics(c: Config, o: RunOptions) -> str | None:
    if o.spend is None and c.economics.gross_margin is None:
        return "economics left out: no --spend file and no economics.gross_margin"
    return None


def _variants(*args: Any, **kwargs: Any) -> Any:
    from retention_cli.service import variants_result

    return variants_result(*args, **kwargs)


NO_MOVEMENTS = "{first} is the snapshot file's opening balance: it has end ARR but no movements"

# ----------------------------------------------------------------------------- the commands
_SPECS = (
    CommandSpec(
        "summary", "Growth summary", (), _summary, _summary_caption, (BENCHMARK,),
        section="summary", choose_keys=_with_peer_keys(SUMMARY_KEYS),
        opening_balance=NO_MOVEMENTS,
        labels={"retention_to_acquisition": "Retained per $1 new"},
    ),
    CommandSpec(
        "credit", "Gross new ARR by credited team", (), _credit, _mix_caption, section="credit",
        opening_balance=NO_MOVEMENTS, choose_keys=lambda run, frame: (CREDIT_KEYS, []),
        skip=_no_credit,
    ),
    CommandSpec(
        "bridge", "ARR bridge", BRIDGE_KEYS, _bridge, _bridge_caption, section="bridge",
        opening_balance=NO_MOVEMENTS, movement_bars=True, choose_keys=_bridge_keys,
    ),
    CommandSpec(
        "nrr", "Net and gross revenue retention", RETENTION_KEYS, _retention, _nrr_caption,
        (BENCHMARK,), section="retention", sparklines=("nrr", "grr"),
        choose_keys=_with_peer_keys(RETENTION_KEYS),
        table_keys=("window_start", "cohort_logos", "cohort_start_arr", "nrr", "grr",
                    "logo_retention", *PEER_KEYS),
        starts_at_value=("nrr", "grr", "logo_retention"),
    ),
    CommandSpec(
        "distribution", "NRR and GRR: account-level spread and small-cohort intervals",
        DISTRIBUTION_KEYS, _distribution, _distribution_caption, (DISTRIBUTION,),
        table_keys=("cohort_logos", "nrr", "nrr_low", "nrr_high", "grr", "grr_low", "grr_high",
                    "account_nrr_p25", "account_nrr_median", "account_nrr_p75", "grew_share",
                    "shrank_share", "left_share"),
    ),
    CommandSpec(
        "churn", "Logo and revenue churn", CHURN_KEYS, _churn, _churn_caption, section="churn",
        opening_balance=NO_MOVEMENTS,
        table_keys=("churned_logos", "churned_arr", "contraction_arr", "period_logo_churn_rate",
                    "period_gross_revenue_churn",
                    "period_net_revenue_churn", "logo_churn_rate", "gross_revenue_churn",
                    "net_revenue_churn"),
        labels={"churned_arr": "Churned ARR", "contraction_arr": "Contracted ARR"},
    ),
    CommandSpec(
        "mix", "Growth mix", MIX_KEYS, _mix, _mix_caption, section="mix",
        opening_balance=NO_MOVEMENTS, choose_keys=_mix_keys,
    ),
    CommandSpec(
        "cohorts", "Acquisition cohorts", (), _cohorts, _cohorts_caption, (COHORT_METRIC,),
        section="cohorts", choose_keys=_cohort_keys, narrow_keys=_reached_ages,
        rows_are_cohorts=True, first_column="Cohort", heat_map=True,
        opening_balance="cohort {first} is the snapshot file's opening balance: it holds every "
        "account already active then, whenever it was acquired",
    ),
    CommandSpec(
        "economics", "Unit economics", (), _economics, _economics_caption, (ECONOMICS,),
        section="economics", choose_keys=_economics_keys, extras=_spend_remarks,
        skip=_no_economics, opening_balance=NO_MOVEMENTS,
        hidden=frozenset({"customer_success", "gross_margin", "net_burn", "new_arr", "arpa"}),
    ),
    CommandSpec(
        "books", "Books of business", BOOK_KEYS, _books, _books_caption,
        labels={"cohort_logos": "Accounts", "cohort_start_arr": "Start ARR",
                "expansion_arr": "Expansion", "contraction_arr": "Contraction",
                "churned_arr": "Churn"},
        table_keys=("cohort_logos", "cohort_start_arr", "nrr", "grr", "logo_retention",
                    "expansion_arr", "contraction_arr", "churned_arr", "reassigned_in_arr",
                    "reassigned_out_arr"),
    ),
    CommandSpec(
        "report", "Retention report", settings=(COHORT_METRIC, ECONOMICS, BENCHMARK), report=True,
    ),
    CommandSpec(
        "variants", "NRR and GRR under each definition",
        ("variant", "nrr", "grr", "nrr_change", "grr_change", "what"),
        caption=_variants_caption, view=_variants,
    ),
    CommandSpec("explain", "Accounts behind a headline figure", period_column=False),
    CommandSpec(
        "benchmarks", "Bundled retention benchmarks", BENCHMARK_LISTING, period_column=False,
        labels={"source": "Source", "edition": "Edition", "dimension": "By", "band": "Band",
                "basis": "Basis", "method": "Method", "sample": "Sample",
                "publication": "Publication", "url": "URL", "source_quote": "Where it says so",
                "statistic": "Statistic", "verification": "Checked against"},
        table_keys=("source", "edition", "dimension", "band", "peer_nrr", "peer_grr", "basis",
                    "method"),
    ),
    CommandSpec(
        "calendar", "Fiscal calendar", ("fiscal_year", "quarter", "days"),
        caption=lambda c, o: c.fiscal_year.describe(),
        table_keys=("start", "end", "fiscal_year", "quarter", "days"),
    ),
    CommandSpec(
        "check", "retention check", labels={"segment": "Segment"},
        kinds={"baseline": Kind.measured, "now": Kind.measured, "change": Kind.change,
               "status": Kind.flag},
        bold=lambda row: row["status"] == "fail",
    ),
    CommandSpec(
        "validate", "Input checks",
        labels={"check": "Check", "severity": "Severity", "column": "Column", "rows": "Rows",
                "examples": "First rows"},
    ),
)  # fmt: skip

COMMANDS: Mapping[str, CommandSpec] = MappingProxyType({s.name: s for s in _SPECS})
"""Every command that renders a table, by name; metric commands in report order."""

REPORT_SECTIONS = tuple(s.section for s in _SPECS if s.section is not None)
"""The sections of ``retention report``, in order."""

METRIC_COMMANDS = tuple(s.name for s in _SPECS if s.compute is not None)
"""The commands computed from a run (``compute``)."""


def command_spec(name: str) -> CommandSpec:
    """The spec of command ``name``."""
    try:
        return COMMANDS[name]
    except KeyError:
        msg = f"unknown command {name!r} (known: {', '.join(COMMANDS)})"
        raise UsageError(msg, param="command") from None


def display_spec(name: str) -> CommandSpec:
    """The spec to show a result of command ``name`` by (a bare one if it has none)."""
    return COMMANDS.get(name) or CommandSpec(name, name)


def section_command(section: str) -> CommandSpec:
    """The command whose report section is ``section`` (``retention`` → ``nrr``)."""
    return next(s for s in _SPECS if s.section == section)


__all__ = [
    "COMMANDS",
    "METRIC_COMMANDS",
    "REPORT_SECTIONS",
    "CommandSpec",
    "Run",
    "Setting",
    "command_spec",
    "display_spec",
    "section_command",
]
