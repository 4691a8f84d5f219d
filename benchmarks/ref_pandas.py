"""pandas reference: the month bridge and 12-month NRR/GRR/logo retention, vectorised
(no loop over rows or months): a pyarrow-backed read (pyarrow engine and dtypes, money as
decimal128(18, 2) then int64 cents), accounts factorized once to integer codes, the latest
snapshot of each (account, month) by a sort and ``drop_duplicates`` on integer cells,
then one account-by-month matrix (the dense month spine) and column-wise NumPy over it.
``python benchmarks/ref_pandas.py FILE OUT.json``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from refs_common import WINDOW, main


def compute(path: str, kind: str) -> dict[str, list[list[int]]]:
    """Bridge and ratio rows (refs_common layout) of the CSV file ``path``."""
    value = "arr" if kind == "snapshots" else "amount"
    df = pd.read_csv(
        path,
        engine="pyarrow",
        dtype_backend="pyarrow",
        usecols=["date", "account_id", value, *(["type"] if kind == "movements" else [])],
        dtype={
            "account_id": pd.ArrowDtype(pa.string()),
            value: pd.ArrowDtype(pa.decimal128(18, 2)),
        },
        parse_dates=["date"],
    )
    date = df["date"]
    p = (date.dt.year * 12 + date.dt.month - 1).to_numpy("int64")
    cents = (df[value] * 100).astype("int64[pyarrow]")
    if kind == "movements":  # a contraction or churn given as a positive magnitude removes ARR
        negative = df["type"].isin(["contraction", "churn"])
        cents = cents.where(~negative, -cents.abs())
    lo = int(p.min()) - (1 if kind == "movements" else 0)
    hi = int(p.max())
    months = hi - lo + 1
    # the dense spine as a matrix: one row per account (its integer code), one column per
    # month lo..hi; ``cell`` is the (account, month) position in it, flattened
    codes, names = pd.factorize(df["account_id"])
    cell = codes.astype("int64") * months + (p - lo)
    day = date.dt.day.to_numpy("int8")  # small: a stable sort of int8 is a radix sort
    frame = pd.DataFrame({"cell": cell, "day": day, "cents": cents.to_numpy("int64")})
    if kind == "snapshots":  # the latest date of the month wins
        points = frame.sort_values("day", kind="stable").drop_duplicates("cell", keep="last")
    else:  # a month's movements add up
        points = frame.groupby("cell", as_index=False, sort=False)["cents"].sum()
    m = np.zeros((len(names), months), dtype=np.int64)
    m.flat[points["cell"].to_numpy()] = points["cents"].to_numpy()
    if kind == "movements":
        m = m.cumsum(axis=1)  # ARR = the running sum of the amounts
    # (a snapshot account's months before its first row and after its last are 0)
    a, b = m[:, :-1], m[:, 1:]
    seen = np.maximum.accumulate(m > 0, axis=1)[:, :-1]  # ARR > 0 in any earlier month
    arrive = (a == 0) & (b > 0)
    bridge = np.stack([
        np.arange(lo + 1, hi + 1),
        a.sum(axis=0),
        np.where(arrive & ~seen, b, 0).sum(axis=0),
        np.where(arrive & seen, b, 0).sum(axis=0),
        np.where((a > 0) & (b > a), b - a, 0).sum(axis=0),
        np.where((b > 0) & (b < a), a - b, 0).sum(axis=0),
        np.where((a > 0) & (b == 0), a, 0).sum(axis=0),
        b.sum(axis=0),
    ], axis=1)  # fmt: skip
    s, e = m[:, :-WINDOW], m[:, WINDOW:]
    cohort = s > 0
    ratios = np.stack([
        np.arange(lo + WINDOW, hi + 1),
        cohort.sum(axis=0),
        np.where(cohort, s, 0).sum(axis=0),
        np.where(cohort, e, 0).sum(axis=0),
        np.where(cohort, np.minimum(s, e), 0).sum(axis=0),
        (cohort & (e > 0)).sum(axis=0),
    ], axis=1)  # fmt: skip
    ratios = ratios[ratios[:, 1] > 0]
    return {"bridge": bridge.tolist(), "ratios": ratios.tolist()}


if __name__ == "__main__":
    main(compute)
