"""Issue 15's loose ends: the report's credit section, ``credit`` as a mappable
column, ``explain --by`` on computed bands, and the starter config's bands."""

from __future__ import annotations

import json

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

import retention_cli as rc
from retention_cli.config import Config
from retention_cli.options import Grain
from retention_cli.service import RunOptions, compute, compute_report, load_input
from tests.conftest import EXAMPLES, ROOT
from tests.test_properties import as_movements, histories

CREDITED = EXAMPLES / "credit_movements.csv"
# 2026-01: acme new 12,000 (sales), globex new 6,000 (self_serve)
# 2026-02: acme expansion 3,000 (cs) + 1,000 (expansion_rep), globex expansion 2,000 (blank)
# 2026-03: initech new 7,000 (sales), globex contraction 1,000


def _split(frame: pl.DataFrame, period: str) -> dict[str, tuple[int, int]]:
    """credit -> (new, expansion) of one period, in cents."""
    rows = frame.filter(pl.col("period") == period)
    return {r["credit"]: (r["new_arr"], r["expansion_arr"]) for r in rows.iter_rows(named=True)}


def test_report_credit_section_by_hand() -> None:
    opts = RunOptions(credit="sourced_by")
    report = compute_report(load_input(str(CREDITED), Config(), opts), Config(), opts)
    assert list(report.sections)[:3] == ["summary", "credit", "bridge"]
    frame = report.sections["credit"].frame
    assert _split(frame, "2026-01") == {
        "cs": (0, 0),
        "expansion_rep": (0, 0),
        "sales": (1_200_000, 0),
        "self_serve": (600_000, 0),
        "uncredited": (0, 0),
    }
    feb = _split(frame, "2026-02")
    assert {k: v for k, v in feb.items() if v != (0, 0)} == {
        "cs": (0, 300_000),
        "expansion_rep": (0, 100_000),
        "uncredited": (0, 200_000),  # a blank credit is never dropped
    }
    # the split adds up to the bridge's expansion and new, period by period
    bridge = report.sections["bridge"].frame
    for period, new, expansion in bridge.select("period", "new_arr", "expansion_arr").rows():
        rows = frame.filter(pl.col("period") == period)
        assert (rows["new_arr"].sum(), rows["expansion_arr"].sum()) == (new, expansion)
    # the mix section stays the growth mix; the other sections are as without credit
    plain = compute_report(
        load_input(str(CREDITED), Config(), RunOptions()), Config(), RunOptions()
    )
    assert "credit" not in plain.sections
    assert plain.notes == report.notes
    for name, section in plain.sections.items():
        assert section.frame.equals(report.sections[name].frame), name
    # mix --credit is the split itself, as before
    mix = compute("mix", load_input(str(CREDITED), Config(), opts), Config(), opts)
    assert mix.frame.equals(frame)


def test_report_credit_quarter_splits_net_gains() -> None:
    opts = RunOptions(credit="sourced_by", grain=Grain.quarter)
    report = compute_report(load_input(str(CREDITED), Config(), opts), Config(), opts)
    q1 = _split(report.sections["credit"].frame, "FY2026-Q1")
    # net bridge by quarter: every gain of a new account is new ARR; globex's 7,000 net
    # (6,000 + 2,000 - 1,000) over self_serve 6,000 : uncredited 2,000 = 5,250 : 1,750
    assert q1 == {
        "cs": (300_000, 0),
        "expansion_rep": (100_000, 0),
        "sales": (1_900_000, 0),
        "self_serve": (525_000, 0),
        "uncredited": (175_000, 0),
    }


def test_report_cli_takes_credit_in_every_format(runner, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from retention_cli.cli import app

    monkeypatch.chdir(ROOT)
    args = ["report", "examples/credit_movements.csv", "--credit", "sourced_by"]
    r = runner.invoke(app, [*args, "-f", "json"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["options"]["credit"] == "sourced_by"
    rows = [s for s in doc["credit"] if s["period"] == "2026-02"]
    assert sum(s["expansion_arr"] for s in rows) == 6_000  # JSON amounts are in units
    for fmt, needle in (("table", "Gross new ARR by credited team"), ("markdown", "expansion_rep"),
                        ("html", 'id="credit"')):  # fmt: skip
        r = runner.invoke(app, [*args, "-f", fmt])
        assert r.exit_code == 0, r.stderr
        assert needle in r.stdout, fmt


def test_credit_is_a_mappable_column(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = CREDITED.read_text(encoding="utf-8").replace("sourced_by", "Sourced By")
    path = tmp_path / "moves.csv"
    path.write_text(text, encoding="utf-8")
    config = Config(columns={"credit": "Sourced By"})
    loaded = load_input(str(path), config, RunOptions())
    assert "Sourced By" not in loaded.dimensions  # mapped: a column, not a dimension
    mapped = compute("mix", loaded, config, RunOptions())
    flag = RunOptions(credit="sourced_by")
    by_flag = compute("mix", load_input(str(CREDITED), Config(), flag), Config(), flag)
    assert mapped.frame.equals(by_flag.frame)
    # --credit credit names the mapped column too
    named = RunOptions(credit="credit")
    again = compute("mix", load_input(str(path), config, named), config, named)
    assert again.frame.equals(by_flag.frame)
    # and the report gets its credit section from the mapping alone
    report = compute_report(load_input(str(path), config, RunOptions()), config, RunOptions())
    assert report.sections["credit"].frame.equals(by_flag.frame)


def test_a_mapped_credit_on_snapshots_asks_for_a_credits_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from retention_cli.errors import UsageError

    path = tmp_path / "snaps.csv"
    path.write_text("date,account_id,arr,team\n2026-01-31,a,100,cs\n", encoding="utf-8")
    config = Config(columns={"credit": "team"})
    with pytest.raises(UsageError, match="credits in a file"):
        compute("mix", load_input(str(path), config, RunOptions()), config, RunOptions())


def test_explain_restricts_to_a_computed_band() -> None:
    from retention_cli.service import explain_result

    path = str(EXAMPLES / "saas_movements.csv")
    loaded = load_input(path, Config(), RunOptions())
    by_band = RunOptions(by=("acv_band",))
    nrr = compute("nrr", load_input(path, Config(), by_band), Config(), by_band).frame
    headline = nrr.filter((pl.col("period") == "2025-06") & (pl.col("acv_band") == "25k-50k"))
    out = explain_result(
        loaded, Config(), RunOptions(), period="2025-06", where={"acv_band": "25k-50k"}
    )
    assert out.frame.height == headline["cohort_logos"].item() > 0
    assert set(out.frame["acv_band"]) == {"25k-50k"}
    assert "exactly the headline figure" in out.notes[0]
    start = out.frame["denominator_arr"].sum()
    assert start == headline["cohort_start_arr"].item()
    stage = explain_result(
        load_input(path, Config(), RunOptions()),
        Config(),
        RunOptions(),
        period="2025-06",
        metric="bridge",
        where={"arr_stage": "5M-25M"},
    )
    assert "exactly" in stage.notes[0]


def test_starter_config_shows_bands_and_distribution_with_their_defaults() -> None:
    import re

    import yaml

    from retention_cli.config import STARTER_CONFIG, parse_config

    assert "# bands:" in STARTER_CONFIG
    assert "# distribution:" in STARTER_CONFIG
    assert parse_config(yaml.safe_load(STARTER_CONFIG)) == Config()  # commented out: the defaults
    for section in ("bands", "distribution"):
        block = re.search(rf"^# {section}:\n(?:#   .*\n)+", STARTER_CONFIG, re.M)
        assert block is not None, section
        live = re.sub(r"^# ?", "", block.group(0), flags=re.M)
        # uncommented, each block states exactly the defaults
        assert parse_config(yaml.safe_load(live)) == Config(), section
        assert live.count("\n") > 2


def test_credit_split_with_segments_and_in_the_report_csv(runner, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from retention_cli.cli import app

    path = tmp_path / "seg.csv"
    path.write_text(
        "date,account_id,type,amount,sourced_by,segment\n"
        "2026-01-05,acme,new,12000,sales,SMB\n"
        "2026-02-03,acme,expansion,3000,cs,SMB\n"
        "2026-01-06,b,new,500,cs,ENT\n",
        encoding="utf-8",
    )
    # the split is company-wide: with --by its rows are the total rows
    r = runner.invoke(app, ["mix", str(path), "--credit", "sourced_by", "--by", "segment",
                            "-f", "csv"])  # fmt: skip
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == (
        "period,start,end,segment,credit,new_arr,reactivation_arr,expansion_arr,"
        "gross_new_arr,credit_share"
    )
    assert lines[1] == "2026-01,2026-01-01,2026-01-31,(total),cs,500.00,0.00,0.00,500.00,0.04"
    # the report's long CSV keeps the team as a column beside the metric
    r = runner.invoke(app, ["report", str(path), "--credit", "sourced_by", "-f", "csv"])
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "section,period,start,end,credit,metric,value"
    assert "credit,2026-02,2026-02-01,2026-02-28,cs,expansion_arr,3000.00" in lines
    assert "summary,2026-01,2026-01-01,2026-01-31,,end_arr,12500.00" in lines
    # without a credit the long CSV has no credit column
    r = runner.invoke(app, ["report", str(path), "-f", "csv"])
    assert r.stdout.splitlines()[0] == "section,period,start,end,metric,value"


@settings(max_examples=30, deadline=None)
@given(
    h=histories(),
    grain=st.sampled_from(list(rc.Grain)),
    mode=st.sampled_from(list(rc.BridgeMode)),
)
def test_report_credit_section_sums_to_the_bridge(h: dict, grain: Grain, mode: object) -> None:
    opts = RunOptions(credit="segment", grain=grain, bridge=mode)  # type: ignore[arg-type]
    report = compute_report(rc.load_frame(as_movements(h)), Config(), opts)
    credit = report.sections["credit"].frame
    sums = credit.group_by("period").agg(
        pl.col(k).sum() for k in ("new_arr", "reactivation_arr", "expansion_arr")
    )
    bridge = report.sections["bridge"].frame.select(
        "period", "new_arr", "reactivation_arr", "expansion_arr"
    )
    assert (
        bridge.join(sums, on="period", suffix="_c")
        .filter(
            (pl.col("new_arr") != pl.col("new_arr_c"))
            | (pl.col("reactivation_arr") != pl.col("reactivation_arr_c"))
            | (pl.col("expansion_arr") != pl.col("expansion_arr_c"))
        )
        .is_empty()
    )
    assert sums.height == bridge.height
