"""One declaration per input check and per canonical column, shared by both readers.

The hazard: the one-pass reader for plain files once restated the full parser's
rules, so a column or a check added to one was silently missing from the other.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from retention_cli.config import CANONICAL_COLUMNS, Fx, parse_config
from retention_cli.errors import InputError
from retention_cli.inputs import Loaded, Rules, fast_load, load, parse_table, read_table
from retention_cli.inputs.checks import (
    CHECKS,
    DUPLICATE_ROW,
    DUPLICATE_SNAPSHOT,
    ROW_CHECKS,
    STATE_CHECKS,
)
from retention_cli.inputs.columns import (
    AUTO_COLUMNS,
    COLUMN_KINDS,
    FIELD_ORDER,
    REQUIRED,
    RULE_COLUMNS,
)
from retention_cli.inputs.fast import FALLBACK_KINDS, PLAIN_PARSERS

MOVES = "date,account_id,type,amount,segment\n"
SNAPS = "date,account_id,arr,segment\n"
SUBS = "account_id,start_date,end_date,arr\n"
FX = Fx(reporting_currency="USD", rates={"EUR": Decimal("1.08")})

# a plain file for each canonical column (the first that carries it is used)
PLAIN_FILES = {
    "movements": MOVES + "2025-01-05,a,new,100.50,SMB\n2025-03-05,a,expansion,20,SMB\n"
    "2025-02-05,b,new,7,Ent\n2025-06-05,b,churn,7,Ent\n",
    "snapshots_arr": SNAPS + "2025-01-31,a,100,SMB\n2025-02-28,a,120.25,SMB\n",
    "snapshots_mrr": "date,account_id,mrr\n2025-01-31,a,10.01\n2025-02-28,b,3\n",
    "subscriptions": SUBS + "a,2025-01-01,,100\nb,2025-02-01,2025-05-01,50.5\n",
    "currency": "date,account_id,arr,currency\n2025-01-31,a,100,EUR\n2025-02-28,a,100,EUR\n",
}


def full_parse(path: Path, fx: Fx | None = None) -> Loaded:
    raw, source = read_table(str(path))
    return parse_table(raw, source, fx=fx)


def fields_of(path: Path) -> set[str]:
    return set(pl.read_csv(path, n_rows=0).columns)


def test_every_canonical_column_has_one_kind_and_each_kind_a_fast_answer() -> None:
    assert tuple(COLUMN_KINDS) == CANONICAL_COLUMNS
    for kind in set(COLUMN_KINDS.values()):
        # the fast path parses it, or says why the full parser must
        assert (kind in PLAIN_PARSERS) != (kind in FALLBACK_KINDS), kind


def test_each_shape_parses_the_columns_it_requires() -> None:
    for shape, required in REQUIRED.items():
        assert set(FIELD_ORDER[shape]) == set(required), shape


def test_every_row_check_applies_to_a_known_column_kind() -> None:
    kinds = set(COLUMN_KINDS.values())
    for check in ROW_CHECKS:
        targets = {COLUMN_KINDS.get(on, on) for on in check.on}
        assert targets <= kinds, (check.id, targets - kinds)
    ids = [c.id for c in (*ROW_CHECKS, *STATE_CHECKS)]
    assert len(ids) == len(set(ids)) == len(set(ids) & set(CHECKS))


@pytest.mark.parametrize("canonical", RULE_COLUMNS)
def test_a_rule_column_is_used_only_when_mapped_and_then_the_full_parser_reads(
    tmp_path: Path, canonical: str
) -> None:
    path = tmp_path / "s.csv"
    path.write_text(f"date,account_id,arr,{canonical}\n2025-01-31,a,100,1\n")
    plain = fast_load(str(path), columns=None, shape=None, separator=None)
    assert plain is not None
    assert canonical in plain.dimensions  # not mapped: a dimension like any other
    mapped = fast_load(str(path), columns={canonical: canonical}, shape=None, separator=None)
    assert mapped is None  # mapped: the rules are the full parser's


@pytest.mark.parametrize("canonical", AUTO_COLUMNS)
def test_a_file_with_each_canonical_column_reads_the_same_on_both_paths(
    tmp_path: Path, canonical: str
) -> None:
    for name, text in PLAIN_FILES.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text)
        if canonical in fields_of(path):
            break
    else:
        pytest.fail(f"no test file carries {canonical!r}: add one to PLAIN_FILES")
    full = full_parse(path, FX)
    fast = fast_load(str(path), columns=None, shape=None, separator=None)
    if fast is None:  # declined: only for a kind the fast path leaves to the full parser
        kinds = {COLUMN_KINDS[c] for c in fields_of(path) if c in COLUMN_KINDS}
        assert kinds & set(FALLBACK_KINDS), f"{name}: declined a plain file"
        return
    assert_frame_equal(fast.frame.with_columns(pl.col(pl.Categorical).cast(pl.String)), full.frame)
    assert (fast.shape, fast.dimensions, fast.warnings) == (
        full.shape,
        full.dimensions,
        full.warnings,
    )


# one file per check id that only that check rejects (with the fx config where it matters)
CHECK_CASES: dict[str, str] = {
    "missing_value": MOVES + "2025-01-05, ,new,100,SMB\n",
    "missing_date": MOVES + ",a,new,100,SMB\n",
    "bad_date": MOVES + "2025-13-05,a,new,100,SMB\n",
    "end_before_start": SUBS + "a,2025-03-01,2025-02-01,100\n",
    "unknown_type": MOVES + "2025-01-05,a,upsell,100,SMB\n",
    "missing_amount": MOVES + "2025-01-05,a,new,,SMB\n",
    "bad_money": MOVES + "2025-01-05,a,new,12x,SMB\n",
    "money_out_of_range": SNAPS + "2025-01-31,a,99999999999999999999,SMB\n",
    "negative_amount": MOVES + "2025-01-05,a,new,-100,SMB\n",
    "negative_arr": SNAPS + "2025-01-31,a,-5,SMB\n",
    "missing_currency": "date,account_id,arr,currency\n2025-01-31,a,5,\n",
    "unknown_currency": "date,account_id,arr,currency\n2025-01-31,a,5,GBP\n",
    "new_with_arr": MOVES + "2025-01-05,a,new,100,S\n2025-02-05,a,new,50,S\n",
    "expansion_without_arr": MOVES + "2025-01-05,a,expansion,10,S\n",
    "contraction_without_arr": MOVES + "2025-01-05,a,contraction,10,S\n",
    "contraction_below_zero": MOVES + "2025-01-05,a,new,100,S\n2025-02-05,a,contraction,150,S\n",
    "churn_without_arr": MOVES + "2025-01-05,a,churn,10,S\n",
    "churn_amount_differs": MOVES + "2025-01-05,a,new,100,S\n2025-02-05,a,churn,60,S\n",
    "reactivation_unseen": MOVES + "2025-01-05,a,reactivation,100,S\n",
    "reactivation_with_arr": MOVES + "2025-01-05,a,new,100,S\n2025-02-05,a,reactivation,5,S\n",
    "duplicate_snapshot": SNAPS + "2025-04-30,c,5,S\n2025-04-30,c,6,S\n",
    "duplicate_row": SUBS + "a,2025-01-01,,100\na,2025-01-01,,100\n",
    "currency_marker_mismatch": MOVES + "2025-01-05,a,new,€100,S\n",
    "decimal_comma": MOVES + '2025-01-05,a,new,"1.234,56",S\n',
    "nul_in_id": MOVES + "2025-01-05,a\x00b,new,100,S\n",
    "mixed_currency_markers": MOVES + "2025-01-05,a,new,$100,S\n2025-01-05,b,new,£5,S\n",
    "several_currency_markers": MOVES + "2025-01-05,a,new,$€100,S\n",
}

# the checks of the reading rules: (file, config) that only that check rejects
ITEMS = "date,account_id,item,arr\n"
PRICES = "account_id,start_date,end_date,amount,interval,quantity,status\n"
PRICE_COLUMNS = {"interval": "interval", "quantity": "quantity", "status": "status"}
PRICE_CONFIG = {
    "columns": PRICE_COLUMNS,
    "statuses": {"count": ["active"], "exclude": ["trialing"]},
}
RULE_CHECK_CASES: dict[str, tuple[str, dict[str, object]]] = {
    "duplicate_item": (
        ITEMS + "2025-01-31,a,x,5\n2025-01-31,a,x,6\n",
        {"columns": {"item_id": "item"}},
    ),
    "minor_units_fraction": (SNAPS + "2025-01-31,a,5.5,S\n", {"amount": {"minor_units": True}}),
    "price_out_of_range": (PRICES + "a,2025-01-01,,99999999999999,month,1,active\n", PRICE_CONFIG),
    "bad_number": (PRICES + "a,2025-01-01,,10,month,two,active\n", PRICE_CONFIG),
    "negative_quantity": (PRICES + "a,2025-01-01,,10,month,-2,active\n", PRICE_CONFIG),
    "quantity_out_of_range": (PRICES + "a,2025-01-01,,10,month,2000000,active\n", PRICE_CONFIG),
    "bad_interval": (PRICES + "a,2025-01-01,,10,fortnight,1,active\n", PRICE_CONFIG),
    "missing_interval": (PRICES + "a,2025-01-01,,10,,1,active\n", PRICE_CONFIG),
    "missing_status": (PRICES + "a,2025-01-01,,10,month,1,\n", PRICE_CONFIG),
    "unknown_status": (PRICES + "a,2025-01-01,,10,month,1,paused\n", PRICE_CONFIG),
    "bad_percent": (
        "date,account_id,arr,pct\n2025-01-31,a,10,120\n",
        {"columns": {"discount_percent": "pct"}},
    ),
    "bad_integer": (
        "date,account_id,arr,interval,n\n2025-01-31,a,10,month,x\n",
        {"columns": {"interval": "interval", "interval_count": "n"}},
    ),
    "bad_interval_count": (
        "date,account_id,arr,interval,n\n2025-01-31,a,10,month,0\n",
        {"columns": {"interval": "interval", "interval_count": "n"}},
    ),
}


@pytest.mark.parametrize("check", sorted(RULE_CHECK_CASES))
def test_each_rule_check_rejects_its_case(tmp_path: Path, check: str) -> None:
    text, data = RULE_CHECK_CASES[check]
    path = tmp_path / "f.csv"
    path.write_text(text)
    config = parse_config(data)
    with pytest.raises(InputError) as err:
        load(str(path), columns=config.columns, rules=Rules.of(config))
    assert {p.check for p in err.value.problems} == {check}


FRAME_CHECKS = {c.id for c in STATE_CHECKS} | {DUPLICATE_SNAPSHOT.id, DUPLICATE_ROW.id}


def test_every_check_has_a_case() -> None:
    # snapshot_gap is a warning of `retention validate`, not an input error
    # reserved_segment is checked on the --by columns only (tests/test_reads.py)
    assert set(CHECK_CASES) | set(RULE_CHECK_CASES) == set(CHECKS) - {
        "snapshot_gap",
        "reserved_segment",
    }


@pytest.mark.parametrize("check", sorted(CHECK_CASES))
def test_each_check_is_run_by_the_fast_path_or_makes_it_decline(tmp_path: Path, check: str) -> None:
    path = tmp_path / "f.csv"
    path.write_text(CHECK_CASES[check])
    with pytest.raises(InputError) as full:
        full_parse(path, FX)
    assert check in {p.check for p in full.value.problems}
    if check in FRAME_CHECKS:  # across rows: run on the fast path's frame too
        with pytest.raises(InputError) as fast:
            fast_load(str(path), columns=None, shape=None, separator=None)
        assert check in {p.check for p in fast.value.problems}
    else:  # a row check: the fast path runs it and declines the file
        declined = fast_load(str(path), columns=None, shape=None, separator=None)
        assert declined is None, f"the fast path accepted a file the {check!r} check rejects"
    with pytest.raises(InputError) as either:
        load(str(path), fx=FX)
    assert check in {p.check for p in either.value.problems}


def test_validate_groups_by_check_id_in_a_stable_order(tmp_path: Path) -> None:
    # several checks first seen on one line came out in a random order
    from retention_cli.config import Config
    from retention_cli.validate import validate

    path = tmp_path / "m.csv"
    path.write_text(MOVES + "2025-01-05,a,new,-1,S\n2025-01-05,b,expansion,-1,S\n, ,upsell,12x,S\n")
    table, _ = validate(load(str(path), on_invalid="report"), Config())
    assert table.select("check", "column").rows() == [
        ("negative amount for a new movement (it adds ARR)", "amount"),
        ("negative amount for a expansion movement (it adds ARR)", "amount"),
        ("missing value", "account_id"),
        ("missing date", "date"),
        (
            "unknown movement type (expected one of: new, expansion, contraction, churn, reactivation)",
            "type",
        ),
        ("not a number (expected e.g. 1234.50, 1,234.50, $1,234.50 or (1,234.50))", "amount"),
    ]
