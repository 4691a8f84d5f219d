-- subscriptions: ARR at a fiscal month's end = the sum of the subscriptions active on
-- its last day (start_date inclusive, end_date exclusive; no end date, or one of the
-- config's open_end_dates, = still active). The months run to the one of the latest
-- start date: a later end date is not yet churn
src AS (
  SELECT
    TRIM(CAST({account_id} AS VARCHAR)) AS account_id,
    CAST({start_date} AS DATE) AS d0,
    CASE WHEN CAST({end_date} AS DATE) IN ({open_ends}) THEN NULL ELSE CAST({end_date} AS DATE) END AS d1,
    CASE WHEN CAST({end_date} AS DATE) IN ({open_ends}) THEN 1 ELSE 0 END AS open_end,
    CAST(ROUND(CAST({arr} AS DECIMAL(38, 6)) * 100, 0) AS BIGINT) AS cents{dims}
  FROM {table}
),
placed AS (
  SELECT s.account_id, p.period AS p0, s.d0, s.d1, s.cents{placed_dims}
  FROM src AS s
  JOIN spine AS p ON s.d0 BETWEEN p.month_start AND p.month_end
  WHERE s.account_id <> '' AND s.cents IS NOT NULL
),
bounds AS (
  SELECT
    MIN(p0) AS first_period,
    MAX(p0) AS last_period,
    CAST((SELECT COUNT(*) FROM src) AS BIGINT) AS rows_read,
    CAST((SELECT COUNT(*) FROM src) - COUNT(*) AS BIGINT) AS unplaced
  FROM placed
),
firsts AS (
  SELECT account_id, MIN(p0) AS first_period FROM placed GROUP BY account_id
),
ledger_raw AS (
  SELECT f.account_id, p.period, CAST(COALESCE(SUM(s.cents), 0) AS BIGINT) AS arr
  FROM firsts AS f
  CROSS JOIN bounds AS b
  JOIN spine AS p ON p.period >= f.first_period AND p.period <= b.last_period
  LEFT JOIN placed AS s
    ON s.account_id = f.account_id AND s.d0 <= p.month_end AND (s.d1 IS NULL OR s.d1 > p.month_end)
  GROUP BY f.account_id, p.period
),
dated AS (
  SELECT p0 AS period, CAST(COUNT(*) AS BIGINT) AS dated_rows, CAST(SUM(cents) AS BIGINT) AS dated_cents FROM placed GROUP BY p0
),
shape_notes AS (
  SELECT
    CAST(0 AS BIGINT) AS several,
    CAST((
      SELECT COUNT(*)
      FROM placed AS p
      CROSS JOIN bounds AS b
      JOIN spine AS s ON s.period = b.last_period
      WHERE p.d1 > s.month_end
    ) AS BIGINT) AS later_ends,
    CAST((SELECT SUM(open_end) FROM src) AS BIGINT) AS open_ends,
    CAST((
      SELECT COUNT(*)
      FROM placed AS p
      JOIN spine AS s ON s.period = p.p0
      WHERE p.d1 > p.d0 AND p.d1 <= s.month_end
    ) AS BIGINT) AS inside_month
)
