"""The benchmark's generator is deterministic, and its three references (benchmarks/ref_*.py)
agree with each other and with `retention report` / `retention nrr` to the cent."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from retention_cli.cli import app
from tests.conftest import ROOT

pytest.importorskip("duckdb")
pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

sys.path.insert(0, str(ROOT / "benchmarks"))

import generate
import ref_duckdb
import ref_pandas
import ref_polars
import refs_common

KINDS = ("snapshots", "movements", "subscriptions")


def _digests(out: Path, shape: str, **knobs: object) -> dict[str, str]:
    paths = generate.write(300, 24, out, shape=shape, kinds=KINDS, **knobs)
    return {kind: hashlib.sha256(p.read_bytes()).hexdigest() for kind, p in paths.items()}


@pytest.mark.parametrize("shape", sorted(generate.SHAPES))
def test_generator_gives_the_same_bytes(tmp_path: Path, shape: str) -> None:
    first = _digests(tmp_path / "a", shape)
    assert first == _digests(tmp_path / "b", shape)
    assert first != _digests(tmp_path / "c", shape, seed=8)


def test_knobs_do_what_they_say(tmp_path: Path) -> None:
    paths = generate.write(400, 24, tmp_path, shape="sparse", gaps="zero", dims=6, day="first")
    snaps = pl.read_csv(paths["snapshots"], try_parse_dates=True)
    assert snaps.columns == ["date", "account_id", "arr", "segment", "region", "owner",
                             "industry", "plan", "channel"]  # fmt: skip
    assert (snaps["date"].dt.day() == 1).all()
    assert (snaps["arr"] == 0).any()  # churned months are rows with 0
    months = snaps.group_by("account_id").agg(pl.col("date").n_unique())
    assert months["date"].min() == 1


def _references(path: Path) -> dict[str, dict[str, list[list[int]]]]:
    kind = refs_common.kind_of(str(path))
    found = {name: module.compute(str(path), kind)
             for name, module in (("duckdb", ref_duckdb), ("polars", ref_polars), ("pandas", ref_pandas))}  # fmt: skip
    found = json.loads(json.dumps(found))  # as run.py reads them back
    refs_common.same(found)
    return found


def _retention(command: str, path: Path) -> dict:
    res = CliRunner().invoke(app, [command, str(path), "-f", "json", "-q"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _files(tmp: Path) -> list[Path]:
    files = [ROOT / "examples" / f"{n}.csv" for n in
             ("tiny_snapshots", "tiny_movements", "saas_snapshots", "saas_movements")]  # fmt: skip
    for shape in sorted(generate.SHAPES):
        paths = generate.write(600, 30, tmp, shape=shape)
        files += [paths["snapshots"], paths["movements"]]
    paths = generate.write(500, 30, tmp, shape="independent", gaps="zero", day="random", dims=2)
    return [*files, paths["snapshots"]]


@pytest.mark.slow
def test_references_agree_with_retention(tmp_path: Path) -> None:
    for path in _files(tmp_path):
        refs = _references(path)
        assert refs["duckdb"]["ratios"], path  # the files are long enough for 12-month windows
        for command in ("report", "nrr"):
            refs_common.compare(_retention(command, path), refs["duckdb"], f"{path.name} {command}")


def test_the_oracle_notices_a_cent(tmp_path: Path) -> None:
    path = ROOT / "examples" / "saas_snapshots.csv"
    refs = _references(path)["polars"]
    report = _retention("report", path)
    refs["bridge"][3][4] += 1
    with pytest.raises(SystemExit, match="disagrees on the bridge"):
        refs_common.compare(report, refs, "polars")
    refs["bridge"][3][4] -= 1
    refs["ratios"][2][3] += 1
    with pytest.raises(SystemExit, match="retained ARR"):
        refs_common.compare(report, refs, "polars")


CORNERS = {
    # two snapshots in one month (the latest wins), a gap of more than 12 months, a month
    # with no row at all (every account churned), ids with a comma and a quote
    "snapshots": """date,account_id,arr,segment
2023-01-31,A,100.00,SMB
2023-01-31,"B,1",200.50,SMB
2023-02-10,A,150.00,SMB
2023-02-25,A,120.00,SMB
2023-02-28,"B,1",200.50,SMB
2023-03-31,A,120.00,SMB
2023-05-31,A,90.00,SMB
2023-05-31,C'x,10.01,SMB
2023-06-30,C'x,0.00,SMB
2024-08-31,"B,1",300.00,SMB
2024-09-30,"B,1",300.00,SMB
2024-09-30,A,5.00,SMB
""",
    # same-day movements, a contraction and a churn given as positive magnitudes, months
    # where nothing moves (ARR carries), a return after churn
    "movements": """date,account_id,type,amount,segment
2023-01-05,A,new,100.00,SMB
2023-01-05,A,expansion,50.00,SMB
2023-01-20,B,new,200.00,SMB
2023-03-03,A,contraction,30.00,SMB
2023-06-30,B,churn,200.00,SMB
2023-07-01,C,new,10.01,SMB
2024-02-15,B,reactivation,250.00,SMB
2024-04-30,A,churn,-120.00,SMB
2024-05-02,C,expansion,0.99,SMB
""",
}


@pytest.mark.parametrize("kind", sorted(CORNERS))
def test_references_agree_on_corners(tmp_path: Path, kind: str) -> None:
    """Months without a row, a month's several rows, gaps longer than the window: the
    three references give the same integers, and retention's."""
    path = tmp_path / f"{kind}.csv"
    path.write_text(CORNERS[kind])
    refs = _references(path)
    assert refs["duckdb"]["ratios"]
    for command in ("report", "nrr"):
        refs_common.compare(_retention(command, path), refs["duckdb"], f"{kind} {command}")
