"""Commands and metric keys as data: every key a command outputs has a spec."""

from __future__ import annotations

import pytest

from retention_cli.commands import COMMANDS, METRIC_COMMANDS, REPORT_SECTIONS, command_spec
from retention_cli.errors import UsageError
from retention_cli.keys import CHECKABLE, KEYS, Direction, Kind, spec_for
from retention_cli.metrics import ECONOMICS_KEYS
from retention_cli.spend import SPEND_COLUMNS


def test_cohort_ages_are_ratios_labelled_by_age() -> None:
    # hazard: a cohort matrix at quarter or year grain shown as plain numbers
    for key, label in (("month_3", "3"), ("quarter_12", "12"), ("year_1", "1")):
        spec = spec_for(key)
        assert (spec.kind, spec.label, spec.heat) == (Kind.ratio, label, True)


def test_unknown_key_is_plain_under_its_own_name() -> None:
    # a dimension column (explain shows them) keeps its name and its type's alignment
    spec = spec_for("segment")
    assert (spec.kind, spec.label, spec.direction) == (Kind.plain, "segment", Direction.unchecked)


def test_every_metric_key_has_a_spec() -> None:
    # hazard: a new metric key added without a KeySpec prints cents as a plain integer
    keys = {k for name in METRIC_COMMANDS for k in COMMANDS[name].keys}
    keys |= {*ECONOMICS_KEYS, *SPEND_COLUMNS}
    missing = sorted(k for k in keys if k not in KEYS)
    assert missing == []


def test_money_keys_are_not_checked_without_a_direction() -> None:
    assert "nrr" in CHECKABLE
    assert "start_arr" not in CHECKABLE
    assert KEYS["cac_payback_months"].unit == "months"


def test_report_sections_in_order() -> None:
    assert REPORT_SECTIONS == (
        "summary",
        "credit",
        "bridge",
        "retention",
        "churn",
        "mix",
        "cohorts",
        "economics",
    )


def test_unknown_command_names_the_parameter() -> None:
    with pytest.raises(UsageError) as err:
        command_spec("retention")
    assert err.value.param == "command"
    assert str(err.value).startswith("command: unknown command 'retention'")
