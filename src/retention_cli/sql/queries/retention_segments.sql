-- retention per segment: a cohort account counts in its segment at the window start
retention_segments AS (
  SELECT
    period,
    {seg_names},
    CAST(COUNT(*) AS BIGINT) AS cohort_logos,
    CAST(SUM(arr_s) AS BIGINT) AS cohort_start_arr,
    CAST(SUM(arr_e) AS BIGINT) AS cohort_end_arr,
    CAST(SUM(kept) AS BIGINT) AS cohort_kept_arr,
    CAST(SUM(CASE WHEN arr_e > 0 THEN 1 ELSE 0 END) AS BIGINT) AS retained_logos
  FROM (
    SELECT period, arr_s, arr_e, kept, {coalesced}
    FROM cohort
  ) AS c
  GROUP BY period, {seg_names}
)
