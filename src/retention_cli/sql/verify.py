"""``retention verify``: the SQL path against the Polars core on a sample of accounts.

Every metric's numbers are sums over accounts, so both paths run on the same hash
sample of accounts (an account is in the sample when the first 8 bytes of the SHA-256
of its id, mod 10,000, fall below the sample's share) and must agree exactly: every
integer sum of the bridge and of retention, per fiscal month. A difference is shown
to the cent with the sampled accounts that hold ARR in that month.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import polars as pl

from retention_cli.config import Config
from retention_cli.errors import UsageError
from retention_cli.inputs import load_frame
from retention_cli.inputs.rules import Rules
from retention_cli.service import RunOptions, compute
from retention_cli.sql import SHAPE_COLUMNS, Source, quote_name, quote_table, sql_literal
from retention_cli.sql.engine import query
from retention_cli.sql.run import EngineRun, check_options, detect_source

COMPARED = {
    "bridge": (
        "start_arr", "new_arr", "reactivation_arr", "expansion_arr", "contraction_arr",
        "churned_arr", "end_arr", "start_logos", "new_logos", "reactivated_logos",
        "churned_logos", "end_logos",
    ),
    "nrr": ("cohort_logos", "cohort_start_arr", "_cohort_end_arr", "_cohort_min_arr", "_retained_logos"),
}  # fmt: skip
"""The integer columns compared per command (every ratio is made from them)."""

BUCKETS = 10_000


def parse_share(text: str) -> float:
    """``2%`` or ``0.02`` as a fraction in (0, 1]; a :class:`UsageError` otherwise."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        msg = f"{text!r} is not a sample share: give a percentage such as 2% (or 0.02)"
        raise UsageError(msg, param="sample")
    return value


def in_sample(account: str, share: float) -> bool:
    """Whether ``account`` is in a hash sample of ``share`` of the accounts (stable
    across runs and engines: it depends on the id only)."""
    digest = hashlib.sha256(account.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS < round(share * BUCKETS)


@dataclass
class Verification:
    """What ``verify`` compared and what differed."""

    accounts: int
    sampled: list[str]
    compared: int = 0
    differences: list[dict[str, object]] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        """True when every compared number agreed."""
        return not self.differences


def _sample_rows(uri: str, source: Source, accounts: list[str]) -> pl.DataFrame:
    cols = SHAPE_COLUMNS[source.shape]
    picks = ", ".join(
        f"CAST({quote_name(source.column(c))} AS VARCHAR) AS {quote_name(c)}" for c in cols
    )
    account = quote_name(source.column("account_id"))
    listed = ", ".join(sql_literal(a) for a in accounts)
    sql = (
        f"SELECT {picks} FROM {quote_table(source.table)} "
        f"WHERE TRIM(CAST({account} AS VARCHAR)) IN ({listed})"
    )
    rows = query(uri, sql)
    return rows.select(pl.col(c).cast(pl.String) for c in cols)


def verify(uri: str, table: str, config: Config, opts: RunOptions, share: float) -> Verification:
    """Both paths on a hash sample of ``share`` of the table's accounts; the differences."""
    check_options("churn", config, opts)
    source = detect_source(uri, table, opts.shape, {**config.columns, **opts.columns})
    account = quote_name(source.column("account_id"))
    ids = query(
        uri, f"SELECT DISTINCT TRIM(CAST({account} AS VARCHAR)) AS a FROM {quote_table(table)}"
    )
    names = [a for a in ids.get_column(ids.columns[0]).to_list() if a]
    sampled = sorted(a for a in names if in_sample(a, share))
    out = Verification(accounts=len(names), sampled=sampled)
    if not sampled:
        return out
    data = _sample_rows(uri, source, sampled)
    loaded = load_frame(data, shape=source.shape, name=f"{table} (sample)", rules=Rules.of(config))
    engine = EngineRun(uri, source, config, opts, "churn", accounts=sampled)
    ledger = None
    for command, keys in COMPARED.items():
        local = compute(command, loaded, config, opts).frame
        remote = engine.frame(command)
        joined = local.select("period", *keys).join(
            remote.select("period", *keys), on="period", how="full", suffix="_sql", coalesce=True
        )
        for row in joined.iter_rows(named=True):
            for k in keys:
                out.compared += 1
                a, b = row.get(k), row.get(f"{k}_sql")
                if a != b:
                    if ledger is None:
                        from retention_cli.calendar import FiscalCalendar
                        from retention_cli.ledger import build_ledger

                        ledger = build_ledger(
                            loaded, FiscalCalendar(config.fiscal_year), config=config
                        )
                    out.differences.append(
                        {"command": command, "period": row["period"], "key": k.lstrip("_"),
                         "local": a, "sql": b, "accounts": _behind(ledger, row["period"])}
                    )  # fmt: skip
    return out


def _behind(ledger: object, period: str, limit: int = 10) -> list[str]:
    """The sampled accounts with ARR at the end of ``period`` or the month before."""
    from retention_cli.ledger import Ledger
    from retention_cli.options import Grain

    assert isinstance(ledger, Ledger)
    cal = ledger.calendar
    months = [
        p
        for p in range(ledger.first_period, ledger.last_period + 1)
        if cal.label(p, Grain.month) == period
    ]
    if not months or ledger.accounts is None:
        return []
    p = months[0]
    codes = (
        ledger.frame.filter(pl.col("period").is_in([p - 1, p]) & (pl.col("arr") > 0))
        .select("account_id")
        .unique()
        .collect()
    )
    names = codes.join(ledger.accounts, on="account_id").get_column("account").sort().to_list()
    return names[:limit]


__all__ = ["COMPARED", "Verification", "in_sample", "parse_share", "verify"]
