-- subscriptions: ARR at a fiscal month's end = the sum of the subscriptions active on
-- its last day (start_date inclusive, end_date exclusive, no end_date = still active)
src AS (
  SELECT
    TRIM(CAST({account_id} AS VARCHAR)) AS account_id,
    CAST({start_date} AS DATE) AS d0,
    CAST({end_date} AS DATE) AS d1,
    CAST(ROUND(CAST({arr} AS DECIMAL(38, 6)) * 100, 0) AS BIGINT) AS cents
  FROM {table}
),
placed AS (
  SELECT s.account_id, p0.period AS p0, p1.period AS p1, s.cents
  FROM src AS s
  JOIN spine AS p0 ON s.d0 BETWEEN p0.month_start AND p0.month_end
  LEFT JOIN spine AS p1 ON s.d1 BETWEEN p1.month_start AND p1.month_end
  WHERE s.account_id <> '' AND s.cents IS NOT NULL AND (s.d1 IS NULL OR p1.period IS NOT NULL)
),
bounds AS (
  SELECT
    MIN(p0) AS first_period,
    CASE WHEN MAX(p1) > MAX(p0) THEN MAX(p1) ELSE MAX(p0) END AS last_period,
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
    ON s.account_id = f.account_id AND s.p0 <= p.period AND (s.p1 IS NULL OR s.p1 > p.period)
  GROUP BY f.account_id, p.period
)
