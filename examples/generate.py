"""Write the bundled example data sets (deterministic: same bytes every run).

    python examples/generate.py

* ``saas_movements.csv``: a movement log of a realistic SaaS company, 260 accounts
  over 30 months (2024-01 to 2026-06), three segments, two regions, with
  expansion, contraction, churn and reactivation;
* ``saas_snapshots.csv``: the same history as month-end ARR snapshots;
* ``saas_subscriptions.csv``: the same history as subscription periods;
* ``spend.csv``: monthly sales & marketing, customer-success spend, gross margin
  and net burn for the same company (for ``retention economics``);
* ``tiny_movements.csv`` / ``tiny_snapshots.csv``: six accounts whose NRR and GRR
  the README works out by hand;
* ``tiny_books.csv``: six accounts that change segment and owner (segment
  transfers and books of business).
"""

from __future__ import annotations

import calendar
import csv
import random
from pathlib import Path

HERE = Path(__file__).parent
MONTHS = 30
FIRST_YEAR = 2024
SEGMENTS = {  # median ARR, monthly churn, expansion and contraction probabilities
    "SMB": (6_000, 0.025, 0.04, 0.02),
    "Mid-Market": (30_000, 0.012, 0.05, 0.02),
    "Enterprise": (120_000, 0.006, 0.06, 0.015),
}


def month_date(m: int, day: int) -> str:
    y, mo = FIRST_YEAR + m // 12, m % 12 + 1
    return f"{y:04d}-{mo:02d}-{min(day, calendar.monthrange(y, mo)[1]):02d}"


def month_end(m: int) -> str:
    return month_date(m, 31)


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def simulate(seed: int = 20261123) -> dict[str, dict]:
    """Accounts with a month-by-month ARR path (cents) and the day of each change."""
    rng = random.Random(seed)
    accounts: dict[str, dict] = {}
    n = 0
    for m in range(MONTHS):
        for _ in range(rng.randint(5, 12) if m else 40):
            n += 1
            if n > 260:
                break
            seg = rng.choices(list(SEGMENTS), weights=[6, 3, 1])[0]
            accounts[f"ACME-{n:04d}"] = {
                "segment": seg,
                "region": rng.choice(["EMEA", "Americas"]),
                "start": m,
                "path": {},
                "days": {},
            }
    for acc in accounts.values():
        median, p_churn, p_exp, p_con = SEGMENTS[acc["segment"]]
        arr = round(rng.lognormvariate(0, 0.6) * median * 100)
        churned_at = None
        for m in range(acc["start"], MONTHS):
            prev = arr
            if m == acc["start"]:
                pass
            elif arr == 0:
                if churned_at is not None and rng.random() < 0.04:
                    arr = round(rng.lognormvariate(0, 0.4) * median * 100)
            elif rng.random() < p_churn:
                arr, churned_at = 0, m
            elif rng.random() < p_exp:
                arr = arr + round(arr * rng.uniform(0.1, 0.5))
            elif rng.random() < p_con:
                arr = arr - round(arr * rng.uniform(0.1, 0.4))
            acc["path"][m] = arr
            if m == acc["start"] or arr != prev:
                acc["days"][m] = rng.randint(1, 28)
    return accounts


def movements(accounts: dict[str, dict]) -> list[dict]:
    rows = []
    for aid, acc in accounts.items():
        prev, ever = 0, False
        for m, arr in acc["path"].items():
            if arr == prev:
                continue
            if prev == 0:
                kind, amount = ("reactivation" if ever else "new"), arr
            elif arr == 0:
                kind, amount = "churn", -prev
            elif arr > prev:
                kind, amount = "expansion", arr - prev
            else:
                kind, amount = "contraction", arr - prev
            ever = True
            rows.append(
                {
                    "date": month_date(m, acc["days"][m]),
                    "account_id": aid,
                    "type": kind,
                    "amount": money(amount),
                    "segment": acc["segment"],
                    "region": acc["region"],
                }
            )
            prev = arr
    return sorted(rows, key=lambda r: (r["date"], r["account_id"]))


def snapshots(accounts: dict[str, dict]) -> list[dict]:
    rows = []
    for aid, acc in accounts.items():
        for m, arr in acc["path"].items():
            if arr > 0:
                rows.append(
                    {
                        "date": month_end(m),
                        "account_id": aid,
                        "arr": money(arr),
                        "segment": acc["segment"],
                        "region": acc["region"],
                    }
                )
    return sorted(rows, key=lambda r: (r["date"], r["account_id"]))


def subscriptions(accounts: dict[str, dict]) -> list[dict]:
    """One subscription per run of constant ARR, from its change date to the next."""
    rows = []
    for aid, acc in accounts.items():
        runs = []
        prev = 0
        for m, arr in acc["path"].items():
            if arr != prev:
                if prev > 0:  # close the open subscription
                    runs[-1]["end_date"] = month_date(m, acc["days"][m])
                if arr > 0:
                    runs.append(
                        {"start_date": month_date(m, acc["days"][m]), "end_date": "", "arr": arr}
                    )
                prev = arr
        for r in runs:
            rows.append(
                {
                    "subscription_id": f"S{len(rows) + 1:05d}",
                    "account_id": aid,
                    "start_date": r["start_date"],
                    "end_date": r["end_date"],
                    "arr": money(r["arr"]),
                    "segment": acc["segment"],
                    "region": acc["region"],
                }
            )
    return rows


TINY_MOVEMENTS = [
    # date, account, type, amount, segment
    ("2025-01-10", "A", "new", "1000.00", "SMB"),
    ("2025-01-12", "B", "new", "2000.00", "Enterprise"),
    ("2025-01-15", "C", "new", "1000.00", "SMB"),
    ("2025-01-20", "D", "new", "500.00", "SMB"),
    ("2025-04-03", "C", "churn", "1000.00", "SMB"),
    ("2025-06-01", "A", "expansion", "500.00", "SMB"),
    ("2025-07-07", "E", "new", "3000.00", "Enterprise"),
    ("2025-09-30", "B", "contraction", "500.00", "Enterprise"),
    ("2025-10-05", "C", "reactivation", "800.00", "SMB"),
    ("2025-11-11", "D", "churn", "500.00", "SMB"),
    ("2026-01-15", "F", "new", "700.00", "SMB"),
]

TINY_BOOKS = [
    # date, account, type, amount, segment, owner: accounts change segment and owner
    ("2025-01-10", "A", "new", "1000.00", "SMB", "ann"),
    ("2025-01-12", "B", "new", "2000.00", "Enterprise", "bob"),
    ("2025-01-15", "C", "new", "1000.00", "SMB", "ann"),
    ("2025-02-20", "D", "new", "500.00", "SMB", "ann"),
    ("2025-03-03", "E", "new", "3000.00", "Enterprise", "bob"),
    ("2025-07-15", "A", "expansion", "500.00", "Enterprise", "bob"),
    ("2025-09-30", "B", "contraction", "500.00", "Enterprise", "bob"),
    ("2025-10-05", "C", "churn", "1000.00", "SMB", "ann"),
    ("2025-11-11", "D", "expansion", "250.00", "SMB", "cara"),
    ("2026-01-15", "F", "new", "700.00", "SMB", "cara"),
    ("2026-02-10", "E", "expansion", "1000.00", "Enterprise", "cara"),
    ("2026-03-20", "C", "reactivation", "800.00", "SMB", "ann"),
]


def tiny_snapshots() -> list[dict]:
    state: dict[str, tuple[int, str]] = {}
    rows = []
    by_month: dict[int, list] = {}
    for date, acc, kind, amount, seg in TINY_MOVEMENTS:
        m = (int(date[:4]) - FIRST_YEAR) * 12 + int(date[5:7]) - 1
        by_month.setdefault(m, []).append((acc, kind, round(float(amount) * 100), seg))
    for m in range(12, 25):  # 2025-01 .. 2026-01
        for acc, kind, cents, seg in by_month.get(m, []):
            cur = state.get(acc, (0, seg))[0]
            cur = cur + cents if kind in ("new", "expansion", "reactivation") else cur - cents
            state[acc] = (cur, seg)
        for acc in sorted(state):
            arr, seg = state[acc]
            if arr > 0:
                rows.append(
                    {"date": month_end(m), "account_id": acc, "arr": money(arr), "segment": seg}
                )
    return rows


def spend(accounts: dict[str, dict], seed: int = 8) -> list[dict]:
    """Monthly spend that fits the movement history: S&M tracks the new ARR it
    wins, CS a share of the ARR base, burn is costs less gross profit."""
    rng = random.Random(seed)
    rows = []
    for m in range(MONTHS):
        won = sum(a["path"][m] for a in accounts.values() if a["start"] == m)
        base = sum(a["path"].get(m, 0) for a in accounts.values())
        margin = round(rng.uniform(0.74, 0.82), 3)
        sm = max(round(won * rng.uniform(0.9, 1.5)), 3_000_000)
        cs = round(base * rng.uniform(0.05, 0.07) / 12)
        other = round(base * rng.uniform(0.25, 0.35) / 12) + 6_000_000
        burn = sm + cs + other - round(base / 12 * margin)
        rows.append(
            {
                "period": month_date(m, 1)[:7],
                "sales_marketing": money(sm),
                "customer_success": money(cs),
                "gross_margin": f"{margin:.3f}",
                "net_burn": money(burn),
            }
        )
    return rows


def write(name: str, rows: list[dict]) -> None:
    with (HERE / name).open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main() -> None:
    accounts = simulate()
    write("saas_movements.csv", movements(accounts))
    write("saas_snapshots.csv", snapshots(accounts))
    write("saas_subscriptions.csv", subscriptions(accounts))
    write(
        "tiny_movements.csv",
        [
            dict(zip(("date", "account_id", "type", "amount", "segment"), r, strict=True))
            for r in TINY_MOVEMENTS
        ],
    )
    write("tiny_snapshots.csv", tiny_snapshots())
    write(
        "tiny_books.csv",
        [
            dict(zip(("date", "account_id", "type", "amount", "segment", "owner"), r, strict=True))
            for r in TINY_BOOKS
        ],
    )
    write("spend.csv", spend(accounts))


if __name__ == "__main__":
    main()
