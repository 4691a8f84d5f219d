-- Month-grain ARR bridge and trailing-12-month NRR / GRR / logo retention in one
-- statement (benchmarks/ref_duckdb.py runs it). Reads the view `input_rows`
-- (account_id, date DATE, amount DECIMAL(18, 2)) and the variable movements (true for a
-- movement log, false for snapshots; a constant when the statement is planned, so the
-- branch not taken costs nothing). Money stays exact: DECIMAL, then BIGINT cents.
-- Definitions: SPEC.md sections 3-5 / docs/definitions.md.
-- Two window passes: the input rows in date order per account (the month's last row, the
-- month of the account's next row, a movement log's running sum), then the dense month
-- spine (`lag` for the month before and the window start).
WITH months AS (
    -- each row's month, the month of the account's next row, and a movement log's ARR
    -- (the running sum of its amounts; a day's rows count together)
    SELECT account_id, date,
           year(date) * 12 + month(date) - 1 AS p,
           CASE WHEN getvariable('movements')
                THEN sum(amount) OVER (PARTITION BY account_id ORDER BY date)
                ELSE amount END AS arr,
           lead(p) OVER (PARTITION BY account_id ORDER BY date) AS next_p
    FROM input_rows
),
points AS (
    -- one value per account and month, the month's last row: the latest snapshot of the
    -- month, or the running sum of a movement log at the month's end
    SELECT account_id, p, CAST(arr * 100 AS BIGINT) AS cents, next_p
    FROM months
    WHERE next_p IS DISTINCT FROM p
),
bounds AS (
    -- a movement log starts from zero ARR, so its bridge starts a month before the data;
    -- a snapshot file's first month is an opening balance (no movements reported)
    SELECT min(p) - CASE WHEN getvariable('movements') THEN 1 ELSE 0 END AS lo, max(p) AS hi
    FROM points
),
ledger AS (
    -- the dense month spine: every month of the account from its first row to the end of
    -- the data. A month without a row of its own has the ARR of the account's row before:
    -- 0 for snapshots (an absent month is churned), the same ARR for a movement log
    SELECT account_id,
           unnest(range(p, coalesce(next_p, hi + 1))) AS m,
           CASE WHEN getvariable('movements') OR m = p THEN cents ELSE 0 END AS b
    FROM points, bounds
),
pairs AS (
    SELECT m AS p, b,
           coalesce(lag(b) OVER w, 0) AS a,                        -- ARR a month before
           coalesce(lag(b, 12) OVER w, 0) AS s,                    -- ARR at the window start
           -- ARR > 0 in an earlier month: the account's first month with ARR > 0 is before
           min(m) FILTER (WHERE b > 0) OVER (PARTITION BY account_id) < m AS seen
    FROM ledger
    WINDOW w AS (PARTITION BY account_id ORDER BY m)
)
SELECT p,
       sum(a) AS start_cents,
       sum(b) FILTER (WHERE a = 0 AND b > 0 AND NOT seen) AS new_cents,
       sum(b) FILTER (WHERE a = 0 AND b > 0 AND seen) AS reactivation_cents,
       sum(b - a) FILTER (WHERE a > 0 AND b > a) AS expansion_cents,
       sum(a - b) FILTER (WHERE b > 0 AND b < a) AS contraction_cents,
       sum(a) FILTER (WHERE a > 0 AND b = 0) AS churned_cents,
       sum(b) AS end_cents,
       -- the window's cohort: accounts with ARR > 0 at its start (s = p - 12)
       count(*) FILTER (WHERE s > 0) AS cohort_logos,
       sum(s) FILTER (WHERE s > 0) AS cohort_start_cents,
       sum(b) FILTER (WHERE s > 0) AS retained_cents,
       sum(least(b, s)) FILTER (WHERE s > 0) AS gross_retained_cents,
       count(*) FILTER (WHERE s > 0 AND b > 0) AS kept_logos,
       p - 12 >= any_value(lo) AS has_window
FROM pairs, bounds
WHERE p > lo
GROUP BY p
ORDER BY p
