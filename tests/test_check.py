"""`retention check`: the CI gate (SPEC §11), on the tiny data set.

At 2026-01 (12-month window) the tiny data has NRR 3800/4500 = 84.4% and GRR
3300/4500 = 73.3% (see tests/test_hand_examples.py).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retention_cli.check import parse_tolerance
from retention_cli.cli import app
from tests.conftest import EXAMPLES, pin_terminal

TINY = EXAMPLES / "tiny_movements.csv"
# A churns its 1500 on 2026-01-20: NRR at 2026-01 becomes (0 + 1500 + 800 + 0) / 4500 = 51.1%
CHURN_A = "2026-01-20,A,churn,1500.00,SMB\n"


@pytest.fixture(scope="module")
def baselines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """baseline.json and by_segment.json of the tiny data (as same.csv): made once per
    module, each test gets fresh copies (:func:`files`)."""
    where = tmp_path_factory.mktemp("baselines")
    (where / "same.csv").write_text(TINY.read_text())
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as mp:
        pin_terminal(mp)
        mp.chdir(where)
        out = runner.invoke(app, ["report", "same.csv", "-f", "json", "-o", "baseline.json", "-q"])
        assert out.exit_code == 0, out.stderr
        seg = runner.invoke(
            app,
            ["report", "same.csv", "--by", "segment", "-f", "json", "-o", "by_segment.json", "-q"],
        )
        assert seg.exit_code == 0, seg.stderr
    return {name: (where / name).read_bytes() for name in ("baseline.json", "by_segment.json")}


@pytest.fixture
def files(in_tmp: Path, baselines: dict[str, bytes]) -> Path:
    """baseline.json from the tiny data; churned.csv with one more churn; no_ent.csv without
    the Enterprise accounts (B, E)."""
    text = TINY.read_text()
    (in_tmp / "same.csv").write_text(text)
    (in_tmp / "churned.csv").write_text(text + CHURN_A)
    lines = text.splitlines(keepends=True)
    (in_tmp / "no_ent.csv").write_text("".join(x for x in lines if ",Enterprise" not in x))
    for name, content in baselines.items():
        (in_tmp / name).write_bytes(content)
    return in_tmp


def check(runner: CliRunner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["check", *args])


def test_identical_data_passes(runner: CliRunner, files: Path) -> None:
    out = check(runner, "same.csv", "--baseline", "baseline.json", "-f", "json")
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    rows = doc["periods"]
    assert {r["status"] for r in rows} == {"pass"}
    assert {r["period"] for r in rows} == {"2026-01"}  # the latest period by default
    nrr = next(r for r in rows if r["metric"] == "nrr")
    assert nrr["baseline"] == nrr["now"] == pytest.approx(3800 / 4500)
    assert nrr["change"] == 0.0


def test_injected_churn_fails_with_exit_1(runner: CliRunner, files: Path) -> None:
    out = check(runner, "churned.csv", "--baseline", "baseline.json", "-f", "json")
    assert out.exit_code == 1
    rows = {r["metric"]: r for r in json.loads(out.stdout)["periods"]}
    assert rows["nrr"]["status"] == "fail"
    assert rows["nrr"]["now"] == pytest.approx(2300 / 4500)  # 1500 + 800 over 4500
    assert rows["nrr"]["change"] == pytest.approx(2300 / 4500 - 3800 / 4500)
    # churn went up: a rise in a churn rate is a regression too
    assert rows["logo_churn_rate"]["status"] == "fail"  # 1/4 -> 2/4
    assert rows["logo_churn_rate"]["change"] == pytest.approx(0.25)
    table = check(runner, "churned.csv", "--baseline", "baseline.json")
    assert "FAIL" in table.stdout
    assert "-33.3pp" in table.stdout  # NRR 84.4% -> 51.1%


@pytest.mark.parametrize("tolerance", ["40pp", "0.4"])
def test_tolerance_lets_the_same_change_pass(
    runner: CliRunner, files: Path, tolerance: str
) -> None:
    # the worst move is NRR -33.3pp (84.4% -> 51.1%, 39.5% of the baseline)
    out = check(runner, "churned.csv", "--baseline", "baseline.json", "--max-drop", tolerance)
    assert out.exit_code == 0, out.stdout
    tight = check(runner, "churned.csv", "--baseline", "baseline.json", "--max-drop", "30pp")
    assert tight.exit_code == 1


def test_relative_tolerance(runner: CliRunner, files: Path) -> None:
    # NRR fell 33.3pp, 39.5% of its 84.4% baseline; a churn rate rising from 0 has no room at all
    args = ["churned.csv", "--baseline", "baseline.json", "--metrics", "nrr"]
    assert check(runner, *args, "--max-drop", "40%").exit_code == 0
    assert check(runner, *args, "--max-drop", "39%").exit_code == 1
    churn = ["churned.csv", "--baseline", "baseline.json", "--metrics", "period_logo_churn_rate"]
    assert check(runner, *churn, "--max-drop", "1000%").exit_code == 1


def test_per_metric_tolerance_in_thresholds(runner: CliRunner, files: Path) -> None:
    (files / "t.yaml").write_text(
        "nrr: {max_drop: 35pp}\nnet_revenue_churn: {max_drop: 35pp}\n"
        "grr: {max_drop: 35pp}\ngross_revenue_churn: {max_drop: 35pp}\n"
        "logo_retention: {max_drop: 30pp}\nlogo_churn_rate: {max_drop: 30pp}\n"
        "period_logo_churn_rate: {max_drop: 30pp}\nperiod_gross_revenue_churn: {max_drop: 30pp}\n"
        "period_net_revenue_churn: {max_drop: 30pp}\n"
    )
    out = check(runner, "churned.csv", "--baseline", "baseline.json", "--thresholds", "t.yaml")
    assert out.exit_code == 0, out.stdout


def test_thresholds_min_max_and_segments(runner: CliRunner, files: Path) -> None:
    (files / "t.yaml").write_text(
        "nrr: {min: 0.8}\ngrr: {min: '75%'}\nlogo_churn_rate: {max: 0.3}\n"
        "segments:\n  segment=Enterprise:\n    nrr: {min: 0.7}\n"
    )
    out = check(runner, "same.csv", "--thresholds", "t.yaml", "-f", "json")
    assert out.exit_code == 1  # GRR 73.3% < 75%
    rows = {(r["metric"], r["segment"]): r for r in json.loads(out.stdout)["periods"]}
    assert rows[("nrr", "Total")]["status"] == "pass"  # 84.4% >= 80%
    assert rows[("grr", "Total")]["reason"] == "below min"
    assert rows[("logo_churn_rate", "Total")]["status"] == "pass"  # 25% <= 30%
    # Enterprise cohort: B 2000 -> 1500 = 75% >= 70% (the segment rows come by themselves)
    assert rows[("nrr", "segment=Enterprise")]["now"] == pytest.approx(0.75)
    assert rows[("nrr", "segment=Enterprise")]["status"] == "pass"


def test_missing_segment_fails(runner: CliRunner, files: Path) -> None:
    out = check(
        runner, "no_ent.csv", "--baseline", "by_segment.json", "-f", "json", "--max-drop", "100pp"
    )
    assert out.exit_code == 1
    rows = json.loads(out.stdout)["periods"]
    missing = [r for r in rows if r["reason"] == "missing now"]
    assert missing
    assert {r["segment"] for r in missing} == {"segment=Enterprise"}


def test_junit_and_summary(runner: CliRunner, files: Path) -> None:
    out = check(
        runner, "churned.csv", "--baseline", "baseline.json", "--junit", "j.xml",
        "--summary", "s.md",
    )  # fmt: skip
    assert out.exit_code == 1
    root = ET.parse(files / "j.xml").getroot()
    cases = root.findall(".//testcase")
    failed = [c for c in cases if c.find("failure") is not None]
    verdicts = json.loads(
        check(runner, "churned.csv", "--baseline", "baseline.json", "-f", "json").stdout
    )["periods"]
    assert len(cases) == len(verdicts) == 9
    assert len(failed) == sum(v["status"] == "fail" for v in verdicts)
    assert root.get("failures") == str(len(failed))
    assert "nrr [Total] 2026-01" in failed[0].get("name")
    summary = (files / "s.md").read_text()
    assert summary.startswith("## ❌ retention check: FAIL")
    assert "| FAIL | nrr | Total | 2026-01 | 84.4% | 51.1% | -33.3pp |" in summary


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "baseline.json:1:2: not valid JSON"),
        ('{"periods": []}', "not a retention JSON document (no schema_version)"),
        ('{"schema_version": 99, "periods": []}', "schema_version 99 is not 1"),
        ('{"schema_version": 1}', "has no metric rows"),
    ],
)
def test_unusable_baseline_exits_2(
    runner: CliRunner, files: Path, content: str, expected: str
) -> None:
    (files / "baseline.json").write_text(content)
    out = check(runner, "same.csv", "--baseline", "baseline.json")
    assert out.exit_code == 2
    assert expected in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("nrrr: {min: 1}\n", "unknown metric 'nrrr'; did you mean 'nrr'?"),
        ("nrr: {minimum: 1}\n", "nrr.minimum: Extra inputs are not permitted"),
        ("nrr: [1]\n", "nrr: expected {min: ..., max: ..., max_drop: ...}"),
        ("nrr: {max_drop: lots}\n", "'lots' is not a tolerance"),
        ("segments:\n  SMB:\n    nrr: {min: 1}\n", "'SMB' is not COL=VALUE"),
    ],
)
def test_bad_thresholds_exit_2(runner: CliRunner, files: Path, content: str, expected: str) -> None:
    (files / "t.yaml").write_text(content)
    out = check(runner, "same.csv", "--thresholds", "t.yaml")
    assert out.exit_code == 2
    assert expected in out.stderr


def test_definition_change_is_refused_unless_allowed(runner: CliRunner, files: Path) -> None:
    out = check(runner, "same.csv", "--baseline", "baseline.json", "--method", "bridge")
    assert out.exit_code == 2
    assert "other definitions (method: baseline 'cohort', now 'bridge')" in out.stderr
    ok = check(
        runner, "same.csv", "--baseline", "baseline.json", "--method", "bridge",
        "--allow-definition-change", "--max-drop", "100pp",
    )  # fmt: skip
    assert ok.exit_code == 0
    assert "comparing across a definition change" in ok.stderr


def test_options_come_from_the_baseline(runner: CliRunner, files: Path) -> None:
    runner.invoke(app, ["report", "same.csv", "--grain", "quarter", "-f", "json", "-o", "q.json"])
    out = check(runner, "same.csv", "--baseline", "q.json", "-f", "json")
    assert out.exit_code == 0, out.stderr
    assert {r["period"] for r in json.loads(out.stdout)["periods"]} == {"FY2026-Q1"}
    every = check(runner, "same.csv", "--baseline", "q.json", "--all-periods", "-f", "json")
    assert {r["period"] for r in json.loads(every.stdout)["periods"]} >= {"FY2025-Q4", "FY2026-Q1"}


def test_usage_errors(runner: CliRunner, files: Path) -> None:
    none = check(runner, "same.csv")
    assert none.exit_code == 2
    assert "check needs --baseline FILE, --thresholds FILE or both" in none.stderr
    bad = check(runner, "same.csv", "--baseline", "baseline.json", "--period", "1999-01")
    assert bad.exit_code == 2
    assert "--period: no period '1999-01'" in bad.stderr


def test_parse_tolerance() -> None:
    assert parse_tolerance("0.5pp").limit(0.9) == pytest.approx(0.005)
    assert parse_tolerance("2%").limit(0.9) == pytest.approx(0.018)  # relative to the baseline
    assert parse_tolerance("0.01").limit(123.0) == 0.01


def test_bundled_ci_example_passes(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLES.parent)
    out = check(
        runner, "examples/saas_movements.csv", "--baseline", "examples/ci/baseline.json",
        "--thresholds", "examples/ci/thresholds.yaml", "--max-drop", "0.5pp",
    )  # fmt: skip
    assert out.exit_code == 0, out.stdout + out.stderr
    assert "PASS (14 passed, 0 failed)" in out.stdout


def test_run_check_from_python(files: Path) -> None:
    # the CLI's check is one call of the core: a notebook gets the same verdicts and status
    from retention_cli.check import CheckError, run_check

    same = run_check("same.csv", baseline=Path("baseline.json"))
    assert (same.exit_code, same.failed) == (0, 0)
    churned = run_check("churned.csv", baseline=Path("baseline.json"), metrics=["nrr"])
    assert churned.exit_code == 1
    assert [(v["metric"], v["status"]) for v in churned.verdicts] == [("nrr", "fail")]
    with pytest.raises(CheckError) as err:
        run_check("same.csv", baseline=Path("baseline.json"), period="1999-01")
    assert err.value.param == "period"
    assert str(err.value).startswith("period: no period '1999-01'")  # no CLI flag in the core


# ----------------------------------------------------------------------------- a weakened baseline
def _edit(files: Path, change, name: str = "edited.json") -> str:  # type: ignore[no-untyped-def]
    """``baseline.json`` with ``change(doc)`` applied, written to ``name``."""
    doc = json.loads((files / "baseline.json").read_text())
    change(doc)
    (files / name).write_text(json.dumps(doc))
    return name


def _rehash(doc: dict) -> None:  # type: ignore[type-arg]
    from retention_cli.result import definitions_hash

    doc["definitions_sha256"] = definitions_hash(doc["definitions"])


def _last(section: str, key: str, value: object):  # type: ignore[no-untyped-def]
    def change(doc: dict) -> None:  # type: ignore[type-arg]
        doc[section][-1][key] = value

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("retention"), "section 'retention' is missing"),
        (lambda d: d["retention"][-1].pop("nrr"), "retention: no nrr for 2026-01 (Total)"),
        (lambda d: [r.pop("grr") for r in d["retention"]], "retention: no grr for 2026-01 (Total)"),
        (lambda d: d["churn"][-1].pop("period_logo_churn_rate"),
         "churn: no period_logo_churn_rate for 2026-01 (Total)"),
        (_last("retention", "nrr", "abc"), "retention[12] (2026-01, Total): nrr is 'abc', not a number"),
        (_last("retention", "nrr", True), "nrr is True, not a number"),
        (_last("retention", "nrr", [0.9]), "nrr is [0.9], not a number"),
        (_last("retention", "nrr", None), "nrr is null although cohort_start_arr is 4500.0"),
        (_last("churn", "logo_churn_rate", 0.0),
         "logo_churn_rate is 0.0 here but 0.25 in an earlier section"),
        (lambda d: d.pop("definitions_sha256"), "definitions_sha256: missing"),
        (lambda d: d.update(definitions_sha256="0" * 64), "definitions_sha256: does not match"),
        (lambda d: d["definitions"].update(window=3), "definitions_sha256: does not match"),
        (lambda d: d.pop("definitions"), "definitions: missing"),
        (lambda d: (d["definitions"].pop("method"), _rehash(d)), "definitions: no method"),
        (lambda d: d.update(schema_version=True), "schema_version True is not 1"),
        (lambda d: d.update(schema_version=1.0), "schema_version 1.0 is not 1"),
        (lambda d: d.update(schema_version="1"), "schema_version '1' is not 1"),
        (lambda d: d.update(command="check"), "command: written by `retention check`"),
        (lambda d: d["options"].update(grain="decade"),
         "options.grain: 'decade' is not one of month, quarter, year"),
        (lambda d: d["options"].update(window="12"), "options.window: '12' is not a window"),
        (lambda d: d["options"].update(window=10**30), "is not a window of 1 to 1200"),
        (lambda d: d["options"].update(by="segment"), "options.by: expected a list"),
        (lambda d: d.update(retention={"nrr": 1}), "retention: expected a list of rows"),
        (lambda d: d["retention"].append("row"), "retention[13]: not a metric row"),
    ],
)  # fmt: skip
def test_weakened_baseline_fails_with_exit_2(
    runner: CliRunner, files: Path, change, expected: str
) -> None:
    name = _edit(files, change)
    out = check(runner, "same.csv", "--baseline", name)
    assert out.exit_code == 2, out.stdout
    assert f"error: {name}: " in out.stderr
    assert expected in out.stderr
    assert "internal error" not in out.stderr
    assert "hint: " in out.stderr


def test_baseline_checks_hold_for_thresholds_and_named_metrics(
    runner: CliRunner, files: Path
) -> None:
    # quick_ratio is not compared by default, so its absence is fine ...
    name = _edit(files, lambda d: d["mix"][-1].pop("quick_ratio"))
    assert check(runner, "same.csv", "--baseline", name).exit_code == 0
    # ... but not once a threshold or --metrics names it
    (files / "t.yaml").write_text("quick_ratio: {min: 0}\n")
    for extra in (["--thresholds", "t.yaml"], ["--metrics", "quick_ratio"]):
        out = check(runner, "same.csv", "--baseline", name, *extra)
        assert out.exit_code == 2, extra
        assert f"{name}: mix: no quick_ratio for 2026-01 (Total)" in out.stderr


def test_segment_rows_are_checked_too(runner: CliRunner, files: Path) -> None:
    doc = json.loads((files / "by_segment.json").read_text())
    smb = next(
        r for r in reversed(doc["retention"]) if r["segment"] == "SMB" and r["period"] == "2026-01"
    )
    del smb["nrr"]
    (files / "seg.json").write_text(json.dumps(doc))
    out = check(runner, "same.csv", "--baseline", "seg.json")
    assert out.exit_code == 2
    assert "seg.json: retention: no nrr for 2026-01 (segment=SMB)" in out.stderr


def test_a_period_the_baseline_lacks_is_not_skipped(runner: CliRunner, files: Path) -> None:
    name = _edit(files, lambda d: [d[s].pop() for s in ("bridge", "retention", "churn", "mix")])
    out = check(runner, "same.csv", "--baseline", name, "--period", "2026-01")
    assert out.exit_code == 2
    assert f"{name}: no rows for period 2026-01" in out.stderr


def test_legitimate_nulls_and_single_command_baselines_pass(runner: CliRunner, files: Path) -> None:
    # the first 12 months have no cohort: NRR and the other window ratios are null there
    every = check(runner, "same.csv", "--baseline", "baseline.json", "--all-periods")
    assert every.exit_code == 0, every.stderr
    # a baseline from `nrr` gates what nrr writes; a metric it does not write must be asked for
    assert runner.invoke(app, ["nrr", "same.csv", "-f", "json", "-o", "nrr.json"]).exit_code == 0
    assert check(runner, "same.csv", "--baseline", "nrr.json").exit_code == 0
    variants = ["nrr", "same.csv", "--variants", "-f", "json", "-o", "variants.json"]
    assert runner.invoke(app, variants).exit_code == 0
    assert check(runner, "same.csv", "--baseline", "variants.json").exit_code == 0  # as configured
    named = check(
        runner, "same.csv", "--baseline", "nrr.json", "--metrics", "period_logo_churn_rate"
    )
    assert named.exit_code == 2
    assert "nrr.json: periods: no period_logo_churn_rate for 2026-01 (Total)" in named.stderr


def test_rehashed_definitions_are_compared_with_the_run(runner: CliRunner, files: Path) -> None:
    # a consistent edit passes the tamper check, then meets the definition-change check
    name = _edit(files, lambda d: (d["definitions"].update(method="bridge"), _rehash(d)))
    out = check(runner, "same.csv", "--baseline", name)
    assert out.exit_code == 2
    assert "other definitions (method: baseline 'bridge', now 'cohort')" in out.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("nrr: {min: [1, 2]}\n", "nrr.min: expected a number such as 0.9 or '90%', not list"),
        ("nrr: {max: {a: 1}}\n", "nrr.max: expected a number"),
        ("nrr: {min: true}\n", "nrr.min: expected a number such as 0.9 or '90%', not bool"),
        ("nrr: {min: .nan}\n", "nrr.min: expected a finite number"),
        ("nrr: {max: .inf}\n", "nrr.max: expected a finite number"),
        ("nrr: {min: abc}\n", "nrr.min: could not convert string to float"),
    ],
)
def test_threshold_limits_must_be_numbers(
    runner: CliRunner, files: Path, content: str, expected: str
) -> None:
    (files / "t.yaml").write_text(content)
    out = check(runner, "same.csv", "--thresholds", "t.yaml")
    assert out.exit_code == 2
    assert expected in out.stderr
    assert "internal error" not in out.stderr
