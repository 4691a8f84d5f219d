-- segments roll forward (SPEC §4, metrics/transfers.py): an account with ARR at a
-- step's start whose segment changed leaves the old segment (transfer_out: its start
-- ARR and one logo, with its start) and enters the new one (transfer_in); its movement
-- counts in the new segment. members: the accounts in the segment at the step's end
moves AS (
  SELECT
    period,
    a,
    b,
    is_back,
    is_new,
    {segs},
    CASE WHEN a > 0 AND ({changed}) THEN 1 ELSE 0 END AS moved
  FROM classed
),
seg_rows AS (
  SELECT
    period,
    {into},
    CASE WHEN moved = 1 THEN 0 ELSE a END AS start_arr,
    CASE WHEN is_new = 1 THEN b ELSE 0 END AS new_arr,
    CASE WHEN is_back = 1 THEN b ELSE 0 END AS reactivation_arr,
    CASE WHEN a > 0 AND b > a THEN b - a ELSE 0 END AS expansion_arr,
    CASE WHEN b > 0 AND b < a THEN a - b ELSE 0 END AS contraction_arr,
    CASE WHEN a > 0 AND b = 0 THEN a ELSE 0 END AS churned_arr,
    b AS end_arr,
    CASE WHEN moved = 0 AND a > 0 THEN 1 ELSE 0 END AS start_logos,
    is_new AS new_logos,
    is_back AS reactivated_logos,
    CASE WHEN a > 0 AND b = 0 THEN 1 ELSE 0 END AS churned_logos,
    CASE WHEN b > 0 THEN 1 ELSE 0 END AS end_logos,
    CASE WHEN moved = 1 THEN a ELSE 0 END AS transfer_in_arr,
    0 AS transfer_out_arr,
    moved AS transfer_in_logos,
    0 AS transfer_out_logos,
    1 AS members
  FROM moves
  UNION ALL
  SELECT
    period,
    {out_of},
    a, 0, 0, 0, 0, 0, 0,
    1, 0, 0, 0, 0,
    0, a, 0, 1,
    0
  FROM moves
  WHERE moved = 1
),
bridge_segments AS (
  SELECT
    period,
    {seg_names},
    CAST(SUM(start_arr) AS BIGINT) AS start_arr,
    CAST(SUM(new_arr) AS BIGINT) AS new_arr,
    CAST(SUM(reactivation_arr) AS BIGINT) AS reactivation_arr,
    CAST(SUM(expansion_arr) AS BIGINT) AS expansion_arr,
    CAST(SUM(contraction_arr) AS BIGINT) AS contraction_arr,
    CAST(SUM(churned_arr) AS BIGINT) AS churned_arr,
    CAST(SUM(end_arr) AS BIGINT) AS end_arr,
    CAST(SUM(start_logos) AS BIGINT) AS start_logos,
    CAST(SUM(new_logos) AS BIGINT) AS new_logos,
    CAST(SUM(reactivated_logos) AS BIGINT) AS reactivated_logos,
    CAST(SUM(churned_logos) AS BIGINT) AS churned_logos,
    CAST(SUM(end_logos) AS BIGINT) AS end_logos,
    CAST(SUM(transfer_in_arr) AS BIGINT) AS transfer_in_arr,
    CAST(SUM(transfer_out_arr) AS BIGINT) AS transfer_out_arr,
    CAST(SUM(transfer_in_logos) AS BIGINT) AS transfer_in_logos,
    CAST(SUM(transfer_out_logos) AS BIGINT) AS transfer_out_logos,
    CAST(SUM(members) AS BIGINT) AS members
  FROM seg_rows
  GROUP BY period, {seg_names}
)
