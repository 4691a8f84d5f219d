"""Scale run: ``retention nrr`` on ~100M snapshot rows from CSV, Parquet and a DuckDB table.

    pip install -e '.[bench]'
    python benchmarks/scale.py                          # 6.3M accounts x 36 months ≈ 100M rows
    python benchmarks/scale.py --accounts 630000        # ≈ 10M rows, quicker
    python benchmarks/scale.py --shape independent --accounts 7000000
    python benchmarks/scale.py --no-engine              # skip the DuckDB file and case (~20 GB RAM)
    python benchmarks/scale.py --generate-only          # only write the CSV and Parquet files

Generates the files once (kept in ``--out``: about 3.6 GB of CSV and 170 MB of
Parquet for 100M rows), loads the same rows into a DuckDB file (table ``snapshots``:
date DATE, account_id VARCHAR, arr DECIMAL(18, 2), segment VARCHAR), then runs, each
in a fresh process: ``retention nrr FILE -f json`` on the CSV and on the Parquet file,
and ``retention nrr --engine duckdb:///FILE.duckdb --table snapshots -f json`` (the
SQL runs inside DuckDB; only month-level rows come back). Records wall and user+sys
CPU time and peak RSS, stops unless the three give the same periods, and writes
``benchmarks/scale.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from generate import SHAPES, write  # noqa: E402
from run import CLI, fill_readme, measure  # noqa: E402

TABLE = "snapshots"


def duckdb_file(csv: Path) -> tuple[Path, float]:
    """The DuckDB file holding ``csv``'s rows as table :data:`TABLE` (made once), and the
    seconds it took to load (0 when it existed)."""
    import duckdb

    path = csv.with_suffix(".duckdb")
    if path.exists():
        return path, 0.0
    partial = path.with_suffix(".duckdb.partial")
    partial.unlink(missing_ok=True)
    start = time.perf_counter()
    literal = str(csv).replace("'", "''")
    with duckdb.connect(str(partial)) as con:
        con.execute(f"""
            CREATE TABLE {TABLE} AS
            SELECT CAST(date AS DATE) AS date, account_id, CAST(arr AS DECIMAL(18, 2)) AS arr, segment
            FROM read_csv('{literal}', header = true, all_varchar = true)""")  # fmt: skip
    partial.rename(path)
    return path, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", choices=sorted(SHAPES), default="project")
    ap.add_argument("--accounts", type=int, default=6_300_000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--out", type=Path, default=HERE / "data")
    ap.add_argument("--results", type=Path, default=HERE / "scale.json")
    ap.add_argument("--readme", action="store_true", help="also put the table in README.md")
    ap.add_argument(
        "--no-engine",
        action="store_true",
        help="skip the DuckDB file and case (it needs ~20 GB of RAM at 100M rows)",
    )
    ap.add_argument(
        "--generate-only", action="store_true", help="write the CSV and Parquet files, run nothing"
    )
    args = ap.parse_args()
    paths = write(args.accounts, args.months, args.out, shape=args.shape, parquet=True,
                  kinds=("snapshots",))  # fmt: skip
    if args.generate_only:
        print("\n".join(str(p) for p in paths.values()))
        return
    cases = {
        "csv": (paths["snapshots"], ["nrr", str(paths["snapshots"])]),
        "parquet": (paths["snapshots_parquet"], ["nrr", str(paths["snapshots_parquet"])]),
    }
    load_s = 0.0
    if not args.no_engine:
        db, load_s = duckdb_file(paths["snapshots"])
        cases["duckdb"] = (db, ["nrr", "--engine", f"duckdb:///{db.resolve()}", "--table", TABLE])
    results = []
    outputs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (path, argv) in cases.items():
            out = Path(tmp) / f"{name}.json"
            run = measure(CLI, *argv, "-f", "json", "-q", "-o", str(out))
            report = json.loads(out.read_text())
            outputs[name] = report["periods"]
            results.append({"input": name, "file": path.name,
                            "rows": report["input"].get("rows_read"),
                            "file_mib": round(path.stat().st_size / 2**20),
                            "wall_s": round(run.wall, 1), "cpu_s": round(run.cpu, 1),
                            "peak_rss_mib": round(run.rss)})  # fmt: skip
            print(f"{name}: {run.wall:.1f} s, {run.rss:,.0f} MiB", file=sys.stderr)
    for name in ("parquet", "duckdb"):
        if name in outputs and outputs[name] != outputs["csv"]:
            raise SystemExit(f"the {name} input and the CSV gave different results")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    args.results.write_text(json.dumps({"machine": machine, "shape": args.shape,
                                        "duckdb_load_s": round(load_s, 1), "results": results},
                                       indent=2) + "\n")  # fmt: skip
    lines = [f"machine: {machine}; `retention nrr … -f json`, one run each, fresh processes", "",
             "| input | file | rows | file MiB | wall s | CPU s | peak RSS MiB |",
             "|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in results:
        rows = f"{r['rows']:,}" if isinstance(r["rows"], int) else "—"
        lines.append(f"| {r['input']} | {r['file']} | {rows} | {r['file_mib']:,} | {r['wall_s']:.1f} | "
                     f"{r['cpu_s']:.1f} | {r['peak_rss_mib']:,} |")  # fmt: skip
    if load_s:
        lines += [
            "",
            f"Loading the CSV into the DuckDB file took {load_s:.1f} s (not counted above).",
        ]
    print("\n".join(lines))
    if args.readme:
        fill_readme("scale", "\n".join(lines))


if __name__ == "__main__":
    main()
