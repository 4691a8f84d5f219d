-- movements: ARR at a fiscal month's end = the running sum of the amounts dated on or
-- before it (contraction and churn subtracted, whatever their sign)
src AS (
  SELECT
    TRIM(CAST({account_id} AS VARCHAR)) AS account_id,
    CAST({date} AS DATE) AS d,
    LOWER(TRIM(CAST({type} AS VARCHAR))) AS kind,
    CAST(ROUND(CAST({amount} AS DECIMAL(38, 6)) * 100, 0) AS BIGINT) AS cents{dims}
  FROM {table}
),
placed AS (
  SELECT
    s.account_id,
    p.period,
    CASE WHEN s.kind IN ('contraction', 'churn') THEN -ABS(s.cents) ELSE s.cents END AS cents{placed_dims}
  FROM src AS s
  JOIN spine AS p ON s.d BETWEEN p.month_start AND p.month_end
  WHERE s.account_id <> '' AND s.cents IS NOT NULL
    AND s.kind IN ('new', 'expansion', 'contraction', 'churn', 'reactivation')
),
bounds AS (
  SELECT
    MIN(period) AS first_period,
    MAX(period) AS last_period,
    CAST((SELECT COUNT(*) FROM src) AS BIGINT) AS rows_read,
    CAST((SELECT COUNT(*) FROM src) - COUNT(*) AS BIGINT) AS unplaced
  FROM placed
),
points AS (
  SELECT account_id, period, CAST(SUM(cents) AS BIGINT) AS cents
  FROM placed
  GROUP BY account_id, period
),
firsts AS (
  SELECT account_id, MIN(period) AS first_period FROM points GROUP BY account_id
),
deltas AS (
  SELECT f.account_id, p.period, CAST(COALESCE(pt.cents, 0) AS BIGINT) AS cents
  FROM firsts AS f
  CROSS JOIN bounds AS b
  JOIN spine AS p ON p.period >= f.first_period AND p.period <= b.last_period
  LEFT JOIN points AS pt ON pt.account_id = f.account_id AND pt.period = p.period
),
ledger_raw AS (
  SELECT
    account_id,
    period,
    CAST(SUM(cents) OVER (
      PARTITION BY account_id ORDER BY period ASC NULLS FIRST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS BIGINT) AS arr
  FROM deltas
),
dated AS (
  SELECT period, CAST(COUNT(*) AS BIGINT) AS dated_rows, CAST(SUM(cents) AS BIGINT) AS dated_cents FROM placed GROUP BY period
),
shape_notes AS (
  SELECT CAST(0 AS BIGINT) AS several, CAST(0 AS BIGINT) AS later_ends, CAST(0 AS BIGINT) AS open_ends,
    CAST(0 AS BIGINT) AS inside_month
)
