-- the bridge (SPEC §4): each step classified, then summed per reported period
classed AS (
  SELECT
    period,
    a,
    b{segs},
    CASE WHEN a = 0 AND b > 0 AND {returning} THEN 1 ELSE 0 END AS is_back,
    CASE WHEN a = 0 AND b > 0 AND NOT ({returning}) THEN 1 ELSE 0 END AS is_new
  FROM steps
),
bridge_sums AS (
  SELECT
    period,
    CAST(SUM(a) AS BIGINT) AS start_arr,
    CAST(SUM(CASE WHEN is_new = 1 THEN b ELSE 0 END) AS BIGINT) AS new_arr,
    CAST(SUM(CASE WHEN is_back = 1 THEN b ELSE 0 END) AS BIGINT) AS reactivation_arr,
    CAST(SUM(CASE WHEN a > 0 AND b > a THEN b - a ELSE 0 END) AS BIGINT) AS expansion_arr,
    CAST(SUM(CASE WHEN b > 0 AND b < a THEN a - b ELSE 0 END) AS BIGINT) AS contraction_arr,
    CAST(SUM(CASE WHEN a > 0 AND b = 0 THEN a ELSE 0 END) AS BIGINT) AS churned_arr,
    CAST(SUM(b) AS BIGINT) AS end_arr,
    CAST(SUM(CASE WHEN a > 0 THEN 1 ELSE 0 END) AS BIGINT) AS start_logos,
    CAST(SUM(is_new) AS BIGINT) AS new_logos,
    CAST(SUM(is_back) AS BIGINT) AS reactivated_logos,
    CAST(SUM(CASE WHEN a > 0 AND b = 0 THEN 1 ELSE 0 END) AS BIGINT) AS churned_logos,
    CAST(SUM(CASE WHEN b > 0 THEN 1 ELSE 0 END) AS BIGINT) AS end_logos
  FROM classed
  GROUP BY period
)
