-- snapshots: the latest snapshot dated in a fiscal month stands for its end; an account
-- absent from a month it was in before is 0. Two rows of one account and date are
-- counted in unplaced (the file reader's error), or summed as line items when the
-- config says snapshots: {combine: sum}
src AS (
  SELECT
    TRIM(CAST({account_id} AS VARCHAR)) AS account_id,
    CAST({date} AS DATE) AS d,
    CAST(ROUND(CAST({arr} AS DECIMAL(38, 6)) * 100, 0) AS BIGINT) AS cents{dims}
  FROM {table}
),
placed AS (
  SELECT s.account_id, p.period, s.d, s.cents{placed_dims}
  FROM src AS s
  JOIN spine AS p ON s.d BETWEEN p.month_start AND p.month_end
  WHERE s.account_id <> '' AND s.cents IS NOT NULL
),
clashes AS (
  SELECT account_id, d FROM placed GROUP BY account_id, d HAVING {clash}
),
bounds AS (
  SELECT
    MIN(period) AS first_period,
    MAX(period) AS last_period,
    CAST((SELECT COUNT(*) FROM src) AS BIGINT) AS rows_read,
    CAST((SELECT COUNT(*) FROM src) - COUNT(*) + (SELECT COUNT(*) FROM clashes) AS BIGINT) AS unplaced
  FROM placed
),
latest AS (
  SELECT account_id, period, MAX(d) AS d FROM placed GROUP BY account_id, period
),
points AS (
  SELECT p.account_id, p.period, CAST(SUM(p.cents) AS BIGINT) AS cents
  FROM placed AS p
  JOIN latest AS l ON p.account_id = l.account_id AND p.period = l.period AND p.d = l.d
  GROUP BY p.account_id, p.period
),
firsts AS (
  SELECT account_id, MIN(period) AS first_period FROM points GROUP BY account_id
),
ledger_raw AS (
  SELECT f.account_id, p.period, CAST(COALESCE(pt.cents, 0) AS BIGINT) AS arr
  FROM firsts AS f
  CROSS JOIN bounds AS b
  JOIN spine AS p ON p.period >= f.first_period AND p.period <= b.last_period
  LEFT JOIN points AS pt ON pt.account_id = f.account_id AND pt.period = p.period
),
dated AS (
  SELECT period, CAST(COUNT(*) AS BIGINT) AS dated_rows, CAST(SUM(cents) AS BIGINT) AS dated_cents FROM placed GROUP BY period
),
shape_notes AS (
  SELECT
    CAST((
      SELECT COUNT(*) FROM (
        SELECT account_id, period
        FROM placed
        GROUP BY account_id, period
        HAVING COUNT(DISTINCT d) > 1
      ) AS x
    ) AS BIGINT) AS several,
    CAST(0 AS BIGINT) AS later_ends,
    CAST(0 AS BIGINT) AS open_ends,
    CAST(0 AS BIGINT) AS inside_month
)
