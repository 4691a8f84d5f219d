"""Dated FX (issue 14): rates files, restatement at each month's rates, and the
``fx_impact_arr`` column that keeps the bridge exact (docs/definitions.md, FX)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import retention_cli as rc
from retention_cli.config import Config, Fx, parse_config
from retention_cli.errors import ConfigError, InputError, UsageError
from retention_cli.metrics import BRIDGE_KEYS
from retention_cli.options import BridgeMode, Grain

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fx_config(rates: Path, **extra: object) -> Config:
    return Config(fx=Fx(reporting_currency="USD", rates_file=str(rates), **extra))  # type: ignore[arg-type]


def write_rates(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    lines = ["date,currency,rate", *(",".join(r) for r in rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


SNAPS = pl.DataFrame(
    {
        "date": ["2024-01-31", "2024-01-31", "2024-02-29", "2024-02-29", "2024-02-29",
                 "2024-03-31", "2024-03-31"],
        "account_id": ["a", "b", "a", "b", "c", "a", "c"],
        "arr": ["1000.00", "500.00", "1100.00", "500.00", "200.00", "1100.00", "0"],
        "currency": ["EUR", "USD", "EUR", "USD", "GBP", "EUR", "GBP"],
    }
)  # fmt: skip
RATES = [
    ("2024-01-01", "EUR", "1.10"),
    ("2024-02-15", "EUR", "1.20"),  # in force from Feb 15: the February month end uses it
    ("2024-01-01", "GBP", "1.25"),
    ("2024-03-31", "EUR", "1.05"),
]


def test_hand_example(tmp_path: Path) -> None:
    """Worked by hand (USD; EUR 1.10 → 1.20 → 1.05, GBP 1.25):

    * Jan: a 1,000 EUR × 1.10 = 1,100; b 500 USD: end 1,600 (opening balance).
    * Feb: a's start restated at Feb's 1.20 is 1,200: FX +100; then 1,100 EUR × 1.20
      = 1,320, expansion 120. c new: 200 GBP × 1.25 = 250. End 1,320 + 500 + 250 = 2,070.
    * Mar: a restated at 1.05: 1,100 × 1.05 = 1,155, FX 1,155 − 1,320 = −165, no
      movement. b (500) and c (250) churn: 750. End 1,155.
    """
    cfg = fx_config(write_rates(tmp_path / "rates.csv", RATES))
    out = rc.bridge(rc.ledger_from_frame(SNAPS, shape="snapshots", config=cfg))
    assert out.columns[-6:-5] == ["end_arr"]
    assert out.columns.index("fx_impact_arr") == out.columns.index("end_arr") - 1
    rows = out.select("period", "start_arr", "new_arr", "expansion_arr", "churned_arr",
                      "fx_impact_arr", "end_arr").rows()  # fmt: skip
    assert rows == [
        ("2024-01", None, None, None, None, None, 160_000),
        ("2024-02", 160_000, 25_000, 12_000, 0, 10_000, 207_000),
        ("2024-03", 207_000, 0, 0, 75_000, -16_500, 115_500),
    ]


def test_constant_restates_every_period_at_one_rate_set(tmp_path: Path) -> None:
    rates = write_rates(tmp_path / "rates.csv", RATES)
    led = rc.ledger_from_frame(SNAPS, shape="snapshots", config=fx_config(rates, constant=True))
    out = rc.bridge(led)
    # every month at March's rates (EUR 1.05): a is 1,050 in Jan and 1,155 after
    assert out["fx_impact_arr"].to_list() == [None, 0, 0]
    assert out["end_arr"].to_list() == [155_000, 190_500, 115_500]
    assert out["expansion_arr"].to_list() == [None, 10_500, 0]
    at = fx_config(rates, constant=True, constant_at=dt.date(2024, 2, 20))
    out = rc.bridge(rc.ledger_from_frame(SNAPS, shape="snapshots", config=at))
    assert out["end_arr"].to_list() == [170_000, 207_000, 132_000]


def test_a_missing_rate_names_the_currency_and_the_day(tmp_path: Path) -> None:
    rates = write_rates(tmp_path / "rates.csv", [r for r in RATES if r[1] != "GBP"])
    with pytest.raises(InputError) as err:
        rc.ledger_from_frame(SNAPS, shape="snapshots", config=fx_config(rates))
    assert err.value.lines() == [
        f"{rates}: no GBP rate on or before 2024-02-29 (a month end); the file has no rate for it"
    ]
    late = write_rates(tmp_path / "late.csv", [*RATES[:2], ("2024-03-01", "GBP", "1.25")])
    with pytest.raises(InputError) as err:
        rc.ledger_from_frame(SNAPS, shape="snapshots", config=fx_config(late))
    assert err.value.lines() == [
        f"{late}: no GBP rate on or before 2024-02-29 (a month end); its rates start 2024-03-01"
    ]


def test_bad_rates_rows_are_named_by_line(tmp_path: Path) -> None:
    rates = write_rates(
        tmp_path / "rates.csv",
        [("2024-01-01", "EUR", "1.1"), ("01/02/2024", "EUR", "1.2"), ("2024-01-01", "GB", "x"),
         ("2024-01-01", "USD", "2"), ("2024-01-01", "EUR", "1.3")],
    )  # fmt: skip
    with pytest.raises(InputError) as err:
        rc.ledger_from_frame(SNAPS, shape="snapshots", config=fx_config(rates))
    text = "\n".join(err.value.lines())
    assert ":3: date: not a YYYY-MM-DD date ('01/02/2024')" in text
    assert ":4: currency: not a 3-letter currency code ('GB')" in text
    assert ":4: rate: not a positive number" in text
    assert ":5: rate: the reporting currency USD is always 1" in text


def test_config_rules() -> None:
    with pytest.raises(ConfigError, match="constant needs dated rates"):
        parse_config({"fx": {"reporting_currency": "USD", "constant": True}})
    with pytest.raises(ConfigError, match="rates or rates_file, not both"):
        parse_config({"fx": {"reporting_currency": "USD", "rates": {"EUR": 1}, "rates_file": "r"}})
    static = parse_config({"fx": {"reporting_currency": "USD", "rates": {"EUR": "1.1"}}})
    assert static.fx is not None
    # static fx records exactly what it always did
    assert static.fx.model_dump(mode="json") == {
        "reporting_currency": "USD",
        "rates": {"EUR": "1.1"},
    }
    dated = parse_config({"fx": {"reporting_currency": "USD", "rates_file": "r.csv"}})
    assert dated.fx is not None
    assert dated.fx.model_dump(mode="json") == {
        "reporting_currency": "USD", "rates": {}, "rates_file": "r.csv",
        "rate_date": "period_end", "constant": False, "constant_at": None,
    }  # fmt: skip


def test_rates_file_is_read_beside_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = tmp_path / "conf"
    sub.mkdir()
    write_rates(sub / "rates.csv", RATES)
    (sub / "retention.yaml").write_text("fx: {reporting_currency: USD, rates_file: rates.csv}\n")
    monkeypatch.chdir(tmp_path)
    cfg = rc.load_config(sub / "retention.yaml")
    assert (
        rc.bridge(rc.ledger_from_frame(SNAPS, shape="snapshots", config=cfg))["end_arr"][-1]
        == 115_500
    )


def test_service_start_converts_each_row_once(tmp_path: Path) -> None:
    rates = write_rates(tmp_path / "rates.csv", RATES)
    subs = pl.DataFrame(
        {
            "account_id": ["a", "b"],
            "start_date": ["2024-01-10", "2024-02-20"],
            "end_date": ["", ""],
            "arr": ["1000", "1000"],
            "currency": ["EUR", "EUR"],
        }
    )
    cfg = fx_config(rates, rate_date="service_start")
    out = rc.bridge(rc.ledger_from_frame(subs, shape="subscriptions", config=cfg))
    assert "fx_impact_arr" not in out.columns
    # a at Jan 10's 1.10, b at Feb 20's 1.20; neither moves with later rates
    assert out["end_arr"].to_list() == [110_000, 230_000]
    moves = pl.DataFrame(
        {"date": ["2024-01-10"], "account_id": ["a"], "type": ["new"], "amount": ["1"],
         "currency": ["EUR"]}
    )  # fmt: skip
    with pytest.raises(UsageError, match="service_start converts snapshots and subscriptions"):
        rc.ledger_from_frame(moves, shape="movements", config=cfg)


def test_a_movement_log_is_restated_and_churns_to_zero(tmp_path: Path) -> None:
    rates = write_rates(tmp_path / "rates.csv", RATES)
    moves = pl.DataFrame(
        {
            "date": ["2024-01-05", "2024-02-10", "2024-03-20"],
            "account_id": ["a", "a", "a"],
            "type": ["new", "expansion", "churn"],
            "amount": ["1000", "100", "1100"],
            "currency": ["EUR", "EUR", "EUR"],
        }
    )
    out = rc.bridge(rc.ledger_from_frame(moves, shape="movements", config=fx_config(rates)))
    assert out.select(
        "new_arr", "expansion_arr", "churned_arr", "fx_impact_arr", "end_arr"
    ).rows() == [
        (110_000, 0, 0, 0, 110_000),
        (0, 12_000, 0, 10_000, 132_000),
        (0, 0, 115_500, -16_500, 0),
    ]


def test_a_conversion_too_large_is_a_row_problem(tmp_path: Path) -> None:
    big = pl.DataFrame(
        {"date": ["2024-01-31", "2024-01-31"], "account_id": ["a", "b"],
         "arr": ["1", "90000000000000000"], "currency": ["USD", "EUR"]}
    )  # fmt: skip
    cfg = Config(fx=Fx(reporting_currency="USD", rates={"EUR": "500"}))  # type: ignore[dict-item]
    with pytest.raises(InputError) as err:
        rc.ledger_from_frame(big, shape="snapshots", config=cfg)
    assert err.value.problems[0].line == 3
    assert "too large to hold to the cent" in err.value.lines()[0]


# ----------------------------------------------------------------------------- properties
RATE_TEXT = st.decimals(min_value="0.01", max_value="250", places=4).map(str)


@st.composite
def dated_histories(draw: st.DrawFn) -> tuple[pl.DataFrame, list[tuple[str, str, str]]]:
    months = draw(st.integers(2, 9))
    n = draw(st.integers(1, 5))
    rows = []
    for i in range(n):
        cur = draw(st.sampled_from(["USD", "EUR", "JPY"]))
        for m in range(months):
            value = draw(st.sampled_from([0, 0, 1, 99, 1_000, 12_345_67, 5_000_000]))
            y, mo = divmod(m, 12)
            seg = draw(st.sampled_from(["A", "B"]))
            rows.append((f"{2024 + y}-{mo + 1:02d}-28", f"acc{i}", f"{value / 100:.2f}", cur, seg))
    rates = [
        (f"{2024 + m // 12}-{m % 12 + 1:02d}-01", cur, draw(RATE_TEXT))
        for cur in ("EUR", "JPY")
        for m in range(months)
    ]
    frame = pl.DataFrame(
        rows, schema=["date", "account_id", "arr", "currency", "segment"], orient="row"
    )
    return frame, rates


def _identity(out: pl.DataFrame) -> None:
    moved = out.drop_nulls("start_arr")
    lhs = (
        moved["start_arr"] + moved["fx_impact_arr"] + moved["new_arr"] + moved["reactivation_arr"]
        + moved["expansion_arr"] - moved["contraction_arr"] - moved["churned_arr"]
    )  # fmt: skip
    if "transfer_in_arr" in moved.columns:
        lhs += moved["transfer_in_arr"].fill_null(0) - moved["transfer_out_arr"].fill_null(0)
    assert lhs.to_list() == moved["end_arr"].to_list()
    logos = (
        moved["start_logos"]
        + moved["new_logos"]
        + moved["reactivated_logos"]
        - moved["churned_logos"]
    )
    if "transfer_in_logos" in moved.columns:
        logos += moved["transfer_in_logos"].fill_null(0) - moved["transfer_out_logos"].fill_null(0)
    assert logos.to_list() == moved["end_logos"].to_list()


@SETTINGS
@given(data=dated_histories())
def test_bridge_identity_with_fx_holds_to_the_cent(
    tmp_path_factory: pytest.TempPathFactory, data: tuple
) -> None:
    frame, rates = data
    path = write_rates(tmp_path_factory.mktemp("fx") / "rates.csv", rates)
    led = rc.ledger_from_frame(frame, shape="snapshots", config=fx_config(path))
    for grain, mode in [(Grain.month, BridgeMode.net), (Grain.quarter, BridgeMode.net),
                        (Grain.quarter, BridgeMode.gross)]:  # fmt: skip
        out = rc.bridge(led, grain=grain, mode=mode)
        _identity(out)
        _identity(rc.bridge(led, grain=grain, mode=mode, by=["segment"]))
        # each period starts where the last one ended
        ends = out["end_arr"].to_list()
        assert out["start_arr"].to_list()[1:] == ends[:-1]
    # rolled up (children in different currencies under one parent): still exact, same ends
    parents = pl.DataFrame({"account": ["acc0", "acc1", "acc2"], "parent": ["P", "P", "P"]})
    loaded = rc.load_frame(frame, shape="snapshots", fx=fx_config(path).fx)
    rolled = rc.bridge(rc.build_ledger(loaded, config=fx_config(path), parents=parents))
    _identity(rolled)
    assert rolled["end_arr"].to_list() == rc.bridge(led)["end_arr"].to_list()
    # constant restatement: no fx impact, and the same movements as static rates of that day
    const = rc.bridge(
        rc.ledger_from_frame(frame, shape="snapshots", config=fx_config(path, constant=True))
    )
    _identity(const)
    assert set(const["fx_impact_arr"].drop_nulls().to_list()) <= {0}
    assert all(k in const.columns for k in BRIDGE_KEYS)


# ----------------------------------------------------------------------------- roll-up
def _snapshots(rows: list[tuple[int, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(f"2024-{m + 1:02d}-28", acc, f"{v / 100:.2f}") for m, acc, v in rows],
        schema=["date", "account_id", "arr"],
        orient="row",
    )


def _parents(pairs: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame({"account": list(pairs), "parent": list(pairs.values())})


def test_a_seat_moving_between_subsidiaries_is_neither_churn_nor_new() -> None:
    snaps = _snapshots([(0, "acme-us", 100_000), (0, "beta", 50_000),
                        (1, "acme-eu", 100_000), (1, "beta", 50_000),
                        (2, "acme-eu", 60_000), (2, "acme", 40_000)])  # fmt: skip
    loaded = rc.load_frame(snaps, shape="snapshots")
    parents = _parents({"acme-us": "acme", "acme-eu": "acme"})
    led = rc.build_ledger(loaded, parents=parents)
    out = rc.bridge(led)
    assert out.select("period", "new_arr", "churned_arr", "end_arr", "end_logos").rows() == [
        ("2024-01", None, None, 150_000, 2),
        ("2024-02", 0, 0, 150_000, 2),
        ("2024-03", 0, 50_000, 100_000, 1),  # beta left; acme's own ARR joins its children's
    ]
    assert led.accounts is not None
    assert led.accounts["account"].to_list() == ["acme", "beta"]
    plain = rc.bridge(rc.build_ledger(loaded))
    assert plain["churned_arr"].to_list()[1:] == [100_000, 50_000]  # acme-us churned


def test_a_mapped_parent_id_column_rolls_up(tmp_path: Path) -> None:
    snaps = _snapshots([(0, "acme-us", 100_000), (1, "acme-eu", 100_000)]).with_columns(
        parent_id=pl.lit("acme")
    )
    loaded = rc.load_frame(snaps, shape="snapshots")
    loaded.dimensions = [d for d in loaded.dimensions if d != "parent_id"]  # as when mapped
    out = rc.bridge(rc.build_ledger(loaded, dimensions=[]))
    assert out["churned_arr"].to_list() == [None, 0]
    # the reader's name for a mapped parent_id
    loaded = rc.load_frame(snaps, shape="snapshots")
    loaded.frame = loaded.frame.rename({"parent_id": "_parent_id"})
    loaded.dimensions = [d for d in loaded.dimensions if d != "parent_id"]
    assert rc.bridge(rc.build_ledger(loaded, dimensions=[]))["churned_arr"].to_list() == [None, 0]


def test_accounts_file_problems(tmp_path: Path) -> None:
    from retention_cli.rollup import read_parents

    path = tmp_path / "accounts.csv"
    path.write_text("Account_ID,Parent_ID\nus,acme\nus,other\nacme,top\neu,\n")
    with pytest.raises(InputError) as err:
        read_parents(path)
    text = "\n".join(err.value.lines())
    assert ":3: parent_id: account 'us' has more than one parent (here 'other')" in text
    assert ":2: parent_id: parent 'acme' is itself a child account" in text


@st.composite
def subsidiaries(draw: st.DrawFn) -> tuple[list[int], list[list[int]]]:
    """A parent's ARR per month, and how it is split among three children each month."""
    months = draw(st.integers(2, 8))
    totals = draw(
        st.lists(st.sampled_from([0, 100, 5_000, 12_345]), min_size=months, max_size=months)
    )
    splits = [
        draw(st.sampled_from([[t, 0, 0], [0, t, 0], [0, 0, t], [t // 2, t - t // 2, 0]]))
        for t in totals
    ]
    return totals, splits


@SETTINGS
@given(data=subsidiaries(), other=st.lists(st.sampled_from([0, 700]), min_size=8, max_size=8))
def test_roll_up_never_creates_churn_when_only_the_child_changes(
    data: tuple[list[int], list[list[int]]], other: list[int]
) -> None:
    totals, splits = data
    kids = ["p-a", "p-b", "p-c"]
    rows = [
        (m, kid, v) for m, split in enumerate(splits) for kid, v in zip(kids, split, strict=True)
    ]
    rows += [(m, "solo", other[m]) for m in range(len(totals))]
    parents = _parents(dict.fromkeys(kids, "p"))
    rolled = rc.bridge(
        rc.build_ledger(rc.load_frame(_snapshots(rows), shape="snapshots"), parents=parents)
    )
    direct_rows = [(m, "p", t) for m, t in enumerate(totals)] + rows[-len(totals) :]
    direct = rc.bridge(rc.build_ledger(rc.load_frame(_snapshots(direct_rows), shape="snapshots")))
    # the roll-up is exactly the parent's own history: a child change alone moves nothing
    assert rolled.equals(direct)


# ----------------------------------------------------------------------------- expansion credit
def _split(loaded: rc.Loaded, rows: pl.DataFrame, **kw: object) -> pl.DataFrame:
    from retention_cli.metrics.credit import credit_split

    return credit_split(rc.build_ledger(loaded), rows, **kw)  # type: ignore[arg-type]


def test_credit_column_of_a_movement_log_by_hand() -> None:
    """Feb: a expands 300 (cs) + 100 (sales) = 400; b expands 200 with no credit.
    Mar: b's +150 (cs) and −100 in one month is a 50 expansion, all cs's."""
    from retention_cli.calendar import FiscalCalendar
    from retention_cli.metrics.credit import credit_rows

    moves = pl.DataFrame(
        {
            "date": ["2024-01-05", "2024-01-20", "2024-02-03", "2024-02-10", "2024-02-11",
                     "2024-03-01", "2024-03-02"],
            "account_id": ["a", "b", "a", "a", "b", "b", "b"],
            "type": ["new", "new", "expansion", "expansion", "expansion", "expansion", "contraction"],
            "amount": ["1000", "500", "300", "100", "200", "150", "100"],
            "sourced_by": ["sales", "self_serve", "cs", "sales", "", "cs", "cs"],
        }
    )  # fmt: skip
    loaded = rc.load_frame(moves, shape="movements")
    rows = credit_rows(loaded, FiscalCalendar(), column="sourced_by")
    out = _split(loaded, rows).filter(pl.col("gross_new_arr") > 0)
    assert out.select("period", "credit", "new_arr", "expansion_arr", "credit_share").rows() == [
        ("2024-01", "sales", 100_000, 0, 2 / 3),
        ("2024-01", "self_serve", 50_000, 0, 1 / 3),
        ("2024-02", "cs", 0, 30_000, 0.5),
        ("2024-02", "sales", 0, 10_000, 1 / 6),
        ("2024-02", "uncredited", 0, 20_000, 1 / 3),
        ("2024-03", "cs", 0, 5_000, 1.0),
    ]


def test_credits_file_for_snapshots(tmp_path: Path) -> None:
    from retention_cli.calendar import FiscalCalendar
    from retention_cli.metrics.credit import credit_rows

    snaps = _snapshots([(0, "a", 1_000), (0, "b", 1_000), (1, "a", 2_001), (1, "b", 3_000)])
    credits = tmp_path / "credits.csv"
    credits.write_text(
        "date,account_id,credit\n2024-02-03,a,cs\n2024-02-20,a,sales\n2024-01-10,b,cs\n"
    )
    loaded = rc.load_frame(snaps, shape="snapshots")
    rows = credit_rows(loaded, FiscalCalendar(), path=str(credits))
    out = _split(loaded, rows)
    # a's 10.01 split evenly between cs and sales (the odd cent to cs, first by name);
    # b's 20.00 has no credit in February: uncredited (its January credit is another step)
    assert out.filter(pl.col("period") == "2024-02").select("credit", "expansion_arr").rows() == [
        ("cs", 501), ("sales", 500), ("uncredited", 2_000)
    ]  # fmt: skip
    assert out.filter(pl.col("period") == "2024-01")["gross_new_arr"].to_list() == [None] * 3
    with pytest.raises(UsageError, match="a credit column is read from a movement log"):
        credit_rows(loaded, FiscalCalendar(), column="x")


CREDITS = st.sampled_from(["cs", "sales", "", "expansion_rep"])


@SETTINGS
@given(
    data=st.lists(
        st.tuples(
            st.integers(0, 7), st.sampled_from(["a", "b", "c"]), st.integers(-3_000, 5_000), CREDITS
        ),
        min_size=1,
        max_size=25,
    )
)
def test_credit_split_sums_exactly_to_the_bridge(data: list[tuple[int, str, int, str]]) -> None:
    from retention_cli.calendar import FiscalCalendar
    from retention_cli.metrics.credit import credit_rows

    # a movement log that never goes below zero: clip each change to the balance
    balance: dict[str, int] = {}
    rows = []
    for day, (m, acc, delta, credit) in enumerate(sorted(data, key=lambda r: r[0])):
        before = balance.get(acc, 0)
        after = max(before + delta, 0)
        if after == before:
            continue
        kind = ("new" if before == 0 else "expansion") if after > before else (
            "churn" if after == 0 else "contraction")  # fmt: skip
        balance[acc] = after
        date = f"2024-{m + 1:02d}-{day % 28 + 1:02d}"
        rows.append((date, acc, kind, f"{abs(after - before) / 100:.2f}", credit))
    if not rows:
        return
    frame = pl.DataFrame(
        rows, schema=["date", "account_id", "type", "amount", "credit"], orient="row"
    )
    frame = frame.sort("date", maintain_order=True)
    loaded = rc.load_frame(frame, shape="movements")
    led = rc.build_ledger(loaded)
    credits = credit_rows(loaded, FiscalCalendar(), column="credit")
    from retention_cli.metrics.credit import credit_split

    for grain, mode in [(Grain.month, BridgeMode.net), (Grain.quarter, BridgeMode.net),
                        (Grain.quarter, BridgeMode.gross)]:  # fmt: skip
        split = credit_split(led, credits, grain=grain, mode=mode)
        sums = split.group_by("period", maintain_order=True).agg(
            pl.col("new_arr", "reactivation_arr", "expansion_arr").sum()
        )
        bridge = rc.bridge(led, grain=grain, mode=mode)
        assert (
            sums.rows()
            == bridge.select("period", "new_arr", "reactivation_arr", "expansion_arr").rows()
        )
        shares = split.group_by("period").agg(
            pl.col("credit_share").sum(), pl.col("gross_new_arr").sum()
        )
        for total, gross in shares.select("credit_share", "gross_new_arr").rows():
            assert gross == 0 or abs(total - 1) < 1e-9


def test_dated_conversion_past_the_sum_bound_is_refused(tmp_path: Path) -> None:
    rates = write_rates(tmp_path / "rates.csv", [("2024-01-01", "EUR", "1000000")])
    big = pl.DataFrame(
        {
            "date": ["2024-01-31"],
            "account_id": ["a"],
            "arr": ["90000000000000"],
            "currency": ["EUR"],
        }
    )
    with pytest.raises(InputError) as err:
        rc.ledger_from_frame(big, shape="snapshots", config=fx_config(rates))
    assert "converted at the highest rate of its currency adds up to" in err.value.lines()[0]


def test_a_roll_up_child_not_in_the_data_is_named(in_tmp: Path) -> None:
    """'A1' in the accounts file never matches the data's 'a1': the move from a1 to a2
    then shows as churn plus new, so the run must say the child was not found."""
    from typer.testing import CliRunner

    from retention_cli.cli import app

    (in_tmp / "d.csv").write_text(
        "account_id,date,arr\na1,2024-01-31,100\na2,2024-02-29,100\n", encoding="utf-8"
    )
    (in_tmp / "acc.csv").write_text("account_id,parent_id\nA1,P\na2,P\n", encoding="utf-8")
    out = CliRunner().invoke(app, ["bridge", "d.csv", "--accounts", "acc.csv"])
    assert out.exit_code == 0, out.stderr
    assert "not in the data (e.g. 'A1')" in out.stderr
