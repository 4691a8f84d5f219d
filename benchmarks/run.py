"""Benchmark `retention` against the bare read and three independent references (also oracles).

    pip install -e '.[bench]'
    python benchmarks/run.py                       # three shapes, ~10M snapshot rows each
    python benchmarks/run.py --shapes independent  # one shape
    python benchmarks/run.py --quick               # small files, one run: a smoke test

For each shape (``benchmarks/generate.py --shape``: project, independent, sparse) the
snapshot file and the movement log of the same history are generated once (kept in
``benchmarks/data``). On each file, every contender runs ``--repeat`` times in a fresh
process, interleaved, recording wall time, user+sys CPU time and peak RSS:

* ``floor``: Polars reading the CSV and nothing else;
* ``nrr``: ``retention nrr FILE -f json`` (the retention section alone);
* ``report``: ``retention report FILE -f json`` (all six sections at month grain);
* ``duckdb``, ``polars``, ``pandas``: ``ref_duckdb.py`` (+ ``ref_duckdb.sql``),
  ``ref_polars.py``, ``ref_pandas.py``: the month-grain bridge and 12-month
  NRR/GRR/logo retention, written independently of retention's code.

The references are oracles: the run stops unless the three give the same integers and
they equal retention's ``report`` and ``nrr`` (bridge to the cent, cohorts exactly,
ratios as exact fractions; see ``refs_common.compare``). Then, on the snapshot file of
each shape, the slow corners (quarter and year grain, the reactivation_window and
churn_grace policies, ``nrr --variants`` (four definitions side by side, one of them
count_returns=False), that variant alone through the Python API (against the default
through the same API), subscriptions input of the same history, ``explain``), ``explain`` of 1M accounts to
CSV and XLSX, and the start-up time. Prints Markdown (for the README) and writes
``benchmarks/results.json`` (``--quick``: ``benchmarks/data/results-quick.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate import SHAPES, write  # noqa: E402
from refs_common import compare, same  # noqa: E402

REFERENCES = ("duckdb", "polars", "pandas")
CONTENDERS = ("floor", "nrr", "report", *REFERENCES)
QUICK_DIVISOR = 50  # --quick: the shapes' account counts divided by this
EXPLAIN_ACCOUNTS = 1_020_000  # x 2 months: about 1M accounts active in the second month

# --------------------------------------------------------------------------- processes
FLOOR = """
import polars as pl, sys
print(pl.read_csv(sys.argv[1]).height, file=sys.stderr)
"""

CLI = """
import runpy, sys
sys.argv = ["retention", *sys.argv[1:]]
runpy.run_module("retention_cli", run_name="__main__")
"""

API = """
import sys
from retention_cli import build_ledger, load
from retention_cli.metrics.retention import retention
retention(build_ledger(load(sys.argv[1])), count_returns=sys.argv[2] == "returns")
"""

REFERENCE = """
import runpy, sys
sys.path.insert(0, {here!r})
runpy.run_path({script!r}, run_name="__main__")
"""

CHILD = """
import resource, sys
code = open(sys.argv[1]).read()
sys.argv = sys.argv[1:]
try:
    exec(compile(code, sys.argv[0], "exec"), {"__name__": "__main__"})
finally:
    u = resource.getrusage(resource.RUSAGE_SELF)
    peak = u.ru_maxrss  # KiB; on Linux it survives exec, so it can carry the parent's peak
    try:  # VmHWM is this program's own high-water mark (reset by exec)
        status = open("/proc/self/status").read()
        peak = int(status.split("VmHWM:")[1].split()[0])
    except (OSError, IndexError, ValueError):
        pass
    sys.stderr.write(f"\\nbench_usage {u.ru_utime + u.ru_stime} {peak}\\n")
"""


@dataclass
class Run:
    """One process: wall and CPU seconds, peak RSS in MiB, exit status."""

    wall: float
    cpu: float
    rss: float
    code: int = 0
    stderr: str = ""


def measure(code: str, *args: str, check: bool = True) -> Run:
    """Run ``code`` with ``args`` in a fresh Python process."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(code)
    try:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", CHILD, fh.name, *args], capture_output=True,
                              text=True, env={**os.environ, "POLARS_MAX_THREADS": "2"})  # fmt: skip
        wall = time.perf_counter() - start
    finally:
        Path(fh.name).unlink()
    found = re.search(r"bench_usage (\S+) (\d+)\s*$", done.stderr)
    if (check and done.returncode != 0) or not found:
        raise SystemExit(f"failed ({done.returncode}): {args}\n{done.stderr[-3000:]}")
    return Run(wall, float(found[1]), int(found[2]) / 1024, done.returncode, done.stderr)


def contender(name: str, path: Path, out: Path) -> tuple[str, tuple[str, ...]]:
    """The code and arguments of one contender on ``path`` (its result to ``out``)."""
    if name == "floor":
        return FLOOR, (str(path),)
    if name in ("nrr", "report"):
        return CLI, (name, str(path), "-f", "json", "-q", "-o", str(out))
    script = HERE / f"ref_{name}.py"
    return REFERENCE.format(here=str(HERE), script=str(script)), (str(path), str(out))


@dataclass
class Timing:
    """Median wall and CPU time, and the highest peak RSS, over the repeats."""

    runs: list[Run] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def rss(self) -> float:
        return max(r.rss for r in self.runs)

    def as_dict(self) -> dict[str, float]:
        return {"wall_s": round(self.wall, 3), "cpu_s": round(self.cpu, 3),
                "peak_rss_mib": round(self.rss)}  # fmt: skip


def file_facts(path: Path) -> dict[str, object]:
    with path.open("rb") as fh:
        rows = sum(1 for _ in fh) - 1
    return {"file": path.name, "rows": rows, "mib": round(path.stat().st_size / 2**20, 1)}


def bench_file(path: Path, repeat: int) -> dict[str, object]:
    """Every contender on ``path``, interleaved ``repeat`` times; the oracle check."""
    timings = {name: Timing() for name in CONTENDERS}
    with tempfile.TemporaryDirectory() as tmp:
        outs = {name: Path(tmp) / f"{name}.json" for name in CONTENDERS}
        for _ in range(repeat):
            for name in CONTENDERS:
                code, args = contender(name, path, outs[name])
                timings[name].runs.append(measure(code, *args))
        results = {name: json.loads(outs[name].read_text()) for name in REFERENCES}
        same(results)
        for cli in ("report", "nrr"):
            compare(
                json.loads(outs[cli].read_text()), results["duckdb"], f"the references vs {cli}"
            )
    print(f"{path.name}: the references agree with each other and with retention", file=sys.stderr)
    return {**file_facts(path), "contenders": {n: t.as_dict() for n, t in timings.items()}}


# --------------------------------------------------------------------------- slow corners
POLICIES = {
    "reactivation_window": "policies:\n  reactivation_window: 3\n",
    "churn_grace": "policies:\n  churn_grace: 2\n",
}


def corners(paths: dict[str, Path], repeat: int, last: str, tmp: Path) -> list[dict[str, object]]:
    """The month-grain ``nrr`` against each slower path, on the snapshot file."""
    snap = str(paths["snapshots"])
    configs = {}
    for name, text in POLICIES.items():
        configs[name] = tmp / f"{name}.yaml"
        configs[name].write_text(text)
    cases = {
        "nrr (month grain)": ["nrr", snap],
        "nrr --grain quarter": ["nrr", snap, "--grain", "quarter"],
        "nrr --grain year": ["nrr", snap, "--grain", "year"],
        "nrr, reactivation_window: 3": ["nrr", snap, "-c", str(configs["reactivation_window"])],
        "nrr, churn_grace: 2": ["nrr", snap, "-c", str(configs["churn_grace"])],
        "nrr --variants (four definitions)": ["nrr", snap, "--variants"],
        "nrr of the subscriptions file": ["nrr", str(paths["subscriptions"])],
        f"explain --period {last} (nrr cohort)": ["explain", snap, "--period", last],
    }
    # the count_returns variant alone has no command of its own: the Python API, both ways
    api = {
        "Python API: load, ledger, retention": "returns",
        "Python API: the same, count_returns=False": "no-returns",
    }
    timings = {name: Timing() for name in (*cases, *api)}
    for _ in range(repeat):
        for name, argv in cases.items():
            out = tmp / "corner.json"
            timings[name].runs.append(measure(CLI, *argv, "-f", "json", "-q", "-o", str(out)))
        for name, how in api.items():
            timings[name].runs.append(measure(API, snap, how))
    base = timings["nrr (month grain)"]
    return [{"case": name, **t.as_dict(), "x_month": round(t.wall / base.wall, 2),
             "cpu_x_month": round(t.cpu / base.cpu, 2)} for name, t in timings.items()]  # fmt: skip


def explain_million(out_dir: Path, accounts: int, tmp: Path) -> list[dict[str, object]]:
    """``explain --metric bridge`` of the last month (every active account) to CSV and XLSX."""
    path = write(accounts, 2, out_dir, shape="project", kinds=("snapshots",))["snapshots"]
    rows = []
    for fmt in ("csv", "xlsx"):
        out = tmp / f"explain.{fmt}"
        run = measure(CLI, "explain", str(path), "--period", "2020-02", "--metric", "bridge",
                      "-q", "-o", str(out), check=False)  # fmt: skip
        lines = None
        if fmt == "csv" and run.code == 0:
            with out.open("rb") as fh:
                lines = sum(1 for _ in fh) - 1
        message = run.stderr.split("bench_usage")[0].strip().splitlines()
        rows.append({"case": f"explain --metric bridge to {fmt.upper()}", "file": path.name,
                     "accounts": lines, "exit": run.code,
                     "message": message[-1] if run.code and message else None,
                     "wall_s": round(run.wall, 2), "cpu_s": round(run.cpu, 2),
                     "peak_rss_mib": round(run.rss)})  # fmt: skip
    return rows


# --------------------------------------------------------------------------- start-up
def startup(repeat: int) -> dict[str, object]:
    """Median wall of ``retention nrr examples/tiny_movements.csv``; the top imports."""
    tiny = str(ROOT / "examples" / "tiny_movements.csv")
    script = Path(sys.executable).parent / "retention"
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "retention_cli"]
    walls = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([*argv, "nrr", tiny], check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
    done = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           "import sys; from retention_cli.cli import main; sys.argv[1:] = "
                           f"['nrr', {tiny!r}]; main()"],
                          capture_output=True, text=True)  # fmt: skip
    top: dict[str, int] = {}
    for line in done.stderr.splitlines():
        found = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if found and not found[2]:  # an import at the top of the tree: its cumulative time
            top[found[3]] = top.get(found[3], 0) + int(found[1])
    ranked = sorted(top.items(), key=lambda kv: -kv[1])[:8]
    return {"command": "retention nrr examples/tiny_movements.csv", "runs": repeat,
            "median_wall_s": round(statistics.median(walls), 3),
            "top_imports_ms": {k: round(v / 1000, 1) for k, v in ranked}}  # fmt: skip


# --------------------------------------------------------------------------- report
def verdict(*, met: bool) -> str:
    """The last column of the targets table."""
    return "met" if met else "**missed**"


def markdown(data: dict) -> str:
    """The README block: one table per shape, the targets, the corners, start-up."""
    out = [f"machine: {data['machine']}; median of {data['repeat']} run(s) in fresh processes; "
           "wall and user+sys CPU seconds; peak RSS in MiB", ""]  # fmt: skip
    for shape in data["shapes"]:
        out += [f"**{shape['shape']}** ({shape['knobs']})", ""]
        out += ["| file | rows | MiB | contender | wall s | CPU s | peak MiB | × floor | × CSV |",
                "|---|---:|---:|---|---:|---:|---:|---:|---:|"]  # fmt: skip
        for f in (shape["snapshots"], shape["movements"]):
            floor = f["contenders"]["floor"]["wall_s"]
            for name, c in f["contenders"].items():
                out.append(f"| {f['file']} | {f['rows']:,} | {f['mib']:,.0f} | {name} | "
                           f"{c['wall_s']:.2f} | {c['cpu_s']:.2f} | {c['peak_rss_mib']:,} | "
                           f"{c['wall_s'] / floor:.1f} | {c['peak_rss_mib'] / f['mib']:.1f} |")  # fmt: skip
        out += ["", "| target | measured | |", "|---|---|---|"]
        for t in shape["targets"]:
            out.append(f"| {t['target']} | {t['measured']} | {verdict(met=t['met'])} |")
        out += ["", "| slow corner (snapshot file) | wall s | CPU s | peak MiB | × month wall | × month CPU |",
                "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
        for c in shape["corners"]:
            out.append(f"| {c['case']} | {c['wall_s']:.2f} | {c['cpu_s']:.2f} | {c['peak_rss_mib']:,} | "
                       f"{c['x_month']:.2f} | {c['cpu_x_month']:.2f} |")  # fmt: skip
        out.append("")
    out += ["| explain of ~1M accounts | accounts | wall s | CPU s | peak MiB | result |",
            "|---|---:|---:|---:|---:|---|"]  # fmt: skip
    for e in data["explain"]:
        result = "ok" if e["exit"] == 0 else f"exit {e['exit']}: {e['message']}"
        accounts = f"{e['accounts']:,}" if e["accounts"] is not None else "—"
        out.append(f"| {e['case']} | {accounts} | {e['wall_s']:.2f} | {e['cpu_s']:.2f} | "
                   f"{e['peak_rss_mib']:,} | {result} |")  # fmt: skip
    s = data["startup"]
    imports = ", ".join(f"{k} {v:.0f} ms" for k, v in s["top_imports_ms"].items())
    out += ["", f"Start-up: `{s['command']}` median {s['median_wall_s']:.3f} s wall over "
            f"{s['runs']} runs (target < 0.35 s); top imports (`-X importtime`, cumulative): {imports}."]  # fmt: skip
    return "\n".join(out)


def targets(snap: dict, moves: dict) -> list[dict[str, object]]:
    """The issue's targets on one shape, as ratios of medians in this run."""
    c, m = snap["contenders"], moves["contenders"]
    wall = {n: v["wall_s"] for n, v in c.items()}
    rows = [{"target": "report ≤ 2.0× the bare read",
             "measured": f"{wall['report'] / wall['floor']:.2f}× ({wall['report']:.2f} s vs {wall['floor']:.2f} s)",
             "met": wall["report"] <= 2.0 * wall["floor"]}]  # fmt: skip
    for ref in ("duckdb", "polars"):
        rows.append({"target": f"report faster than the {ref} reference",
                     "measured": f"{wall[ref] / wall['report']:.2f}× faster ({wall[ref]:.2f} s)",
                     "met": wall["report"] < wall[ref]})  # fmt: skip
        rows.append({"target": f"nrr ≥ 1.5× faster than the {ref} reference",
                     "measured": f"{wall[ref] / wall['nrr']:.2f}× ({wall['nrr']:.2f} s vs {wall[ref]:.2f} s)",
                     "met": wall[ref] >= 1.5 * wall["nrr"]})  # fmt: skip
    for cmd in ("report", "nrr"):
        peak = c[cmd]["peak_rss_mib"]
        rows.append({"target": f"{cmd} peak ≤ 2.5× the CSV ({snap['mib']:,.0f} MiB)",
                     "measured": f"{peak:,} MiB ({peak / snap['mib']:.2f}×)",
                     "met": peak <= 2.5 * snap["mib"]})  # fmt: skip
    size = moves["mib"] / snap["mib"]
    rows.append({"target": "report on the movement log ≤ its size ratio × the snapshot file's time",
                 "measured": f"{m['report']['wall_s']:.2f} s vs {wall['report']:.2f} s "
                             f"({m['report']['wall_s'] / wall['report']:.2f}×; size ratio {size:.2f})",
                 "met": m["report"]["wall_s"] <= size * wall["report"]})  # fmt: skip
    return rows


def fill_readme(marker: str, text: str, readme: Path = ROOT / "README.md") -> None:
    """Put ``text`` between ``<!-- bench:MARKER -->`` and ``<!-- /bench:MARKER -->`` in the
    README (the markers stay, so the next run replaces it again)."""
    body = readme.read_text()
    head, tail = f"<!-- bench:{marker} -->", f"<!-- /bench:{marker} -->"
    if body.count(head) != 1 or body.count(tail) != 1:
        raise SystemExit(f"{readme}: expected one {head} ... {tail} block")
    start, end = body.index(head) + len(head), body.index(tail)
    readme.write_text(body[:start] + "\n" + text.strip() + "\n" + body[end:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--shapes", nargs="+", choices=sorted(SHAPES), default=["project", "independent", "sparse"]
    )
    ap.add_argument("--repeat", type=int, help="runs per contender (default 3; --quick: 1)")
    ap.add_argument(
        "--quick", action="store_true", help=f"accounts / {QUICK_DIVISOR}, one run: a smoke test"
    )
    ap.add_argument("--no-corners", action="store_true", help="skip the slow corners and explain")
    ap.add_argument(
        "--data", type=Path, default=HERE / "data", help="where the generated files live"
    )
    ap.add_argument("--out", type=Path, help="results file (default benchmarks/results.json)")
    ap.add_argument("--readme", action="store_true", help="also put the tables in README.md")
    args = ap.parse_args()  # fmt: skip
    repeat = args.repeat or (1 if args.quick else 3)
    out = args.out or (args.data / "results-quick.json" if args.quick else HERE / "results.json")
    shapes = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.shapes:
            spec = SHAPES[name]
            accounts = spec.accounts // QUICK_DIVISOR if args.quick else spec.accounts
            t0 = time.perf_counter()
            paths = write(accounts, spec.months, args.data, shape=name,
                          kinds=("snapshots", "movements", "subscriptions"))  # fmt: skip
            print(f"{name}: data ready in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            snap = bench_file(paths["snapshots"], repeat)
            moves = bench_file(paths["movements"], repeat)
            knobs = (f"{accounts:,} accounts × {spec.months} months, {spec.model} model, "
                     f"gaps {spec.gaps}, {spec.dims} dimension(s), day {spec.day}, "
                     f"single {spec.single:.0%}, returns {spec.returns:.0%}, ARR {spec.arr}")  # fmt: skip
            last = _last_month(paths["snapshots"])
            shapes.append({"shape": name, "knobs": knobs, "snapshots": snap, "movements": moves,
                           "targets": targets(snap, moves),
                           "corners": [] if args.no_corners else corners(paths, repeat, last, Path(tmp))})  # fmt: skip
        million = EXPLAIN_ACCOUNTS // QUICK_DIVISOR if args.quick else EXPLAIN_ACCOUNTS
        explain = [] if args.no_corners else explain_million(args.data, million, Path(tmp))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    data = {"machine": machine, "repeat": repeat, "quick": args.quick, "shapes": shapes,
            "explain": explain, "startup": startup(3 if args.quick else 10)}  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n")
    print(markdown(data))
    if args.readme:
        fill_readme("table", markdown(data))


def _last_month(path: Path) -> str:
    """The last month label of a snapshot file (``YYYY-MM``)."""
    import polars as pl

    last = (
        pl.scan_csv(path, schema_overrides={"date": pl.Date}).select(pl.col("date").max()).collect()
    )
    return str(last.item())[:7]


if __name__ == "__main__":
    main()
