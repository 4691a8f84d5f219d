"""Spark, for real (issue 20, item 6): the transpiled Spark SQL in local mode, equal to
the Polars core to the cent.

Run by ``scripts/check-spark.sh`` (which installs ``pyspark`` and a JRE); too heavy for
every commit, so it is run before each release and its last result is recorded in the
README's "Past one machine". It takes the fixtures of the DuckDB differential tests
(``tests/test_sql.py``: the hand-made snapshot, movement and subscription histories
under every policy, both methods, the 4-4-5 calendar; ``tests/test_sql_segments.py``:
the segment moves with ``--by``, transfers included, at every grain), registers each
as a Spark temp
view, and runs the engine path with its queries transpiled to Spark SQL by
:func:`retention_cli.sql.transpile` — the SQL ``retention sql --dialect spark`` prints —
and compares every metric frame with the core's: every integer, ratio and null.
"""

from __future__ import annotations

import datetime as dt
import decimal
import importlib.util
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parent.parent


def _fixtures(name: str = "test_sql") -> Any:
    """``tests/NAME.py``, whose fixtures the DuckDB differential tests use."""
    sys.path.insert(0, str(ROOT / "tests"))  # test_sql_segments imports test_sql
    spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / f"{name}.py")
    if spec is None or spec.loader is None:
        msg = f"tests/{name}.py is missing: run from a checkout"
        raise SystemExit(msg)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _value(kind: str, text: object) -> object:
    """A fixture cell (text) as the Python value of its Spark column type."""
    if text is None:
        return None
    if kind == "DATE":
        return dt.date.fromisoformat(str(text))
    if kind.startswith("DECIMAL"):
        return decimal.Decimal(str(text))
    return str(text)


class SparkTables:
    """A local Spark session holding one temp view ``t`` at a time; ``query`` runs the
    engine path's SQL (DuckDB dialect) transpiled to Spark SQL."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self.statements = 0

    def load(self, rows: list[tuple[object, ...]], cols: dict[str, str]) -> None:
        from pyspark.sql import types as T

        kinds = {"VARCHAR": T.StringType(), "DATE": T.DateType()}
        schema = T.StructType(
            [
                T.StructField(c, kinds.get(k) or T.DecimalType(18, 2), nullable=True)
                for c, k in cols.items()
            ]
        )
        data = [
            tuple(_value(k, v) for k, v in zip(cols.values(), row, strict=True)) for row in rows
        ]
        self.spark.createDataFrame(data, schema).createOrReplaceTempView("t")

    def query(self, uri: str, sql: str, *, raw_names: bool = False) -> pl.DataFrame:
        from retention_cli.sql import transpile
        from retention_cli.sql.engine import _frame

        text = transpile(sql, "spark")
        self.statements += 1
        result = self.spark.sql(text)
        names = result.columns
        rows = [tuple(r) for r in result.collect()]
        return _frame(names, rows)


@contextmanager
def _engine(tables: SparkTables) -> Iterator[None]:
    """The engine path with its queries sent to Spark instead of a URI's engine."""
    import retention_cli.sql.run as run

    saved = run.query
    run.query = tables.query
    try:
        yield
    finally:
        run.query = saved


def _compare(
    tables: SparkTables, types: dict[str, str], rows: list[Any], shape: Any, command: str, **kw: Any
) -> str | None:
    """None when Spark's frame equals the core's; what differs otherwise."""
    from retention_cli.config import Config
    from retention_cli.inputs import load_frame
    from retention_cli.inputs.rules import Rules
    from retention_cli.service import RunOptions, compute
    from retention_cli.sql.run import engine_result

    config = kw.pop("config", None) or Config()
    cols = list(types)
    data = pl.DataFrame(
        [[None if v is None else str(v) for v in col] for col in zip(*rows, strict=True)],
        schema=dict.fromkeys(cols, pl.String),
        orient="col",
    )
    opts = RunOptions(shape=shape, **kw)
    local = compute(
        command, load_frame(data, shape=shape.value, rules=Rules.of(config)), config, opts
    )
    tables.load(rows, types)
    with _engine(tables):
        remote = engine_result(command, "sc://local", "t", config, opts)
    if remote.definitions_sha256 != local.definitions_sha256:
        return "definitions hash differs"
    if remote.warnings != local.warnings:
        return f"warnings differ: {remote.warnings} != {local.warnings}"
    if remote.frame.schema != local.frame.schema:
        return f"schema differs: {remote.frame.schema} != {local.frame.schema}"
    if remote.frame.to_dicts() != local.frame.to_dicts():
        return f"rows differ:\nspark {remote.frame}\ncore  {local.frame}"
    return None


Case = tuple[str, Any, dict[str, str], list[Any], str, dict[str, Any]]


def cases(fx: Any, seg: Any) -> Iterator[Case]:
    """(name, shape, column types, rows, command, options) of every comparison, as in
    the DuckDB tests (``fx``: test_sql, ``seg``: test_sql_segments)."""
    from retention_cli.config import Config
    from retention_cli.options import BridgeMode, Grain, Method, Shape

    for policy, policies in fx.POLICIES.items():
        for shape, rows in fx.CASES.items():
            for command in ("bridge", "nrr", "churn"):
                name = f"{command} {shape.value} {policy}"
                kw = {"config": Config(policies=policies), "window": 3}
                yield name, shape, fx.TYPES[shape], rows, command, kw
    for window in (1, 12, 13):
        for method in Method:
            for shape in (Shape.snapshots, Shape.movements):
                name = f"nrr {shape.value} window {window} {method.value}"
                kw = {"window": window, "method": method}
                yield name, shape, fx.TYPES[shape], fx.CASES[shape], "nrr", kw
    for grain in (Grain.quarter, Grain.year):
        name, kw = f"nrr snapshots {grain.value}", {"grain": grain, "window": 6}
        yield name, Shape.snapshots, fx.TYPES[Shape.snapshots], fx.SNAPSHOTS, "nrr", kw
    fiscal = Config.model_validate(
        {"fiscal_year": {"start_month": 2, "calendar": "4-4-5", "week_ends_on": "saturday"}}
    )
    for shape, rows in fx.CASES.items():
        kw = {"config": fiscal, "window": 2}
        yield f"churn {shape.value} 4-4-5", shape, fx.TYPES[shape], rows, "churn", kw
    for shape, rows in seg.CASES.items():  # --by: segment moves and transfers
        types = seg.columns(shape, 1)
        for policy in ("default", "grace"):
            kw = {"config": Config(policies=seg.POLICIES[policy]), "window": 3, "by": ["segment"]}
            yield f"churn --by {shape.value} {policy}", shape, types, rows, "churn", kw
        for mode in BridgeMode:
            kw = {"grain": Grain.quarter, "bridge": mode, "window": 6, "by": ["segment"]}
            name = f"churn --by {shape.value} quarter {mode.value}"
            yield name, shape, types, rows, "churn", kw


def main() -> int:
    """Run every comparison; print versions, the date and PASS or FAIL."""
    import pyspark
    import sqlglot
    from pyspark.sql import SparkSession

    import retention_cli

    fx, seg = _fixtures(), _fixtures("test_sql_segments")
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("retention-check-spark")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    java = spark.sparkContext._jvm.java.lang.System.getProperty("java.version")  # type: ignore[union-attr]
    print(f"date        {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"retention   {retention_cli.__version__}")
    print(f"pyspark     {pyspark.__version__} (local[2]), Java {java}")
    print(
        f"sqlglot     {sqlglot.__version__}, polars {pl.__version__}, Python {platform.python_version()}"
    )
    tables, failed, count, started = SparkTables(spark), 0, 0, time.monotonic()
    for name, shape, types, rows, command, kw in cases(fx, seg):
        count += 1
        try:
            problem = _compare(tables, types, rows, shape, command, **kw)
        except Exception as exc:  # a Spark error: report it, go on
            problem = f"{type(exc).__name__}: {str(exc).strip()[:2000]}"
        if problem:
            failed += 1
            print(f"FAIL {name}: {problem}")
        else:
            print(f"ok   {name}")
    spark.stop()
    took = time.monotonic() - started
    verdict = "PASS" if not failed else "FAIL"
    print(
        f"{verdict}: {count - failed} of {count} comparisons equal to the cent "
        f"({tables.statements} Spark SQL statements, {took:.0f} s)"
    )
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
