-- trailing-window retention (SPEC §5): the cohort is the accounts with ARR > 0 at the
-- end of month s; their ARR {window} months later, at e, per window end e
losses AS (
  SELECT
    account_id,
    period,
    arr{segs},
    {loss} AS loss
  FROM (
    SELECT
      account_id,
      period,
      arr{segs},
      CAST(COALESCE(LAG(arr, 1) OVER (PARTITION BY account_id ORDER BY period ASC NULLS FIRST), 0) AS BIGINT) AS prev
    FROM ledger
  ) AS l
),
cohort AS (
  SELECT
    e.period,
    s.arr AS arr_s,
    e.arr AS arr_e,
    {kept} AS kept{cohort_segs}
  FROM losses AS s
  JOIN losses AS e ON e.account_id = s.account_id AND e.period = s.period + {window}
  WHERE s.arr > 0
),
retention_sums AS (
  SELECT
    period,
    CAST(COUNT(*) AS BIGINT) AS cohort_logos,
    CAST(SUM(arr_s) AS BIGINT) AS cohort_start_arr,
    CAST(SUM(arr_e) AS BIGINT) AS cohort_end_arr,
    CAST(SUM(kept) AS BIGINT) AS cohort_kept_arr,
    CAST(SUM(CASE WHEN arr_e > 0 THEN 1 ELSE 0 END) AS BIGINT) AS retained_logos
  FROM cohort
  GROUP BY period
)
