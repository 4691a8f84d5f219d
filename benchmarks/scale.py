"""Scale run: ``retention nrr`` on ~100M snapshot rows (CSV and Parquet), time and peak memory.

    pip install -e '.[bench]'
    python benchmarks/scale.py                          # 6.3M accounts x 36 months ≈ 100M rows
    python benchmarks/scale.py --accounts 630000        # ≈ 10M rows, quicker

Generates the files once (about a minute and 3.6 GB of CSV for 100M rows; kept
in ``--out``), runs each in a fresh process and writes ``benchmarks/scale.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from generate import write  # noqa: E402
from run import measure  # noqa: E402

NRR = """
import runpy, sys
sys.argv = ["retention", "nrr", sys.argv[1], "--format", "json", "--quiet", "--output", sys.argv[2]]
runpy.run_module("retention_cli", run_name="__main__")
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=6_300_000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--out", type=Path, default=HERE / "data")
    args = ap.parse_args()
    paths = write(args.accounts, args.months, args.out, parquet=True, kinds=("snapshots",))
    results = []
    outputs = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("snapshots", "snapshots_parquet"):
            path = paths[kind]
            out = Path(tmp) / f"{kind}.json"
            secs, mib = measure(NRR, str(path), str(out))
            report = json.loads(out.read_text())
            outputs.append(report["periods"])
            results.append({"file": path.name, "rows": report["input"]["rows_read"],
                            "file_mib": round(path.stat().st_size / 2**20),
                            "seconds": round(secs, 1), "peak_rss_mib": round(mib)})  # fmt: skip
    if outputs[0] != outputs[1]:
        raise SystemExit("the CSV and the Parquet file gave different results")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    (HERE / "scale.json").write_text(
        json.dumps({"machine": machine, "results": results}, indent=2) + "\n"
    )
    print(f"machine: {machine}; retention nrr FILE -f json (one run each)\n")
    print("| file | rows | file MiB | seconds | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['file']} | {r['rows']:,} | {r['file_mib']:,} | {r['seconds']:.1f} | {r['peak_rss_mib']:,} |"
        )


if __name__ == "__main__":
    main()
