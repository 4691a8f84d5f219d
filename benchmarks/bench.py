"""Time and peak memory of each `retention` command on generated data (not a test).

    python benchmarks/bench.py --accounts 50000 --months 36            # writes data, runs all
    python benchmarks/bench.py --accounts 50000 --months 36 --only nrr mix

Data comes from ``benchmarks/generate.py`` (seeded, ``--shape`` project, independent or
sparse): ``--accounts`` accounts over ``--months`` months as snapshots and the matching
movement log. ``benchmarks/run.py`` compares ``report`` and ``nrr`` with the bare read
and the DuckDB, Polars and pandas references.
Each command runs in a fresh process that reports its own peak RSS; figures
print as a Markdown table. Set ``POLARS_MAX_THREADS`` to pin the thread count.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from generate import SHAPES, write  # noqa: E402

DATA = HERE / "data"


def generate(accounts: int, months: int, shape: str = "project") -> tuple[Path, Path]:
    """The snapshot and movement files of :mod:`generate` (made once, then reused)."""
    paths = write(accounts, months, DATA, shape=shape)
    return paths["snapshots"], paths["movements"]


COMMANDS = {
    "nrr": ["nrr", "{moves}", "--grain", "quarter"],
    "bridge": ["bridge", "{moves}", "--by", "segment"],
    "churn": ["churn", "{moves}"],
    "mix": ["mix", "{moves}", "--grain", "quarter", "--by", "segment"],
    "cohorts": ["cohorts", "{moves}"],
    "report": ["report", "{moves}", "--grain", "quarter"],
    "nrr_snapshots": ["nrr", "{snaps}", "--grain", "quarter"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=50_000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--shape", choices=sorted(SHAPES), default="project")
    ap.add_argument("--only", nargs="*", default=list(COMMANDS))
    args = ap.parse_args()
    t0 = time.perf_counter()
    snaps, moves = generate(args.accounts, args.months, args.shape)
    rows = {p: sum(1 for _ in p.open()) - 1 for p in (snaps, moves)}
    print(f"data: {moves.name} {rows[moves]:,} rows, {snaps.name} {rows[snaps]:,} rows "
          f"({time.perf_counter() - t0:.1f} s to make or find)", file=sys.stderr)  # fmt: skip
    print("| command | input | seconds | peak RSS MiB |\n|---|---|---:|---:|")
    for name in args.only:
        argv = [a.format(moves=moves, snaps=snaps) for a in COMMANDS[name]]
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, *argv, "-f", "json", "-q"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        secs = time.perf_counter() - start
        kib = int(done.stderr.strip().splitlines()[-1].split()[-1])
        print(
            f"| `{' '.join(argv[:1] + argv[2:])}` | {Path(argv[1]).name} | {secs:.2f} | {kib / 1024:,.0f} |"
        )


_CHILD = """
import resource, runpy, sys
sys.argv = ["retention", *sys.argv[1:]]
try:
    runpy.run_module("retention_cli", run_name="__main__")
finally:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # survives exec on Linux
    try:  # VmHWM: this program's own high-water mark (reset by exec)
        peak = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
    except (OSError, IndexError, ValueError):
        pass
    sys.stderr.write(f"\\npeak_rss_kib {peak}\\n")
"""


if __name__ == "__main__":
    main()
