"""Shared plumbing of the reference implementations (ref_duckdb.py, ref_polars.py,
ref_pandas.py): the input kind, and the result layout every reference writes.

Result (JSON): ``{"bridge": [[p, start, new, reactivation, expansion, contraction,
churned, end], ...], "ratios": [[p, cohort_logos, cohort_start, retained,
gross_retained, kept_logos], ...]}`` with ``p`` = year * 12 + month - 1 and every
amount in integer cents. Bridge rows cover every month after the first of a
snapshot file (its opening balance) and every month of a movement log; ratio rows
the months whose 12-month window starts inside the data and has a non-empty
cohort. NRR = retained / cohort_start, GRR = gross_retained / cohort_start, logo
retention = kept_logos / cohort_logos.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from pathlib import Path

WINDOW = 12


def kind_of(path: str) -> str:
    """``snapshots`` (an ``arr`` column) or ``movements`` (an ``amount`` column)."""
    with Path(path).open(newline="") as fh:
        header = next(csv.reader(fh))
    if "arr" in header:
        return "snapshots"
    if "amount" in header:
        return "movements"
    raise SystemExit(f"{path}: neither an arr nor an amount column")


def main(compute: Callable[[str, str], dict[str, list[list[int]]]]) -> None:
    """``python ref_X.py FILE OUT.json``: compute and write the result."""
    path, out = sys.argv[1], sys.argv[2]
    result = compute(path, kind_of(path))
    Path(out).write_text(json.dumps(result))


BRIDGE = ("start_arr", "new_arr", "reactivation_arr", "expansion_arr", "contraction_arr",
          "churned_arr", "end_arr")  # fmt: skip
TOLERANCE = 1e-12  # a ratio that is not the float nearest the exact fraction may be this far


def label(p: int) -> str:
    """The month label of ``p`` (calendar months: ``YYYY-MM``)."""
    return f"{p // 12:04d}-{p % 12 + 1:02d}"


def _cents(value: float) -> int:
    return round(value * 100)


def _ratio(name: str, period: str, key: str, got: float | None, num: int, den: int) -> None:
    exact = num / den  # Python's int / int is the float nearest the exact fraction
    if got is None or (got != exact and abs(got - exact) > TOLERANCE):
        raise SystemExit(f"{name} disagrees on {key} for {period}: {num}/{den} = {exact!r}, "
                         f"retention {got!r}")  # fmt: skip


def compare(report: dict, result: dict[str, list[list[int]]], name: str) -> None:
    """Stop unless ``result`` (a reference's rows) equals retention's JSON ``report``
    (``report``, or ``nrr`` for the ratios alone): every bridge amount to the cent and
    every cohort's logos and start ARR exactly, the retained ARR exactly when the report
    has it (mix), each ratio as the exact fraction of the reference's integers (to
    :data:`TOLERANCE`). Both must cover the same months."""
    if "bridge" in report:
        periods = {r["period"]: r for r in report["bridge"]}
        mine = {label(row[0]): row[1:] for row in result["bridge"]}
        opening = sorted(periods)[0] if report["input"]["shape"] == "snapshots" else None
        if set(periods) - {opening} != set(mine):
            raise SystemExit(
                f"{name} bridge months {sorted(mine)} != retention's {sorted(periods)}"
            )
        for period, row in mine.items():
            got = [_cents(periods[period][k]) for k in BRIDGE]
            if got != row:
                raise SystemExit(f"{name} disagrees on the bridge for {period}: {row} vs {got}")
    rows = report["retention"] if "retention" in report else report["periods"]
    windows = {r["period"]: r for r in rows if r["nrr"] is not None}
    retained = {r["period"]: r["retained_arr"] for r in report.get("mix", [])}
    ratios = {label(row[0]): row[1:] for row in result["ratios"]}
    if set(windows) != set(ratios):
        raise SystemExit(f"{name} ratio months {sorted(ratios)} != retention's {sorted(windows)}")
    for period, (logos, start, kept_arr, gross, kept) in ratios.items():
        r = windows[period]
        if r["cohort_logos"] != logos or _cents(r["cohort_start_arr"]) != start:
            raise SystemExit(f"{name} disagrees on the cohort of {period}: {logos} logos, "
                             f"{start} cents vs {r['cohort_logos']}, {r['cohort_start_arr']}")  # fmt: skip
        if (
            period in retained
            and retained[period] is not None
            and _cents(retained[period]) != kept_arr
        ):
            raise SystemExit(f"{name} disagrees on retained ARR for {period}: {kept_arr} cents "
                             f"vs {retained[period]}")  # fmt: skip
        _ratio(name, period, "nrr", r["nrr"], kept_arr, start)
        _ratio(name, period, "grr", r["grr"], gross, start)
        _ratio(name, period, "logo_retention", r["logo_retention"], kept, logos)


def same(results: dict[str, dict[str, list[list[int]]]]) -> None:
    """Stop unless every reference gave exactly the same integers."""
    (first, base), *rest = results.items()
    for name, other in rest:
        if other != base:
            raise SystemExit(f"the {name} and {first} references disagree")
