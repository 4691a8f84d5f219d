"""Running the SQL where the data is: engine URIs, connections, masked credentials.

============================================  =====================  ===============================
URI                                           runs through           install
============================================  =====================  ===============================
``duckdb:///path/to/file.duckdb``             the ``duckdb`` package ``pip install duckdb``
``postgresql://user:pw@host:5432/db``         ADBC or connectorx     ``retention-cli[warehouse]``
``snowflake://user:pw@account/db/schema?…``   ADBC (Snowflake)       ``retention-cli[snowflake]``
``bigquery://project[/dataset][?credentials=  ADBC (BigQuery)        ``retention-cli[bigquery]``
key.json&location=EU]``
``sc://host:15002[/;token=…]``                Spark Connect          ``retention-cli[spark-connect]``
============================================  =====================  ===============================

The sources are DuckDB's dialect; every other engine gets them transpiled by
:func:`retention_cli.sql.transpile` (strict). Only month-level integer rows come back,
with their column names lower-cased (Snowflake upper-cases unquoted names). A
credential never appears in a message: :func:`mask` replaces the password and every
secret-looking parameter (``password``, ``token``, ``secret``, ``private_key``,
``credentials`` …) with ``***``, and :func:`query` scrubs a driver's own error text
the same way. Snowflake, BigQuery and Spark Connect are dispatched and tested with
fake drivers only: they are untested against live services.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import NoReturn
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import polars as pl

from retention_cli.errors import UsageError

SCHEMES = ("duckdb", "postgresql", "postgres", "snowflake", "bigquery", "sc")
"""The engine URI schemes ``--engine`` accepts."""

DIALECT = {
    "duckdb": "duckdb",
    "postgresql": "postgres",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "sc": "spark",
}
"""The SQL dialect each engine is sent."""

EXTRA = {
    "postgresql": "warehouse",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "sc": "spark-connect",
}
"""The optional extra (``pip install 'retention-cli[EXTRA]'``) holding each engine's driver."""

_SECRET = re.compile(
    r"(?i)([?&;/]\s*[^=?&;/]*(?:pass|secret|token|key|credential|auth)[^=?&;/]*=)([^&;]*)"
)


def mask(uri: str) -> str:
    """``uri`` with its password and secret-looking parameters (if any) shown as ``***``."""
    try:
        parts = urlsplit(uri)
        out = uri
        if parts.password is not None:
            host = parts.hostname or ""
            netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
            out = urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return "<an engine URI that cannot be parsed>"
    return _SECRET.sub(r"\1***", out)


def secrets(uri: str) -> list[str]:
    """The credentials written in ``uri``: its password and the values of its
    secret-looking parameters, as written and URL-decoded (the longest first)."""
    found = [m.group(2) for m in _SECRET.finditer(uri) if m.group(2)]
    try:
        password = urlsplit(uri).password
    except ValueError:
        password = None
    if password:
        found.append(password)
    found += [unquote(s) for s in found]
    return sorted({s for s in found if s.strip()}, key=len, reverse=True)


def _scrub(text: str, uri: str) -> str:
    """``text`` with the URI and every credential in it masked wherever they appear."""
    out = text.replace(uri, mask(uri))
    for secret in secrets(uri):
        out = out.replace(secret, "***")
    return out


def scheme(uri: str) -> str:
    """The engine of ``uri`` (a key of :data:`DIALECT`); a :class:`UsageError` naming
    the accepted schemes otherwise."""
    head = uri.split("://", 1)[0].lower() if "://" in uri else ""
    if head not in SCHEMES:
        msg = f"{mask(uri)!r} is not an engine URI this version runs"
        hint = (
            "use duckdb:///path/to/file.duckdb, postgresql://user@host:5432/db, "
            "snowflake://user@account/db/schema, bigquery://project/dataset or sc://host:15002"
        )
        raise UsageError(msg, param="engine", hint=hint)
    return "postgresql" if head == "postgres" else head


def dialect(uri: str) -> str:
    """The SQL dialect the engine of ``uri`` is sent."""
    return DIALECT[scheme(uri)]


def location(uri: str) -> str:
    """Where the data is, without any credential or parameter: the engine kind, the
    host and port (or the DuckDB file) and the path (database, schema, dataset)."""
    kind = scheme(uri)
    if kind == "duckdb":
        return f"duckdb:{uri.split('://', 1)[1] or ':memory:'}"
    parts = urlsplit(uri)
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    path = parts.path.split(";", 1)[0].rstrip("/")
    return f"{kind}://{host}{path}"


def query(uri: str, sql: str, *, raw_names: bool = False) -> pl.DataFrame:
    """Run ``sql`` (DuckDB's dialect) on the engine of ``uri``; the rows as a DataFrame
    (integers as Int64, dates as Date, column names lower-cased unless ``raw_names``).
    Every failure is a :class:`UsageError` with the credentials masked."""
    kind = scheme(uri)
    run = _RUNNERS[kind]
    try:
        if kind != "duckdb":
            from retention_cli.sql import transpile

            sql = transpile(sql, DIALECT[kind])
        frame = run(uri, sql)
    except UsageError:  # ours: the URI in it is masked already
        raise
    except Exception as exc:  # a driver's own error: say what failed, never a credential
        msg = f"the query failed on {mask(uri)}: {_scrub(str(exc).strip(), uri)}"
        raise UsageError(msg, param="engine") from None
    return frame if raw_names else frame.rename(str.lower)


PACKAGE = {
    "snowflake": "adbc-driver-snowflake",
    "bigquery": "adbc-driver-bigquery",
    "sc": "pyspark-client",
}
"""The driver package behind each engine that needs one of its own."""


def _missing(kind: str) -> NoReturn:
    """Stop: the driver of ``kind`` is not installed (the message names the extra)."""
    msg = f"a {kind}:// engine needs the {PACKAGE[kind]} package, which is not installed"
    hint = f"pip install 'retention-cli[{EXTRA[kind]}]'"
    raise UsageError(msg, param="engine", hint=hint) from None


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
    for engine in ("adbc", "connectorx"):
        try:
            return pl.read_database_uri(sql, uri, engine=engine)  # type: ignore[arg-type]
        except ImportError:  # this driver is not installed: try the next
            continue
    msg = "a postgresql:// engine needs an ADBC or connectorx driver"
    raise UsageError(msg, param="engine", hint="pip install 'retention-cli[warehouse]'")


def _dbapi(connection: object, sql: str) -> pl.DataFrame:
    """Run ``sql`` on a DB-API connection (ADBC's); close it."""
    try:
        cur = connection.cursor()  # type: ignore[attr-defined]
        try:
            cur.execute(sql)
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        finally:
            cur.close()
    finally:
        connection.close()  # type: ignore[attr-defined]
    return _frame(names, [tuple(r) for r in rows])


def _snowflake(uri: str, sql: str) -> pl.DataFrame:
    try:
        from adbc_driver_snowflake import dbapi
    except ImportError:
        _missing("snowflake")
    return _dbapi(dbapi.connect(uri), sql)


BIGQUERY_OPTIONS = {
    "credentials": "adbc.bigquery.sql.auth_credentials",
    "location": "adbc.bigquery.sql.location",
}
"""The ``bigquery://`` URI parameters, as ADBC BigQuery database options."""


def bigquery_options(uri: str) -> dict[str, str]:
    """The ADBC BigQuery database options of ``bigquery://PROJECT[/DATASET][?credentials=
    KEY.json&location=EU]``: the project, the default dataset, and with ``credentials`` a
    service-account JSON key file (else the machine's application-default login)."""
    parts = urlsplit(uri)
    project = parts.hostname or ""
    if not project:
        msg = f"{mask(uri)!r} names no project: use bigquery://PROJECT[/DATASET]"
        raise UsageError(msg, param="engine")
    out = {
        "adbc.bigquery.sql.project_id": project,
        "adbc.bigquery.sql.query.default_project_id": project,
    }
    dataset = parts.path.strip("/")
    if dataset:
        out["adbc.bigquery.sql.query.default_dataset_id"] = dataset
    for key, value in parse_qsl(parts.query):
        if key not in BIGQUERY_OPTIONS:
            msg = f"bigquery:// takes the parameters {', '.join(BIGQUERY_OPTIONS)}, not {key!r}"
            raise UsageError(msg, param="engine")
        out[BIGQUERY_OPTIONS[key]] = value
    if "credentials" in dict(parse_qsl(parts.query)):
        out["adbc.bigquery.sql.auth_type"] = "adbc.bigquery.sql.auth_type.json_credential_file"
    return out


def _bigquery(uri: str, sql: str) -> pl.DataFrame:
    options = bigquery_options(uri)
    try:
        from adbc_driver_bigquery import dbapi
    except ImportError:
        _missing("bigquery")
    return _dbapi(dbapi.connect(db_kwargs=options), sql)


def _spark_connect(uri: str, sql: str) -> pl.DataFrame:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        _missing("sc")
    spark = SparkSession.builder.remote(uri).getOrCreate()
    frame = spark.sql(sql)
    names = list(frame.columns)
    return _frame(names, [tuple(r) for r in frame.collect()])


_RUNNERS: dict[str, Callable[[str, str], pl.DataFrame]] = {
    "duckdb": _duckdb,
    "postgresql": _postgres,
    "snowflake": _snowflake,
    "bigquery": _bigquery,
    "sc": _spark_connect,
}


def _frame(names: list[str], rows: list[tuple[object, ...]]) -> pl.DataFrame:
    """Rows as a DataFrame: integer columns Int64, date columns Date."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    data = {}
    for name, values in zip(names, columns, strict=True):
        if any(isinstance(v, str) for v in values):
            data[name] = pl.Series(name, values, dtype=pl.String)
        elif any(isinstance(v, dt.date) for v in values):
            data[name] = pl.Series(
                name,
                [v.date() if isinstance(v, dt.datetime) else v for v in values],
                dtype=pl.Date,
            )
        else:
            data[name] = pl.Series(
                name, [None if v is None else int(v) for v in values], dtype=pl.Int64
            )  # type: ignore[call-overload]
    return pl.DataFrame(data) if data else pl.DataFrame()
