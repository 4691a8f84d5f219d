-- one dimension's value in each account-month where one is dated
dim_{i} AS (
  SELECT r.account_id, r.period, MIN(r.seg_{i}) AS v
  FROM dim_rows AS r
  JOIN (
    SELECT account_id, period, MAX(d) AS d
    FROM dim_rows
    WHERE seg_{i} IS NOT NULL
    GROUP BY account_id, period
  ) AS l ON l.account_id = r.account_id AND l.period = r.period AND l.d = r.d
  WHERE r.seg_{i} IS NOT NULL
  GROUP BY r.account_id, r.period
)
