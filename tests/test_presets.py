"""The seven vendor presets besides Stripe (issue 14 §1 and §4).

Each fixture is built from the export's real header line (VENDOR-EXPORTS.md,
"Verbatim headers"); the expected ARR per account and month end is worked out by
hand in the comments, never produced by the tool. ARR is in cents.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from retention_cli.calendar import FiscalCalendar
from retention_cli.cli import app
from retention_cli.config import Config
from retention_cli.errors import InputError
from retention_cli.inputs import Loaded
from retention_cli.inputs.presets import looks_like, names
from retention_cli.ledger import build_ledger
from retention_cli.metrics import bridge
from retention_cli.options import Grain
from retention_cli.service import RunOptions, load_input

PRESETS = (
    "baremetrics", "chargebee", "chartmogul", "hubspot", "mrr-playbook", "recurly",
    "salesforce", "stripe",
)  # fmt: skip


def write(path: Path, lines: list[str]) -> str:
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def read(path: str, **opts: object) -> Loaded:
    return load_input(path, Config(), RunOptions(**opts))  # type: ignore[arg-type]


def arr_by_month(loaded: Loaded) -> dict[str, dict[str, int]]:
    """Each account's non-zero ARR (cents) at each month end, from the ledger."""
    cal = FiscalCalendar()
    ledger = build_ledger(loaded, cal)
    assert ledger.accounts is not None
    frame = ledger.collect().join(ledger.accounts, on="account_id").filter(pl.col("arr") != 0)
    out: dict[str, dict[str, int]] = {}
    for period, account, arr in frame.select("period", "account", "arr").iter_rows():
        out.setdefault(cal.label(period, Grain.month), {})[account] = arr
    return out


# ------------------------------------------------------------------------- Chargebee
# Subscriptions.csv (VENDOR-EXPORTS.md, verbatim subset) plus the subscription's
# billing_period / billing_period_unit attributes, which the preset needs.
CHARGEBEE_HEADER = (
    "subscriptions.id,customers.id,subscriptions.plan_id,subscriptions.plan_quantity,"
    "subscriptions.plan_unit_price,subscriptions.plan_amount,subscriptions.status,"
    "subscriptions.start_date,subscriptions.trial_start,subscriptions.trial_end,"
    "subscriptions.current_term_start,subscriptions.current_term_end,"
    "subscriptions.remaining_billing_cycles,subscriptions.created_at,subscriptions.started_at,"
    "subscriptions.cancelled_at,subscriptions.pause_date,subscriptions.resume_date,"
    "subscriptions.billing_period,subscriptions.billing_period_unit"
)


def chargebee_row(
    sub: str, cust: str, qty: str, price: str, status: str, started: str, period: str,
    unit: str, *, trial: tuple[str, str] = ("", ""), cancelled: str = "", start_date: str = "",
) -> str:  # fmt: skip
    return ",".join([
        sub, cust, f"plan-{sub}", qty, price, "", status, start_date, *trial, started, "", "",
        started, started, cancelled, "", "", period, unit,
    ])  # fmt: skip


# fmt: off
CHARGEBEE_ROWS = [
    # cust_01: 3 x 1,200.00 a year = 3,600.00 ARR from 2024-02-01 (not 43,200: annual)
    chargebee_row("AzZ1", "cust_01", "3", "1200.00", "Active", "2024-02-01", "1", "year"),
    # cust_02: 50.00 a month = 600.00 ARR; Non Renewing, its term ends 2024-04-01
    # (cancelled_at = the date it is set to be cancelled): counts Jan, Feb, Mar
    chargebee_row("AzZ2", "cust_02", "1", "50.00", "Non Renewing", "2024-01-01", "1", "month",
                  cancelled="2024-04-01"),
    # cust_03: in trial: excluded
    chargebee_row("AzZ3", "cust_03", "2", "50.00", "In Trial", "2024-04-01", "1", "month",
                  trial=("2024-04-01", "2024-04-15")),
    # cust_04: future (not started, no started_at): excluded
    chargebee_row("AzZ4", "cust_04", "1", "600.00", "Future", "", "6", "month",
                  start_date="2024-06-01"),
    # cust_05: 300.00 every 3 months = 100.00 MRR = 1,200.00 ARR, counted from the trial's
    # end 2024-02-03 (not at the end of January)
    chargebee_row("AzZ5", "cust_05", "1", "300.00", "active", "2024-01-20", "3", "month",
                  trial=("2024-01-20", "2024-02-03")),
    # cust_06: 50.00 a month = 600.00 ARR from 2024-01-05, cancelled 2024-02-15: January only
    chargebee_row("AzZ6", "cust_06", "1", "50.00", "Cancelled", "2024-01-05", "1", "month",
                  cancelled="2024-02-15"),
    # cust_07: 5 x 20.00 a month = 100.00 MRR = 1,200.00 ARR from 2024-04-10
    chargebee_row("AzZ7", "cust_07", "5", "20.00", "Active", "2024-04-10", "1", "month"),
]
# fmt: on
CHARGEBEE_EXPECTED = {
    "2024-01": {"cust_02": 60000, "cust_06": 60000},
    "2024-02": {"cust_01": 360000, "cust_02": 60000, "cust_05": 120000},
    "2024-03": {"cust_01": 360000, "cust_02": 60000, "cust_05": 120000},
    "2024-04": {"cust_01": 360000, "cust_05": 120000, "cust_07": 120000},
}


def test_chargebee(tmp_path: Path) -> None:
    path = write(tmp_path / "Subscriptions.csv", [CHARGEBEE_HEADER, *CHARGEBEE_ROWS])
    loaded = read(path, preset="chargebee")
    assert arr_by_month(loaded) == CHARGEBEE_EXPECTED
    assert loaded.excluded == {"in trial": 1, "future": 1}
    assert loaded.rows_used == 5


# --------------------------------------------------------------------------- Recurly
# The retrieved columns (VENDOR-EXPORTS.md) plus Recurly's subscription and plan fields.
RECURLY_HEADER = (
    "uuid,account_code,email,activated_at,modified_at,created_at,pricing_model,"
    "current_ramp_id,plan_code,state,unit_amount_in_cents,quantity,currency,"
    "plan_interval_length,plan_interval_unit,trial_ends_at,expires_at"
)


def recurly_row(
    uuid: str, account: str, activated: str, state: str, cents: str, qty: str, length: str,
    unit: str, *, trial_ends: str = "", expires: str = "",
) -> str:  # fmt: skip
    at = f"{activated}T10:00:00Z"
    return ",".join([
        uuid, account, f"{account}@x.io", at, at, at, "fixed", "", f"plan_{uuid}", state, cents,
        qty, "USD", length, unit, trial_ends, expires,
    ])  # fmt: skip


# fmt: off
RECURLY_ROWS = [
    # acct_1: 3 x 20.00 a month = 60.00 MRR = 720.00 ARR from 2024-01-01
    recurly_row("u1", "acct_1", "2024-01-01", "active", "2000", "3", "1", "months"),
    # acct_2: 2 x 7.00 every 7 days: a day is x30 a month (Recurly), so
    # MRR = 2 x 7.00 x 30 / 7 = 60.00, ARR = 720.00 (x365 would give 730.00)
    recurly_row("u2", "acct_2", "2024-01-15", "active", "700", "2", "7", "days"),
    # acct_3: 1,200.00 every 12 months = 1,200.00 ARR; canceled (will not renew), expires
    # 2024-03-05: counts at the ends of January and February
    recurly_row("u3", "acct_3", "2024-01-05", "canceled", "120000", "1", "12", "months",
                expires="2024-03-05T00:00:00Z"),
    # acct_4: in trial: excluded
    recurly_row("u4", "acct_4", "2024-02-01", "in_trial", "5000", "1", "1", "months",
                trial_ends="2024-03-01T00:00:00Z"),
    # acct_5: 50.00 a month = 600.00 ARR, counted from the trial's end 2024-02-03
    recurly_row("u5", "acct_5", "2024-01-20", "active", "5000", "1", "1", "months",
                trial_ends="2024-02-03T00:00:00Z"),
    # acct_1: a second subscription, 10.00 a month = 120.00 ARR, expired 2024-02-01:
    # January only (acct_1 then has 720.00 + 120.00 = 840.00)
    recurly_row("u6", "acct_1", "2024-01-01", "expired", "1000", "1", "1", "months",
                expires="2024-02-01T00:00:00Z"),
    # acct_6: 99.00 a month, past due (failed invoices stay in MRR) = 1,188.00 ARR from 03-10
    recurly_row("u7", "acct_6", "2024-03-10", "past_due", "9900", "1", "1", "months"),
]
# fmt: on
RECURLY_EXPECTED = {
    "2024-01": {"acct_1": 84000, "acct_2": 72000, "acct_3": 120000},
    "2024-02": {"acct_1": 72000, "acct_2": 72000, "acct_3": 120000, "acct_5": 60000},
    "2024-03": {"acct_1": 72000, "acct_2": 72000, "acct_5": 60000, "acct_6": 118800},
}


def test_recurly(tmp_path: Path) -> None:
    path = write(tmp_path / "subscriptions.csv", [RECURLY_HEADER, *RECURLY_ROWS])
    loaded = read(path, preset="recurly")
    assert arr_by_month(loaded) == RECURLY_EXPECTED
    assert loaded.excluded == {"in_trial": 1}


# ----------------------------------------------------------------------- Baremetrics
BAREMETRICS_HEADER = (
    "plan_oid,plan_name,plan_currency,plan_amount,plan_interval,plan_interval_count,"
    "customer_oid,customer_name,customer_email,subscription_oid,subscription_started_at,"
    "subscription_canceled_at,subscription_quantity"
)
BAREMETRICS_ROWS = [
    # customer_1: 5000 cents = 50.00 a month = 600.00 ARR from 2024-01-15
    "plan_1,SEO,USD,5000,month,1,customer_1,Allison Barkley,allison@x.com,subscription_1,"
    "2024-01-15,,1",
    # customer_2: 2 x 300.00 per month x 3 (quarterly) = 600.00 / 3 = 200.00 MRR = 2,400.00
    # ARR from 2024-01-01, canceled 2024-03-20: January and February
    "plan_2,SEO Quarterly,USD,30000,month,3,customer_2,Bo,bo@x.com,subscription_2,"
    "2024-01-01,2024-03-20,2",
    # customer_1: a second subscription, 120000 cents = 1,200.00 a year = 1,200.00 ARR from
    # 2024-02-10: customer_1 then has 600.00 + 1,200.00 = 1,800.00
    "plan_3,Annual,USD,120000,year,1,customer_1,Allison Barkley,allison@x.com,subscription_3,"
    "2024-02-10,,1",
    # customer_3: 10.00 every 2 weeks, quantity blank (= 1): 10.00 x 52 / 2 = 260.00 ARR
    "plan_4,Biweekly,USD,1000,week,2,customer_3,Cy,cy@x.com,subscription_4,2024-02-01,,",
    # customer_4: 3 x 50.00 a month = 150.00 MRR = 1,800.00 ARR from 2024-04-01
    "plan_1,SEO,USD,5000,month,1,customer_4,Di,di@x.com,subscription_5,2024-04-01,,3",
]
BAREMETRICS_EXPECTED = {
    "2024-01": {"customer_1": 60000, "customer_2": 240000},
    "2024-02": {"customer_1": 180000, "customer_2": 240000, "customer_3": 26000},
    "2024-03": {"customer_1": 180000, "customer_3": 26000},
    "2024-04": {"customer_1": 180000, "customer_3": 26000, "customer_4": 180000},
}


def test_baremetrics(tmp_path: Path) -> None:
    path = write(tmp_path / "import.csv", [BAREMETRICS_HEADER, *BAREMETRICS_ROWS])
    assert arr_by_month(read(path, preset="baremetrics")) == BAREMETRICS_EXPECTED


# ------------------------------------------------------------------------ ChartMogul
CHARTMOGUL_HEADER = (
    "DATE,CUSTOMER_NAME,MRR_MOVEMENT,MRR,DESCRIPTION,MOVEMENT_TYPE,CURRENCY_CODE,"
    "BILLING_CONNECTOR_UUID,CUSTOMER_EXTERNAL_ID,CUSTOMER_UUID,SUBSCRIPTION_EXTERNAL_ID,"
    "PLAN_EXTERNAL_ID,ACTIVE_SUBSCRIPTION_QUANTITY,UUID,RANK,PREVIOUS_PLAN_EXTERNAL_ID"
)


def chartmogul_row(date: str, name: str, cents: str, mrr: str, kind: str, cus: str,
                   rank: str) -> str:  # fmt: skip
    return ",".join([
        f"{date}T00:00:00Z", name, cents, mrr, kind.replace("_", " "), kind, "USD", "ds_1", cus,
        f"uuid_{cus}", f"sub_{cus}", "plan_pro", "1", f"mm_{date}_{rank}", rank, "",
    ])  # fmt: skip


CHARTMOGUL_ROWS = [
    # cus_A: new_biz +10000 cents = 100.00 MRR = 1,200.00 ARR
    chartmogul_row("2024-01-05", "Acme", "10000", "10000", "new_biz", "cus_A", "1"),
    # cus_B: new_biz +4999 cents = 49.99 MRR = 599.88 ARR
    chartmogul_row("2024-01-10", "Beta", "4999", "4999", "new_biz", "cus_B", "1"),
    # cus_A: expansion +5000 = 150.00 MRR = 1,800.00 ARR
    chartmogul_row("2024-02-01", "Acme", "5000", "15000", "expansion", "cus_A", "1"),
    # cus_B on 2024-03-01: churn -4999 (RANK 1), then reactivation +2999 (RANK 2):
    # 29.99 MRR = 359.88 ARR
    chartmogul_row("2024-03-01", "Beta", "-4999", "0", "churn", "cus_B", "1"),
    chartmogul_row("2024-03-01", "Beta", "2999", "2999", "reactivation", "cus_B", "2"),
    # cus_A: contraction -2500 = 125.00 MRR = 1,500.00 ARR
    chartmogul_row("2024-03-15", "Acme", "-2500", "12500", "contraction", "cus_A", "1"),
    # cus_A: churn -12500 = 0
    chartmogul_row("2024-04-01", "Acme", "-12500", "0", "churn", "cus_A", "1"),
]
CHARTMOGUL_EXPECTED = {
    "2024-01": {"cus_A": 120000, "cus_B": 59988},
    "2024-02": {"cus_A": 180000, "cus_B": 59988},
    "2024-03": {"cus_A": 150000, "cus_B": 35988},
    "2024-04": {"cus_B": 35988},
}
# the same history as a plain movement log in ARR (MRR cents x 12 / 100)
PLAIN_MOVEMENTS = [
    "date,account_id,type,amount",
    "2024-01-05,cus_A,new,1200.00",  # 100.00 x 12
    "2024-01-10,cus_B,new,599.88",  # 49.99 x 12
    "2024-02-01,cus_A,expansion,600.00",  # 50.00 x 12
    "2024-03-01,cus_B,churn,599.88",  # 49.99 x 12
    "2024-03-01,cus_B,reactivation,359.88",  # 29.99 x 12
    "2024-03-15,cus_A,contraction,300.00",  # 25.00 x 12
    "2024-04-01,cus_A,churn,1500.00",  # 125.00 x 12
]


def test_chartmogul(tmp_path: Path) -> None:
    path = write(tmp_path / "mrr_movements.csv", [CHARTMOGUL_HEADER, *CHARTMOGUL_ROWS])
    assert arr_by_month(read(path, preset="chartmogul")) == CHARTMOGUL_EXPECTED


def test_chartmogul_equals_the_plain_movement_log_to_the_cent(tmp_path: Path) -> None:
    vendor = read(
        write(tmp_path / "mrr_movements.csv", [CHARTMOGUL_HEADER, *CHARTMOGUL_ROWS]),
        preset="chartmogul",
    )
    plain = read(write(tmp_path / "plain.csv", PLAIN_MOVEMENTS))
    cal = FiscalCalendar()
    assert arr_by_month(vendor) == arr_by_month(plain)
    assert bridge(build_ledger(vendor, cal)).equals(bridge(build_ledger(plain, cal)))


# ------------------------------------------------------------------------ Salesforce
SALESFORCE_HEADER = (
    "Id,AccountId,Name,Type,StageName,IsClosed,IsWon,Amount,CloseDate,CurrencyIsoCode,"
    "HasOpportunityLineItem"
)


def opportunity(opp: str, account: str, kind: str, stage: str, won: str, amount: str,
                close: str, *extra: str) -> str:  # fmt: skip
    closed = "true" if stage.startswith("Closed") else "false"
    return ",".join([opp, account, f"{account}-{opp}", kind, stage, closed, won, amount, close,
                     "USD", "false", *extra])  # fmt: skip


# fmt: off
SALESFORCE_ROWS = [
    # 001A: won, 12,000.00 over the default 12-month term: 12,000 / 12 x 12 = 12,000.00 ARR
    # from the close date 2024-01-10 (to 2025-01-10)
    opportunity("006A", "001A", "New Customer", "Closed Won", "true", "12000.00", "2024-01-10"),
    # 001A: an upsell of 6,000.00 (incremental): 001A has 18,000.00 from 2024-03-05
    opportunity("006B", "001A", "Existing Customer - Upgrade", "Closed Won", "true", "6000.00",
                "2024-03-05"),
    # 001B: Closed Lost (IsWon false): excluded, not 50,000 of revenue
    opportunity("006C", "001B", "New Customer", "Closed Lost", "false", "50000.00", "2024-02-01"),
    # 001C: still open (IsWon false): excluded
    opportunity("006D", "001C", "New Customer", "Prospecting", "false", "8000.00", "2024-02-15"),
    # 001D: won, 2,400.00 for 12 months = 2,400.00 ARR from 2024-02-20
    opportunity("006E", "001D", "New Customer", "Closed Won", "true", "2400.00", "2024-02-20"),
    # 001D: a downgrade of 600.00 (stock Type "Existing Customer - Downgrade": subtracted):
    # 2,400.00 - 600.00 = 1,800.00 from 2024-03-10
    opportunity("006F", "001D", "Existing Customer - Downgrade", "Closed Won", "true", "600.00",
                "2024-03-10"),
    # 001E: Type left blank: the line adds, 1,200.00 ARR from 2024-03-20
    opportunity("006G", "001E", "", "Closed Won", "true", "1200.00", "2024-03-20"),
]
# fmt: on
SALESFORCE_EXPECTED = {
    "2024-01": {"001A": 1200000},
    "2024-02": {"001A": 1200000, "001D": 240000},
    "2024-03": {"001A": 1800000, "001D": 180000, "001E": 120000},
}


def test_salesforce(tmp_path: Path) -> None:
    path = write(tmp_path / "opportunities.csv", [SALESFORCE_HEADER, *SALESFORCE_ROWS])
    loaded = read(path, preset="salesforce")
    assert arr_by_month(loaded) == SALESFORCE_EXPECTED
    assert loaded.excluded == {"IsWon false": 2}  # the boolean status named with its column


def test_salesforce_rejects_are_the_rows_as_read(tmp_path: Path) -> None:
    bad = opportunity("006Z", "001Z", "New Customer", "Closed Won", "true", "abc", "2024-03-01")
    path = write(tmp_path / "opportunities.csv", [SALESFORCE_HEADER, *SALESFORCE_ROWS, bad])
    loaded = read(path, preset="salesforce", on_invalid="skip")
    assert loaded.rejects is not None
    assert loaded.rejects.columns == ["line", *SALESFORCE_HEADER.split(","), "reason"]


def test_salesforce_custom_type_is_an_error_until_mapped(tmp_path: Path) -> None:
    rows = [opportunity("006A", "001A", "Renewal", "Closed Won", "true", "1200.00", "2024-01-10")]
    path = write(tmp_path / "opportunities.csv", [SALESFORCE_HEADER, *rows])
    with pytest.raises(InputError) as err:
        read(path, preset="salesforce")
    [problem] = err.value.problems
    assert (problem.check, problem.column, problem.value) == ("unknown_type", "type", "Renewal")
    config = Config(preset="salesforce", movement_types={"renewal": "new"})
    loaded = load_input(path, config, RunOptions())
    # 1,200.00 over the default 12 months = 1,200.00 ARR from 2024-01-10
    assert arr_by_month(loaded) == {"2024-01": {"001A": 120000}}


def test_salesforce_contract_start_and_term_columns(tmp_path: Path) -> None:
    header = f"{SALESFORCE_HEADER},Contract_Start__c,Contract_Term__c"
    # fmt: off
    rows = [
        # 001A: 36,000.00 over 36 months = 36,000 / 36 x 12 = 12,000.00 ARR from the contract
        # start 2024-02-01 (closed 2024-01-10)
        opportunity("006A", "001A", "New Customer", "Closed Won", "true", "36000.00",
                    "2024-01-10", "2024-02-01", "36"),
        # 001B: 3,000.00 over 6 months = 3,000 / 6 x 12 = 6,000.00 ARR from 2024-01-01 for
        # its term: ends 2024-07-01, so it counts January to June
        opportunity("006B", "001B", "New Customer", "Closed Won", "true", "3000.00",
                    "2023-12-20", "2024-01-01", "6"),
        # 001C: 1,000.00 over 12 months = 1,000.00 ARR from 2024-08-01 (shows July's churn)
        opportunity("006C", "001C", "New Customer", "Closed Won", "true", "1000.00",
                    "2024-07-25", "2024-08-01", "12"),
    ]
    # fmt: on
    path = write(tmp_path / "opportunities.csv", [header, *rows])
    columns = {"start_date": "Contract_Start__c", "interval_count": "Contract_Term__c"}
    loaded = read(path, preset="salesforce", columns=columns)
    b, a, c = {"001B": 600000}, {"001A": 1200000}, {"001C": 100000}
    assert arr_by_month(loaded) == {
        "2024-01": b,
        **{f"2024-0{m}": {**a, **b} for m in range(2, 7)},
        "2024-07": a,
        "2024-08": {**a, **c},
    }


# --------------------------------------------------------------------------- HubSpot
HUBSPOT_HEADER = (
    "hs_object_id,dealname,pipeline,dealstage,dealtype,amount,closedate,hs_mrr,hs_arr,hs_acv,"
    "hs_tcv,Associated Company IDs"
)
HUBSPOT_ROWS = [
    # c1: closed won; hs_arr 12,000.00 (amount 15,000 includes a one-off: ignored)
    "101,Acme new,default,closedwon,newbusiness,15000,2024-01-10T09:00:00Z,1000,12000,12000,"
    "12000,c1",
    # c2: closed lost: excluded
    "102,Beta,default,closedlost,newbusiness,9000,2024-01-20T09:00:00Z,,,,,c2",
    # c3: an open stage: excluded
    "103,Gamma,default,contractsent,newbusiness,5000,2024-03-01T09:00:00Z,,,,,c3",
    # c1: upsell, hs_arr 3,000.00: c1 has 15,000.00 from 2024-02-15
    "104,Acme upsell,default,closedwon,existingbusiness,3000,2024-02-15T09:00:00Z,250,3000,"
    "3000,3000,c1",
    # c4: a custom pipeline's stage: not closed won, excluded
    "105,Delta,sales2,1234567,newbusiness,7000,2024-02-01T09:00:00Z,,,,,c4",
    # c5: closed won 2023-03-15, hs_arr 2,400.00 for HubSpot's default 12 months: counts
    # at the ends of March 2023 to February 2024, churns in March 2024
    "106,Epsilon,default,closedwon,newbusiness,2400,2023-03-15T09:00:00Z,200,2400,2400,2400,c5",
    # c7: closed won with no hs_arr (no recurring line items; amount 5,000 is one-off):
    # excluded and counted, not read from amount
    "108,Eta,default,closedwon,newbusiness,5000,2024-02-05T09:00:00Z,,,,,c7",
    # c6: closed won, hs_arr 1,200.00 from 2024-03-20
    "107,Zeta,default,closedwon,newbusiness,1200,2024-03-20T09:00:00Z,100,1200,1200,1200,c6",
]
HUBSPOT_EXPECTED = {
    **{f"2023-{m:02d}": {"c5": 240000} for m in range(3, 13)},
    "2024-01": {"c1": 1200000, "c5": 240000},
    "2024-02": {"c1": 1500000, "c5": 240000},
    "2024-03": {"c1": 1500000, "c6": 120000},
}


def test_hubspot(tmp_path: Path) -> None:
    path = write(tmp_path / "deals.csv", [HUBSPOT_HEADER, *HUBSPOT_ROWS])
    loaded = read(path, preset="hubspot", columns={"account_id": "Associated Company IDs"})
    assert arr_by_month(loaded) == HUBSPOT_EXPECTED
    assert loaded.excluded == {
        "closedlost": 1, "contractsent": 1, "dealstage 1234567": 1, "blank hs_arr": 1,
    }  # fmt: skip


# ---------------------------------------------------------------------- mrr-playbook
PLAYBOOK_ROWS = [
    "subscription_id,customer_id,start_date,end_date,monthly_amount",
    # c1: 100.00 MRR = 1,200.00 ARR, end exclusive: January to March
    "s1,c1,2024-01-01,2024-04-01,100",
    # c1: then 150.00 MRR = 1,800.00 ARR from April (an upgrade), still active
    "s2,c1,2024-04-01,,150",
    # c2: 49.50 MRR = 594.00 ARR in February only (ends 2024-03-01, exclusive)
    "s3,c2,2024-02-01,2024-03-01,49.5",
    # c2: back in May at 594.00 ARR (reactivation)
    "s4,c2,2024-05-01,,49.5",
]
PLAYBOOK_EXPECTED = {
    "2024-01": {"c1": 120000},
    "2024-02": {"c1": 120000, "c2": 59400},
    "2024-03": {"c1": 120000},
    "2024-04": {"c1": 180000},
    "2024-05": {"c1": 180000, "c2": 59400},
}


def test_mrr_playbook(tmp_path: Path) -> None:
    path = write(tmp_path / "subscription_periods.csv", PLAYBOOK_ROWS)
    assert arr_by_month(read(path, preset="mrr-playbook")) == PLAYBOOK_EXPECTED


# ------------------------------------------------------------------------ all presets
STRIPE_HEADER = (
    "id,Customer ID,Customer Name,Customer Email,Customer Description,Plan,Product,Quantity,"
    "Currency,Interval,Amount,Status,Created (UTC),Start (UTC),Start Date (UTC),"
    "Current Period Start (UTC),Current Period End (UTC),Trial Start (UTC),Trial End (UTC),"
    "Application Fee Percent,Coupon,Tax Percent,Canceled At (UTC),Cancel At Period End,"
    "Ended At (UTC),Cancellation Reason"
)
HEADERS = {
    "stripe": STRIPE_HEADER,
    "chargebee": CHARGEBEE_HEADER,
    "recurly": RECURLY_HEADER,
    "baremetrics": BAREMETRICS_HEADER,
    "chartmogul": CHARTMOGUL_HEADER,
    "salesforce": SALESFORCE_HEADER,
    "hubspot": HUBSPOT_HEADER,
    "mrr-playbook": PLAYBOOK_ROWS[0],
}


def test_retention_presets_lists_all_eight() -> None:
    assert names() == PRESETS
    result = CliRunner().invoke(app, ["presets"])
    assert result.exit_code == 0, result.output
    listed = [line.split()[0] for line in result.output.splitlines() if line.strip()]
    assert listed == list(PRESETS)


@pytest.mark.parametrize("name", [p for p in PRESETS if p != "mrr-playbook"])
def test_signature_names_the_right_preset(name: str) -> None:
    found = looks_like(HEADERS[name].split(","))
    assert found is not None
    assert found[0] == name


def test_a_mapping_only_preset_is_not_required() -> None:
    """The mrr-playbook preset is a column mapping and nothing else: its input read
    with a plain mapping gives the same numbers, so its header is not refused."""
    assert looks_like(HEADERS["mrr-playbook"].split(",")) is None


FIXTURES = {
    "chargebee": [CHARGEBEE_HEADER, *CHARGEBEE_ROWS],
    "recurly": [RECURLY_HEADER, *RECURLY_ROWS],
    "baremetrics": [BAREMETRICS_HEADER, *BAREMETRICS_ROWS],
    "chartmogul": [CHARTMOGUL_HEADER, *CHARTMOGUL_ROWS],
    "salesforce": [SALESFORCE_HEADER, *SALESFORCE_ROWS],
    "hubspot": [HUBSPOT_HEADER, *HUBSPOT_ROWS],
    "mrr-playbook": PLAYBOOK_ROWS,
}


@pytest.mark.parametrize("name", sorted(set(FIXTURES) - {"mrr-playbook"}))
def test_a_vendor_file_without_the_preset_names_it(tmp_path: Path, name: str) -> None:
    path = write(tmp_path / "export.csv", FIXTURES[name])
    result = CliRunner().invoke(app, ["nrr", path])
    assert result.exit_code != 0
    assert f"add --preset {name}" in result.output


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_cites_its_vendor_and_shows(name: str) -> None:
    result = CliRunner().invoke(app, ["presets", "show", name])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# ")
    assert "https://" in result.output
