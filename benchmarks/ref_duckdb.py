"""DuckDB reference: the month bridge and 12-month NRR/GRR/logo retention as one SQL
statement (ref_duckdb.sql): window functions over the rows in date order and over a dense
month spine, money as DECIMAL(18, 2) then BIGINT cents. A typed ``read_csv`` (DATE,
DECIMAL(18, 2), VARCHAR; the other columns are not read), two threads (as Polars gets
``POLARS_MAX_THREADS=2`` in benchmarks/run.py). ``python benchmarks/ref_duckdb.py FILE
OUT.json``."""

from __future__ import annotations

from pathlib import Path

import duckdb
from refs_common import main

SQL = (Path(__file__).parent / "ref_duckdb.sql").read_text()
THREADS = 2


def compute(path: str, kind: str) -> dict[str, list[list[int]]]:
    """Bridge and ratio rows (refs_common layout) of the CSV file ``path``."""
    con = duckdb.connect(config={"threads": THREADS})
    value = "arr" if kind == "snapshots" else "amount"
    literal = path.replace("'", "''")
    amount = value
    if kind == "movements":  # a contraction or churn given as a positive magnitude removes ARR
        amount = f"CASE WHEN type IN ('contraction', 'churn') THEN -abs({value}) ELSE {value} END"
    con.execute(f"""
        CREATE VIEW input_rows AS
        SELECT account_id, date, {amount} AS amount
        FROM read_csv('{literal}', header = true,
                      types = {{'date': 'DATE', 'account_id': 'VARCHAR', '{value}': 'DECIMAL(18, 2)'}})""")  # fmt: skip
    con.execute(f"SET VARIABLE movements = {'true' if kind == 'movements' else 'false'}")
    rows = con.execute(SQL)
    bridge, ratios = [], []
    for r in rows.fetchall():
        bridge.append([int(v or 0) for v in r[:8]])
        if r[13] and r[8]:
            ratios.append([int(r[0]), *(int(v) for v in r[8:13])])
    return {"bridge": bridge, "ratios": ratios}


if __name__ == "__main__":
    main(compute)
