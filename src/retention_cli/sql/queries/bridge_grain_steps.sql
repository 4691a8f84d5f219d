-- steps of a longer grain (net bridge): each account's ARR at the end of the month before
-- the period (a) and at its last month (b, or the data's last month); a return when the
-- account had ARR in some month up to the one before the period
grains AS (
  SELECT first_month, last_month
  FROM (VALUES
    {grains}
  ) AS g(first_month, last_month)
),
pairs AS (
  SELECT
    CASE WHEN g.last_month > b.last_period THEN b.last_period ELSE g.last_month END AS period,
    g.first_month - 1 AS prev
  FROM grains AS g
  CROSS JOIN bounds AS b
  WHERE g.first_month <= b.last_period AND g.last_month >= b.first_period
),
first_pos AS (
  SELECT account_id, MIN(period) AS first_pos FROM ledger WHERE arr > 0 GROUP BY account_id
),
steps AS (
  SELECT
    pr.period,
    CAST(COALESCE(s.arr, 0) AS BIGINT) AS a,
    e.arr AS b,
    CASE WHEN f.first_pos <= pr.prev THEN pr.prev END AS last_pos{segs}
  FROM pairs AS pr
  JOIN ledger AS e ON e.period = pr.period
  LEFT JOIN ledger AS s ON s.account_id = e.account_id AND s.period = pr.prev
  LEFT JOIN first_pos AS f ON f.account_id = e.account_id
)
