"""DuckDB reference: the month bridge and 12-month NRR/GRR/logo retention as one SQL
statement (ref_duckdb.sql) over a dense month spine with window functions, money as
DECIMAL(18, 2) then BIGINT cents. ``python benchmarks/ref_duckdb.py FILE OUT.json``."""

from __future__ import annotations

from pathlib import Path

import duckdb
from refs_common import main

SQL = (Path(__file__).parent / "ref_duckdb.sql").read_text()


def compute(path: str, kind: str) -> dict[str, list[list[int]]]:
    """Bridge and ratio rows (refs_common layout) of the CSV file ``path``."""
    con = duckdb.connect()
    value = "arr" if kind == "snapshots" else "amount"
    literal = path.replace("'", "''")
    amount = f"CAST({value} AS DECIMAL(18, 2))"
    if kind == "movements":  # a contraction or churn given as a positive magnitude removes ARR
        amount = f"CASE WHEN type IN ('contraction', 'churn') THEN -abs({amount}) ELSE {amount} END"
    con.execute(f"""
        CREATE VIEW input_rows AS
        SELECT account_id, CAST(date AS DATE) AS date, {amount} AS amount
        FROM read_csv('{literal}', header = true, all_varchar = true)""")  # fmt: skip
    rows = con.execute(SQL, {"movements": kind == "movements"})
    bridge, ratios = [], []
    for r in rows.fetchall():
        bridge.append([int(v or 0) for v in r[:8]])
        if r[13] and r[8]:
            ratios.append([int(r[0]), *(int(v) for v in r[8:13])])
    return {"bridge": bridge, "ratios": ratios}


if __name__ == "__main__":
    main(compute)
