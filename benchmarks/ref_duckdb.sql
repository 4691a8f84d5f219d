-- Month-grain ARR bridge and trailing-12-month NRR / GRR / logo retention in one
-- statement (benchmarks/ref_duckdb.py runs it). Reads the view `input_rows`
-- (account_id, date, amount DECIMAL(18, 2)) and the parameter $movements (true for a
-- movement log, false for snapshots). Money stays exact: DECIMAL, then BIGINT cents.
-- Definitions: SPEC.md sections 3-5 / docs/definitions.md.
WITH points AS (
    -- one value per account and month: snapshots keep the latest date of the month,
    -- movements sum their amounts
    SELECT account_id,
           year(date) * 12 + month(date) - 1 AS p,
           CAST(CASE WHEN $movements THEN sum(amount) ELSE arg_max(amount, date) END * 100 AS BIGINT) AS cents
    FROM input_rows
    GROUP BY ALL
),
bounds AS (
    -- a movement log starts from zero ARR, so its spine starts a month before the data;
    -- a snapshot file's first month is an opening balance (no movements reported)
    SELECT min(p) - CASE WHEN $movements THEN 1 ELSE 0 END AS lo, max(p) AS hi FROM points
),
spine AS (
    -- the dense month spine: every account from its first month to the last of the data
    SELECT account_id, unnest(range(min(p), any_value(hi) + 1)) AS p
    FROM points, bounds
    GROUP BY account_id
),
ledger AS (
    -- ARR at each month end: a snapshot month without a row is 0 (churn); a movement
    -- log is the running sum of its amounts
    SELECT s.account_id, s.p,
           CASE WHEN $movements
                THEN sum(coalesce(x.cents, 0)) OVER (PARTITION BY s.account_id ORDER BY s.p)
                ELSE coalesce(x.cents, 0) END AS b
    FROM spine s LEFT JOIN points x USING (account_id, p)
),
pairs AS (
    SELECT p, b,
           coalesce(lag(b) OVER w, 0) AS a,                        -- ARR a month before
           coalesce(lag(b, 12) OVER w, 0) AS s,                    -- ARR at the window start
           coalesce(bool_or(b > 0) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                    false) AS seen                                 -- ARR > 0 in any earlier month
    FROM ledger
    WINDOW w AS (PARTITION BY account_id ORDER BY p)
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
