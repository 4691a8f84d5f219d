"""Real exports read right (issue 14): the general reading rules and the Stripe preset.

Expected numbers are worked out by hand in the comments, never produced by the tool.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from retention_cli.calendar import FiscalCalendar
from retention_cli.cli import app
from retention_cli.config import Config, ConfigError, parse_config
from retention_cli.errors import InputError
from retention_cli.inputs import Loaded, Rules, load
from retention_cli.inputs.presets import with_preset
from retention_cli.inputs.rules import MINOR_UNIT_DIGITS
from retention_cli.ledger import build_ledger
from retention_cli.metrics import bridge
from retention_cli.options import Grain
from retention_cli.service import RunOptions, load_input
from tests.conftest import EXAMPLES

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# the header line of a Stripe Dashboard subscriptions export (VENDOR-EXPORTS.md)
STRIPE_HEADER = (
    "id,Customer ID,Customer Name,Customer Email,Customer Description,Plan,Product,Quantity,"
    "Currency,Interval,Amount,Status,Created (UTC),Start (UTC),Start Date (UTC),"
    "Current Period Start (UTC),Current Period End (UTC),Trial Start (UTC),Trial End (UTC),"
    "Application Fee Percent,Coupon,Tax Percent,Canceled At (UTC),Cancel At Period End,"
    "Ended At (UTC),Cancellation Reason"
)


def stripe_row(
    sub: str,
    customer: str,
    quantity: str,
    interval: str,
    amount: str,
    status: str,
    start: str,
    *,
    trial_end: str = "",
    canceled_at: str = "",
    ended_at: str = "",
    period_end: str = "",
    at_period_end: str = "false",
) -> str:
    return ",".join([
        sub, customer, f"{customer} Inc", f"ops@{customer}.io", "", "price_x", "Product",
        quantity, "usd", interval, amount, status, start, start, start, start, period_end,
        start if trial_end else "", trial_end, "", "", "", canceled_at, at_period_end,
        ended_at, "",
    ])  # fmt: skip


STRIPE_ROWS = [
    # cus_A: 5 seats x 49.00 a month = 245.00 MRR = 2,940.00 ARR from 2024-01-10
    stripe_row("sub_1", "cus_A", "5", "month", "49.00", "active", "2024-01-10 09:12"),
    # cus_A: a second subscription, 1,200.00 a year = 1,200.00 ARR from 2024-03-05 (expansion)
    stripe_row("sub_2", "cus_A", "1", "year", "1200.00", "active", "2024-03-05 10:00"),
    # cus_B: 1,200.00 a year from 2024-01-01; cancellation requested 2024-04-02 (at period
    # end, ended 2025-01-01): Stripe stops MRR at the request, so April ends at 0 (churn)
    stripe_row("sub_3", "cus_B", "1", "year", "1200.00", "canceled", "2024-01-01 00:00",
               canceled_at="2024-04-02 08:00", ended_at="2025-01-01 00:00", at_period_end="true"),
    # cus_C: 2 x 99.00 a month = 198.00 MRR = 2,376.00 ARR, counted from the trial's end 2024-02-03
    stripe_row("sub_4", "cus_C", "2", "month", "99.00", "active", "2024-01-20 00:00",
               trial_end="2024-02-03 00:00"),
    # cus_D: still trialing: excluded
    stripe_row("sub_5", "cus_D", "1", "month", "49.00", "trialing", "2024-06-20 00:00",
               trial_end="2024-07-04 00:00"),
    # cus_E: 300.00 every 3 months = 100.00 MRR = 1,200.00 ARR from 2024-02-15 (past_due counts)
    stripe_row("sub_6", "cus_E", "1", "every 3 months", "300.00", "past_due", "2024-02-15 00:00"),
    # cus_F: 3 x 10.00 a week = 3 x 10 x 52 = 1,560.00 ARR from 2024-06-01
    stripe_row("sub_7", "cus_F", "3", "week", "10.00", "active", "2024-06-01 00:00"),
    # cus_G: incomplete: excluded
    stripe_row("sub_8", "cus_G", "1", "month", "10.00", "incomplete", "2024-03-03 00:00"),
    # cus_H: started and canceled on 2024-03-01: same-day, excluded with a warning
    stripe_row("sub_9", "cus_H", "1", "month", "10.00", "canceled", "2024-03-01 10:00",
               canceled_at="2024-03-01 10:05", ended_at="2024-03-01 10:05"),
    # cus_I: canceled 2024-04-10, during its trial (ends 2024-04-15): never counted
    stripe_row("sub_10", "cus_I", "1", "month", "10.00", "canceled", "2024-04-01 00:00",
               trial_end="2024-04-15 00:00", canceled_at="2024-04-10 00:00",
               ended_at="2024-04-10 00:00"),
    # cus_J: 10.00 a day = 10 x 365 = 3,650.00 ARR from 2024-05-02
    stripe_row("sub_11", "cus_J", "1", "day", "10.00", "active", "2024-05-02 00:00"),
]  # fmt: skip

# month-end ARR by hand, in cents (accounts with none are absent)
EXPECTED = {
    # A 2,940 + B 1,200
    "2024-01": {"cus_A": 294_000, "cus_B": 120_000},
    # + C 2,376 (trial ended 02-03) + E 1,200
    "2024-02": {"cus_A": 294_000, "cus_B": 120_000, "cus_C": 237_600, "cus_E": 120_000},
    # A 2,940 + 1,200 = 4,140
    "2024-03": {"cus_A": 414_000, "cus_B": 120_000, "cus_C": 237_600, "cus_E": 120_000},
    # B canceled on 04-02
    "2024-04": {"cus_A": 414_000, "cus_C": 237_600, "cus_E": 120_000},
    # + J 3,650
    "2024-05": {"cus_A": 414_000, "cus_C": 237_600, "cus_E": 120_000, "cus_J": 365_000},
    # + F 1,560
    "2024-06": {
        "cus_A": 414_000, "cus_C": 237_600, "cus_E": 120_000, "cus_J": 365_000, "cus_F": 156_000,
    },
}  # fmt: skip


def text_of(err: pytest.ExceptionInfo[InputError]) -> str:
    """An input error as the user reads it: the problems, their values and the hint."""
    e = err.value
    lines = [str(e), *(f"{p.message} ({p.value})" for p in e.problems), e.hint or ""]
    return "\n".join(lines)


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def stripe_file(tmp_path: Path) -> str:
    return write(tmp_path / "subscriptions.csv", "\n".join([STRIPE_HEADER, *STRIPE_ROWS]) + "\n")


def read(path: str, config: Config | None = None, **opts: object) -> Loaded:
    return load_input(path, config or Config(), RunOptions(**opts))  # type: ignore[arg-type]


def arr_by_month(loaded: Loaded) -> dict[str, dict[str, int]]:
    """Each account's ARR (cents) at each month end, from the ledger."""
    cal = FiscalCalendar()
    ledger = build_ledger(loaded, cal)
    assert ledger.accounts is not None
    frame = ledger.collect().join(ledger.accounts, on="account_id").filter(pl.col("arr") != 0)
    out: dict[str, dict[str, int]] = {}
    for period, account, arr in frame.select("period", "account", "arr").iter_rows():
        out.setdefault(cal.label(period, Grain.month), {})[account] = arr
    return out


# ----------------------------------------------------------------------------- Stripe
def test_stripe_export_gives_the_hand_computed_arr(tmp_path: Path) -> None:
    loaded = read(stripe_file(tmp_path), preset="stripe")
    assert arr_by_month(loaded) == EXPECTED
    # every row accounted for: 11 read = 7 used + 4 excluded, each by its rule
    assert loaded.source.rows_read == 11
    assert loaded.excluded == {
        "trialing": 1, "incomplete": 1, "canceled in trial": 1, "same-day": 1,
    }  # fmt: skip
    assert loaded.rows_used == 7
    assert loaded.summary() == (
        "read 11 rows (preset stripe): 7 used, 1 incomplete excluded, 1 trialing excluded, "
        "1 canceled in trial excluded, 1 same-day excluded"
    )


def test_a_stripe_header_without_the_preset_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        read(stripe_file(tmp_path))
    assert "this looks like a Stripe subscriptions export: add --preset stripe" in text_of(err)


def test_preset_in_the_config_and_user_keys_win(tmp_path: Path) -> None:
    path = stripe_file(tmp_path)
    cfg = parse_config({"preset": "stripe", "cancellation": "at_period_end"})
    merged = with_preset(cfg)
    assert merged.cancellation == "at_period_end"  # the user's key
    assert merged.columns["account_id"] == "Customer ID"  # the preset's
    by_month = arr_by_month(read(path, cfg))
    # at period end, cus_B runs to its end (2025-01-01), so it is still there in April-June
    assert by_month["2024-04"]["cus_B"] == 120_000
    assert by_month["2024-06"]["cus_B"] == 120_000


def test_cli_presets_list_show_and_json_accounting(tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["presets"])
    assert listed.exit_code == 0
    assert any(line.startswith("stripe ") for line in listed.stdout.splitlines())
    shown = runner.invoke(app, ["presets", "show", "stripe"])
    assert shown.exit_code == 0
    assert 'account_id: "Customer ID"' in shown.stdout
    unknown = runner.invoke(app, ["presets", "show", "nope"])
    assert unknown.exit_code == 2
    out = runner.invoke(app, ["bridge", stripe_file(tmp_path), "--preset", "stripe", "-f", "json"])
    assert out.exit_code == 0, out.stderr
    info = json.loads(out.stdout)["input"]
    assert info["preset"] == "stripe"
    assert (
        info["rows_read"]
        == info["rows_used"] + sum(info["excluded"].values()) + info["rows_skipped"]
    )
    assert info["rows_read"] == 11
    assert info["rows_used"] == 7
    assert info["excluded"] == {
        "incomplete": 1,
        "trialing": 1,
        "canceled in trial": 1,
        "same-day": 1,
    }
    assert "read 11 rows (preset stripe): 7 used" in out.stderr
    validate = runner.invoke(app, ["validate", stripe_file(tmp_path), "--preset", "stripe"])
    assert validate.exit_code == 0
    assert "1 trialing excluded" in validate.stdout


# ----------------------------------------------------------------------------- equivalence
def history_as_snapshots() -> str:
    rows = [
        f"{month}-28,{account},{cents / 100:.2f}"
        for month, accounts in EXPECTED.items()
        for account, cents in accounts.items()
    ]
    return "\n".join(["date,account_id,arr", *rows]) + "\n"


MOVEMENTS = """date,account_id,type,amount
2024-01-10,cus_A,new,2940.00
2024-01-01,cus_B,new,1200.00
2024-02-03,cus_C,new,2376.00
2024-02-15,cus_E,new,1200.00
2024-03-05,cus_A,expansion,1200.00
2024-04-02,cus_B,churn,1200.00
2024-05-02,cus_J,new,3650.00
2024-06-01,cus_F,new,1560.00
"""


def test_the_same_history_as_stripe_snapshots_and_movements_gives_one_bridge(
    tmp_path: Path,
) -> None:
    bridges = {}
    for name, loaded in {
        "stripe": read(stripe_file(tmp_path), preset="stripe"),
        "snapshots": read(write(tmp_path / "s.csv", history_as_snapshots())),
        "movements": read(write(tmp_path / "m.csv", MOVEMENTS)),
    }.items():
        b = bridge(build_ledger(loaded, FiscalCalendar()))
        bridges[name] = b.filter(
            pl.col("start_arr").is_not_null() & (pl.col("period") != "2024-01")
        )
    assert bridges["stripe"].height == 5
    assert bridges["stripe"].equals(bridges["movements"])
    assert bridges["stripe"].equals(bridges["snapshots"])


# ----------------------------------------------------------------------------- line items
def test_two_rows_of_one_account_on_one_date_are_an_error_naming_both_lines(
    tmp_path: Path,
) -> None:
    # 1,000 + 1,000 was read as 1,000 with a warning: lost revenue
    path = write(tmp_path / "s.csv", "date,account_id,arr\n2024-01-31,a,1000\n2024-01-31,a,1000\n")
    with pytest.raises(InputError) as err:
        read(path)
    text = text_of(err)
    assert "lines 2, 3" in text
    assert "--column item_id=" in text
    assert "snapshots: {combine: sum}" in text
    summed = read(path, parse_config({"snapshots": {"combine": "sum"}}))
    assert arr_by_month(summed) == {"2024-01": {"a": 200_000}}


def test_line_items_are_summed_and_the_same_item_twice_is_an_error(tmp_path: Path) -> None:
    cfg = parse_config({"columns": {"item_id": "line"}})
    ok = write(
        tmp_path / "i.csv", "date,account_id,line,arr\n2024-01-31,a,x,1000\n2024-01-31,a,y,250.5\n"
    )
    loaded = read(ok, cfg)
    assert arr_by_month(loaded) == {"2024-01": {"a": 125_050}}  # 1,000 + 250.50
    assert loaded.rows_used == 2
    bad = write(
        tmp_path / "j.csv", "date,account_id,line,arr\n2024-01-31,a,x,1000\n2024-01-31,a,x,5\n"
    )
    with pytest.raises(InputError) as err:
        read(bad, cfg)
    assert "account a has item x more than once on 2024-01-31 (lines 2, 3)" in text_of(err)


@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.integers(1, 3), st.integers(0, 10**9)),
        min_size=1,
        max_size=25,
    )
)
@SETTINGS
def test_line_item_sums_equal_the_per_account_totals(
    tmp_path_factory: pytest.TempPathFactory, items: list[tuple[str, int, int]]
) -> None:
    rows = [
        f"2024-0{month}-28,{acc},item{i},{cents / 100:.2f}"
        for i, (acc, month, cents) in enumerate(items)
    ]
    path = tmp_path_factory.mktemp("li") / "items.csv"
    path.write_text("date,account_id,item,arr\n" + "\n".join(rows) + "\n")
    loaded = load(str(path), columns={"item_id": "item"})
    totals: dict[tuple[str, int], int] = {}
    for acc, month, cents in items:
        totals[acc, month] = totals.get((acc, month), 0) + cents
    got = {
        (acc, day.month): arr
        for acc, day, arr in loaded.frame.select("account_id", "date", "arr").iter_rows()
    }
    assert got == totals
    assert loaded.rows_used == len(items)


# ----------------------------------------------------------------------------- intervals
PER_YEAR = {"day": 365, "week": 52, "month": 12, "quarter": 4, "year": 1}


def exact(price_cents: int, quantity: Fraction, per_year: int, count: int) -> int:
    """Round half away from zero of the exact fraction."""
    value = Fraction(price_cents) * quantity * per_year / count
    whole = int(abs(value) + Fraction(1, 2))
    return whole if value >= 0 else -whole


@given(
    st.lists(
        st.tuples(
            st.integers(0, 10**9),
            st.integers(0, 10**7).map(lambda n: Fraction(n, 1000)),
            st.sampled_from(sorted(PER_YEAR)),
            st.integers(1, 36),
            st.booleans(),
        ),
        min_size=1,
        max_size=20,
    )
)
@SETTINGS
def test_interval_normalisation_is_exact(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[int, Fraction, str, int, bool]],
) -> None:
    lines = []
    for i, (cents, qty, unit, count, words) in enumerate(rows):
        interval = f"every {count} {unit}s" if words else unit
        n = "" if words else str(count)
        lines.append(f"a{i},2024-01-01,,{cents / 100:.2f},{float(qty):.3f},{interval},{n}")
    path = tmp_path_factory.mktemp("iv") / "subs.csv"
    path.write_text("account_id,start_date,end_date,amount,qty,every,n\n" + "\n".join(lines) + "\n")
    cfg = parse_config({"columns": {"quantity": "qty", "interval": "every", "interval_count": "n"}})
    loaded = load(str(path), columns=cfg.columns, rules=Rules.of(cfg))
    got = loaded.frame.sort("_line")["arr"].to_list()
    want = [exact(c, q, PER_YEAR[u], n) for c, q, u, n, _ in rows]
    assert got == want


def test_an_unreadable_interval_is_an_error_naming_the_value(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.csv",
        "account_id,start_date,end_date,amount,every\na,2024-01-01,,10,fortnightly\n",
    )
    with pytest.raises(InputError) as err:
        read(path, parse_config({"columns": {"interval": "every"}}))
    assert "cannot read the billing interval" in text_of(err)
    assert "fortnightly" in text_of(err)


def test_minor_units_never_divide_zero_decimal_currencies(tmp_path: Path) -> None:
    assert MINOR_UNIT_DIGITS["JPY"] == MINOR_UNIT_DIGITS["KRW"] == 0
    cfg = parse_config({"amount": {"unit": "mrr", "minor_units": True}})
    amounts = {}
    for code in ("USD", "JPY", "KWD"):
        path = write(
            tmp_path / f"{code}.csv",
            f"date,account_id,type,amount,currency\n2024-01-05,a,new,4900,{code}\n",
        )
        amounts[code] = load(str(path), rules=Rules.of(cfg)).frame["amount"].item()
    # USD: 4900 cents = 49.00 MRR = 588.00 ARR; JPY: 4900 yen MRR = 58,800 yen ARR;
    # KWD (3 digits): 4.900 MRR = 58.800 ARR
    assert amounts == {"USD": 58_800, "JPY": 5_880_000, "KWD": 5_880}


def test_movement_types_map_vendor_values_with_signed_amounts(tmp_path: Path) -> None:
    path = write(
        tmp_path / "m.csv",
        "date,account_id,type,amount\n2024-01-05,a,new_biz,1000\n2024-02-05,a,downgrade,-250\n",
    )
    cfg = parse_config({"movement_types": {"new_biz": "new", "downgrade": "contraction"}})
    loaded = load(str(path), rules=Rules.of(cfg))
    assert loaded.frame["amount"].to_list() == [100_000, -25_000]


# ----------------------------------------------------------------------------- statuses
def test_a_status_in_neither_list_is_an_error_naming_value_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.csv", "account_id,start_date,end_date,arr,state\na,2024-01-01,,10,frozen\n"
    )
    cfg = parse_config(
        {"columns": {"status": "state"}, "statuses": {"count": ["active"], "exclude": ["trial"]}}
    )
    with pytest.raises(InputError) as err:
        read(path, cfg)
    assert "frozen" in text_of(err)
    assert "statuses.count" in text_of(err)
    with pytest.raises(ConfigError, match="statuses"):
        read(path, parse_config({"columns": {"status": "state"}}))


# ----------------------------------------------------------------------------- shapes, config
def test_the_shape_hint_proposes_the_resembled_shape(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.csv",
        "subscription_id,account_id,start_date,end_date,plan,mrr_amount,arr_amount\n"
        "s1,a,2024-01-01,,p,10,120\n",
    )
    with pytest.raises(InputError) as err:
        read(path)
    assert err.value.hint is not None
    assert "--column arr='arr_amount'" in err.value.hint
    assert "--column date=" not in err.value.hint


def test_same_day_subscriptions_are_excluded_and_counted(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.csv",
        "account_id,start_date,end_date,arr\na,2024-01-01,,100\nb,2024-01-05,2024-01-05,100\n",
    )
    loaded = read(path)
    assert loaded.excluded == {"same-day": 1}
    assert loaded.rows_used == 1
    assert any("same day" in w for w in loaded.warnings)


def test_the_config_holds_the_input_options(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "date;account_id;arr\n01/31/2024;a;10\n")
    cfg = parse_config({"date_format": "%m/%d/%Y", "delimiter": ";", "shape": "snapshots"})
    assert arr_by_month(read(str(path), cfg)) == {"2024-01": {"a": 1_000}}


@pytest.mark.parametrize(
    "name",
    ["stripe.csv", "s.csv", "m.csv"],
)
def test_rows_read_is_used_plus_excluded_plus_skipped(tmp_path: Path, name: str) -> None:
    files = {
        "stripe.csv": (
            "\n".join([STRIPE_HEADER, *STRIPE_ROWS, STRIPE_ROWS[0].replace("5,usd", "x,usd")])
            + "\n",
            "stripe",
        ),
        "s.csv": (history_as_snapshots() + "2024-07-31,zz,bad\n", None),
        "m.csv": (MOVEMENTS + "2024-07-01,q,upsell,5\n", None),
    }
    text, preset = files[name]
    loaded = read(write(tmp_path / name, text), preset=preset, on_invalid="skip")
    assert loaded.skipped == 1
    assert (
        loaded.source.rows_read == loaded.rows_used + sum(loaded.excluded.values()) + loaded.skipped
    )
    # rows_used is derived from the other counts, so count it independently too: the
    # rows that reach the frame (no two rows here share an account, date and item)
    assert loaded.frame.height == loaded.rows_used
    assert loaded.source.rows_read == text.count("\n") - 1  # every data line read


def test_same_date_movements_follow_the_rank_column(tmp_path: Path) -> None:
    # on 2024-03-01 the file lists the reactivation before the churn; RANK says churn first
    path = write(
        tmp_path / "m.csv",
        "date,account_id,type,amount,rank\n2024-01-05,a,new,100,1\n"
        "2024-03-01,a,reactivation,80,2\n2024-03-01,a,churn,100,1\n",
    )
    with pytest.raises(InputError):
        load(str(path))  # in file order: a reactivation of an account that still has ARR
    loaded = read(path, parse_config({"columns": {"rank": "rank"}}))
    assert arr_by_month(loaded) == {"2024-01": {"a": 10_000}, "2024-02": {"a": 10_000},
                                    "2024-03": {"a": 8_000}}  # fmt: skip


def test_discounts_forever_only_all_and_none(tmp_path: Path) -> None:
    # 100.00 a month, 2 seats; a 10.00 forever discount and a 50% once discount
    path = write(
        tmp_path / "s.csv",
        "account_id,start_date,end_date,amount,every,qty,off,pct,duration\n"
        "a,2024-01-01,,100,month,2,10,,forever\n"
        "b,2024-01-01,,100,month,2,,50,once\n",
    )
    columns = {"interval": "every", "quantity": "qty", "discount_amount": "off",
               "discount_percent": "pct", "discount_duration": "duration"}  # fmt: skip

    def arr(discounts: str) -> dict[str, int]:
        cfg = parse_config({"columns": columns, "discounts": discounts})
        return arr_by_month(read(path, cfg))["2024-01"]

    # a: (100 - 10) x 2 x 12 = 2,160.00; b: 100 x 50% x 2 x 12 = 1,200.00; undiscounted 2,400.00
    assert arr("all") == {"a": 216_000, "b": 120_000}
    assert arr("forever_only") == {"a": 216_000, "b": 240_000}
    assert arr("none") == {"a": 240_000, "b": 240_000}


def test_reading_rules_are_part_of_the_definitions(runner: CliRunner) -> None:
    """A preset changes what every number means (statuses counted, intervals), so it is
    in ``definitions`` and moves the hash; a plain file's definitions do not change."""
    stripe = str(EXAMPLES / "stripe_subscriptions.csv")
    with_rules = json.loads(
        runner.invoke(app, ["nrr", stripe, "--preset", "stripe", "-f", "json"]).stdout
    )
    rules = with_rules["definitions"]["input_rules"]
    assert rules["preset"] == "stripe"
    assert "trialing" in rules["statuses"]["exclude"]
    plain = json.loads(
        runner.invoke(app, ["nrr", str(EXAMPLES / "tiny_movements.csv"), "-f", "json"]).stdout
    )
    assert "input_rules" not in plain["definitions"]
    assert plain["definitions_sha256"] != with_rules["definitions_sha256"]
