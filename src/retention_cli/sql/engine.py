"""Running the SQL where the data is: engine URIs, connections, masked credentials.

``duckdb:///path/to/file.duckdb`` runs in-process with the ``duckdb`` package;
``postgresql://user:password@host:port/db`` runs through ADBC or connectorx
(``pip install 'retention-cli[warehouse]'``). Only month-level integer rows come
back. A password never appears in a message: :func:`mask` replaces it.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit, urlunsplit

import polars as pl

from retention_cli.errors import UsageError

SCHEMES = ("duckdb", "postgresql", "postgres")
"""The engine URI schemes ``--engine`` accepts."""


def mask(uri: str) -> str:
    """``uri`` with its password (if any) shown as ``***``."""
    try:
        parts = urlsplit(uri)
        if parts.password is None:
            return uri
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return "<an engine URI that cannot be parsed>"


def _scrub(text: str, uri: str) -> str:
    """``text`` with the URI and its password masked wherever they appear."""
    out = text.replace(uri, mask(uri))
    try:
        password = urlsplit(uri).password
    except ValueError:
        password = None
    if password:
        out = out.replace(password, "***")
    return out


def scheme(uri: str) -> str:
    """The engine of ``uri`` (``duckdb`` or ``postgresql``); a :class:`UsageError`
    naming the accepted schemes otherwise."""
    head = uri.split("://", 1)[0].lower() if "://" in uri else ""
    if head not in SCHEMES:
        msg = f"{mask(uri)!r} is not an engine URI this version runs"
        hint = "use duckdb:///path/to/file.duckdb or postgresql://user@host:5432/db"
        raise UsageError(msg, param="engine", hint=hint)
    return "postgresql" if head == "postgres" else head


def query(uri: str, sql: str) -> pl.DataFrame:
    """Run ``sql`` on the engine of ``uri``; the rows as a DataFrame (integers as Int64,
    dates as Date). Every failure is a :class:`UsageError` with the URI masked."""
    kind = scheme(uri)
    try:
        if kind == "duckdb":
            return _duckdb(uri, sql)
        return _postgres(uri, sql)
    except UsageError:
        raise
    except Exception as exc:  # a driver's own error: say what failed, never the password
        msg = f"the query failed on {mask(uri)}: {_scrub(str(exc).strip(), uri)}"
        raise UsageError(msg, param="engine") from None


def _duckdb(uri: str, sql: str) -> pl.DataFrame:
    try:
        import duckdb
    except ImportError:
        msg = "a duckdb:// engine needs the duckdb package"
        raise UsageError(msg, param="engine", hint="pip install duckdb") from None
    path = uri.split("://", 1)[1] or ":memory:"
    with duckdb.connect(path, read_only=path != ":memory:") as con:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    return _frame(names, rows)


def _postgres(uri: str, sql: str) -> pl.DataFrame:
    from retention_cli.sql import transpile

    sql = transpile(sql, "postgres")  # the sources are DuckDB's dialect
    for engine in ("adbc", "connectorx"):
        try:
            return pl.read_database_uri(sql, uri, engine=engine)  # type: ignore[arg-type]
        except ImportError:  # this driver is not installed: try the next
            continue
    msg = "a postgresql:// engine needs an ADBC or connectorx driver"
    raise UsageError(msg, param="engine", hint="pip install 'retention-cli[warehouse]'")


def _frame(names: list[str], rows: list[tuple[object, ...]]) -> pl.DataFrame:
    """Rows as a DataFrame: integer columns Int64, date columns Date."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    data = {}
    for name, values in zip(names, columns, strict=True):
        if any(isinstance(v, str) for v in values):
            data[name] = pl.Series(name, values, dtype=pl.String)
        elif any(isinstance(v, dt.date) for v in values):
            data[name] = pl.Series(name, values, dtype=pl.Date)
        else:
            data[name] = pl.Series(
                name, [None if v is None else int(v) for v in values], dtype=pl.Int64
            )  # type: ignore[call-overload]
    return pl.DataFrame(data) if data else pl.DataFrame()
