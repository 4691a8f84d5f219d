"""Benchmark `retention` against the bare CSV read, DuckDB SQL and pandas (also an oracle).

    pip install -e '.[bench]'
    python benchmarks/run.py                      # ~1M and ~10M snapshot rows + a movement log
    python benchmarks/run.py --sizes 100000:36    # accounts:months, smaller and quicker

For each file, each contender runs in a fresh process (time and peak RSS):

* ``floor``: Polars reading the CSV and nothing else;
* ``retention``: ``retention report FILE --format json``;
* ``duckdb``: the month-grain ARR bridge and 12-month NRR/GRR/logo retention in SQL;
* ``pandas``: the same in pandas/NumPy.

The DuckDB and pandas results must equal retention's (bridge amounts to the cent,
ratios to 1e-9), so the benchmark doubles as an independent oracle. Prints a
Markdown table (median of ``--repeat`` runs) and writes ``benchmarks/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from generate import write  # noqa: E402

WINDOW = 12
BRIDGE = ("start_arr", "new_arr", "reactivation_arr", "expansion_arr", "contraction_arr",
          "churned_arr", "end_arr")  # fmt: skip
RATIOS = ("nrr", "grr", "logo_retention")

# --------------------------------------------------------------------------- contenders
FLOOR = """
import polars as pl, sys
df = pl.read_csv(sys.argv[1])
print(df.height, file=sys.stderr)
"""

RETENTION = """
import runpy, sys
sys.argv = ["retention", "report", sys.argv[1], "--format", "json", "--quiet", "--output", sys.argv[2]]
runpy.run_module("retention_cli", run_name="__main__")
"""

DUCKDB = r"""
import duckdb, json, sys
path, out, kind = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
con.execute("SET threads TO 2")
if kind == "snapshots":
    con.execute(f'''
        CREATE TABLE pts AS
        SELECT account_id, year(date) * 12 + month(date) - 1 AS p,
               arg_max(CAST(round(CAST(arr AS DECIMAL(18, 2)) * 100) AS BIGINT), date) AS arr
        FROM read_csv('{path}', columns = {{'date': 'DATE', 'account_id': 'VARCHAR',
                                           'arr': 'VARCHAR', 'segment': 'VARCHAR'}}, header = true)
        GROUP BY ALL''')
else:
    con.execute(f'''
        CREATE TABLE deltas AS
        SELECT account_id, year(date) * 12 + month(date) - 1 AS p,
               sum(CAST(round(CAST(amount AS DECIMAL(18, 2)) * 100) AS BIGINT)) AS delta
        FROM read_csv('{path}', columns = {{'date': 'DATE', 'account_id': 'VARCHAR', 'type': 'VARCHAR',
                                           'amount': 'VARCHAR', 'segment': 'VARCHAR'}}, header = true)
        GROUP BY ALL''')
con.execute('''
    CREATE TABLE span AS SELECT min(p) AS lo, max(p) AS hi FROM
    (SELECT p FROM ''' + ("pts" if kind == "snapshots" else "deltas") + ''')''')
src = "pts" if kind == "snapshots" else "deltas"
con.execute(f'''
    CREATE TABLE ledger AS
    WITH firsts AS (SELECT account_id, min(p) AS f FROM {src} GROUP BY 1),
         grid AS (SELECT a.account_id, g.p FROM firsts a, span,
                  LATERAL (SELECT unnest(range(a.f, span.hi + 1)) AS p) g)
    SELECT g.account_id, g.p, ''' + (
        "coalesce(s.arr, 0) AS arr" if kind == "snapshots"
        else "sum(coalesce(s.delta, 0)) OVER (PARTITION BY g.account_id ORDER BY g.p) AS arr"
    ) + f'''
    FROM grid g LEFT JOIN {src} s USING (account_id, p)''')
bridge = con.execute('''
    WITH pairs AS (
      SELECT l.account_id, l.p, coalesce(prev.arr, 0) AS a, l.arr AS b,
             coalesce(max(CASE WHEN l.arr > 0 THEN 1 ELSE 0 END) OVER (
               PARTITION BY l.account_id ORDER BY l.p ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS seen
      FROM ledger l LEFT JOIN ledger prev ON prev.account_id = l.account_id AND prev.p = l.p - 1)
    SELECT p, sum(a), sum(CASE WHEN a = 0 AND b > 0 AND seen = 0 THEN b ELSE 0 END),
           sum(CASE WHEN a = 0 AND b > 0 AND seen = 1 THEN b ELSE 0 END),
           sum(CASE WHEN a > 0 AND b > a THEN b - a ELSE 0 END),
           sum(CASE WHEN b > 0 AND b < a THEN a - b ELSE 0 END),
           sum(CASE WHEN a > 0 AND b = 0 THEN a ELSE 0 END), sum(b)
    FROM pairs GROUP BY p ORDER BY p''').fetchall()
ratios = con.execute(f'''
    SELECT e.p, sum(e.arr) / sum(s.arr), sum(least(e.arr, s.arr)) / sum(s.arr),
           count(*) FILTER (WHERE e.arr > 0) / count(*)
    FROM ledger s JOIN ledger e ON e.account_id = s.account_id AND e.p = s.p + 12
    WHERE s.arr > 0 GROUP BY e.p ORDER BY e.p''').fetchall()
json.dump({"bridge": bridge, "ratios": ratios}, open(out, "w"), default=float)
"""

PANDAS = r"""
import json, sys
import numpy as np, pandas as pd
path, out, kind = sys.argv[1], sys.argv[2], sys.argv[3]
df = pd.read_csv(path, dtype=str)
d = pd.to_datetime(df["date"])
df["p"] = d.dt.year * 12 + d.dt.month - 1
col = "arr" if kind == "snapshots" else "amount"
cents = (df[col].astype("float64") * 100).round().astype("int64")  # 2-decimal text: exact
df["c"] = cents
if kind == "snapshots":
    df["_d"] = d
    df = df.sort_values(["account_id", "p", "_d"]).drop_duplicates(["account_id", "p"], keep="last")
    wide = df.pivot(index="account_id", columns="p", values="c")
else:
    wide = df.groupby(["account_id", "p"])["c"].sum().unstack("p")
lo, hi = int(df["p"].min()), int(df["p"].max())
wide = wide.reindex(columns=range(lo, hi + 1))
present = wide.notna().to_numpy().cumsum(axis=1) > 0  # from the account's first month on
m = wide.fillna(0).to_numpy(dtype="int64")
if kind != "snapshots":
    m = m.cumsum(axis=1)
m = np.where(present, m, 0)
pos = m > 0
seen = np.maximum.accumulate(pos, axis=1)
bridge = []
for j in range(1, m.shape[1]):
    a, b = m[:, j - 1], m[:, j]
    before = seen[:, j - 1]
    arrive = (a == 0) & (b > 0)
    bridge.append([lo + j, int(a.sum()), int(b[arrive & ~before].sum()), int(b[arrive & before].sum()),
                   int((b - a)[(a > 0) & (b > a)].sum()), int((a - b)[(b > 0) & (b < a)].sum()),
                   int(a[(a > 0) & (b == 0)].sum()), int(b.sum())])
ratios = []
for j in range(12, m.shape[1]):
    s, e = m[:, j - 12], m[:, j]
    c = s > 0
    S = s[c].sum()
    ratios.append([lo + j, e[c].sum() / S, np.minimum(e[c], s[c]).sum() / S, (e[c] > 0).sum() / c.sum()])
json.dump({"bridge": bridge, "ratios": ratios}, open(out, "w"), default=float)
"""

CHILD = """
import resource, runpy, sys
code = open(sys.argv[1]).read()
sys.argv = sys.argv[1:]
try:
    exec(compile(code, sys.argv[0], "exec"), {"__name__": "__main__"})
finally:
    sys.stderr.write(f"\\npeak_rss_kib {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n")
"""


def measure(code: str, *args: str) -> tuple[float, float]:
    """Run ``code`` with ``args`` in a fresh Python; (seconds, peak RSS MiB)."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(code)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, fh.name, *args], capture_output=True,
                          text=True, env={**os.environ, "POLARS_MAX_THREADS": "2"})  # fmt: skip
    secs = time.perf_counter() - start
    Path(fh.name).unlink()
    if done.returncode != 0:
        raise SystemExit(f"failed: {args}\n{done.stderr[-2000:]}")
    kib = int(done.stderr.strip().splitlines()[-1].split()[-1])
    return secs, kib / 1024


# --------------------------------------------------------------------------- oracle
def check(report: dict, other: dict, kind: str, name: str) -> None:
    """``other`` (bridge cents, ratios) must equal retention's report."""
    periods = {r["period"]: r for r in report["bridge"]}
    rets = {r["period"]: r for r in report["retention"]}
    first = min(periods)

    def label(p: int) -> str:
        return f"{p // 12:04d}-{p % 12 + 1:02d}"

    for row in other["bridge"]:
        lab = label(int(row[0]))
        if kind == "snapshots" and lab == first:
            continue  # the opening balance has no movements
        mine = periods[lab]
        got = [round(mine[k] * 100) for k in BRIDGE]
        if got != [int(v) for v in row[1:]]:
            raise SystemExit(f"{name} disagrees on the bridge for {lab}: {row[1:]} vs {got}")
    for row in other["ratios"]:
        lab = label(int(row[0]))
        for k, v in zip(RATIOS, row[1:], strict=True):
            if abs(rets[lab][k] - float(v)) > 1e-9:
                raise SystemExit(f"{name} disagrees on {k} for {lab}: {v} vs {rets[lab][k]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="*", default=["70000:36", "700000:36"],
                    help="accounts:months per data set (~1M and ~10M snapshot rows by default)")  # fmt: skip
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    args = ap.parse_args()
    results = []
    for size in args.sizes:
        accounts, months = (int(x) for x in size.split(":"))
        paths = write(accounts, months, HERE / "data")
        for kind in ("snapshots", "movements"):
            path = str(paths[kind])
            with Path(path).open() as fh:
                rows = sum(1 for _ in fh) - 1
            mib = Path(path).stat().st_size / 2**20
            runs: dict[str, list[tuple[float, float]]] = {}
            with tempfile.TemporaryDirectory() as tmp:
                outs = {n: str(Path(tmp) / f"{n}.json") for n in ("retention", "duckdb", "pandas")}
                for _ in range(args.repeat):
                    runs.setdefault("floor", []).append(measure(FLOOR, path))
                    runs.setdefault("retention", []).append(
                        measure(RETENTION, path, outs["retention"])
                    )
                    runs.setdefault("duckdb", []).append(
                        measure(DUCKDB, path, outs["duckdb"], kind)
                    )
                    runs.setdefault("pandas", []).append(
                        measure(PANDAS, path, outs["pandas"], kind)
                    )
                report = json.loads(Path(outs["retention"]).read_text())
                for name in ("duckdb", "pandas"):
                    check(report, json.loads(Path(outs[name]).read_text()), kind, name)
            med = {
                n: (statistics.median(t for t, _ in r), max(m for _, m in r))
                for n, r in runs.items()
            }
            results.append({"file": Path(path).name, "kind": kind, "rows": rows, "csv_mib": round(mib, 1),
                            "seconds": {n: round(v[0], 3) for n, v in med.items()},
                            "peak_rss_mib": {n: round(v[1]) for n, v in med.items()}})  # fmt: skip
            print(f"{Path(path).name}: {rows:,} rows, oracles agree", file=sys.stderr)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    args.out.write_text(json.dumps({"machine": machine, "repeat": args.repeat, "results": results},
                                   indent=2) + "\n")  # fmt: skip
    print(f"machine: {machine}; median of {args.repeat} run(s); peak RSS in MiB\n")
    print("| file | rows | CSV MiB | floor s | retention s | ×floor | duckdb s | pandas s | "
          "retention RSS | ×CSV | duckdb RSS | pandas RSS |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        s, m = r["seconds"], r["peak_rss_mib"]
        print(f"| {r['file']} | {r['rows']:,} | {r['csv_mib']:,.0f} | {s['floor']:.2f} | {s['retention']:.2f} | "
              f"{s['retention'] / s['floor']:.1f} | {s['duckdb']:.2f} | {s['pandas']:.2f} | "
              f"{m['retention']:,} | {m['retention'] / r['csv_mib']:.1f} | {m['duckdb']:,} | {m['pandas']:,} |")  # fmt: skip


if __name__ == "__main__":
    main()
