-- month steps: each account's ARR at the end of the month before (a) and of this one (b),
-- and the last month before with ARR (a return when not null)
steps AS (
  SELECT
    period,
    CAST(COALESCE(LAG(arr, 1) OVER (PARTITION BY account_id ORDER BY period ASC NULLS FIRST), 0) AS BIGINT) AS a,
    arr AS b,
    MAX(CASE WHEN arr > 0 THEN period END) OVER (
      PARTITION BY account_id ORDER BY period ASC NULLS FIRST ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS last_pos{segs}
  FROM ledger
)
