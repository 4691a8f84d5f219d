-- segments (--by): per dimension, the latest value dated in an account-month (nulls
-- skipped; a later date wins), carried forward to the months after it (SPEC §4). The
-- dimension values are the table's, trimmed; a missing one is the segment '(none)'.
-- Two rows of one account and date that disagree on a dimension are counted in
-- dim_ties: the file reader decides those by line order, which a table does not have
dim_rows AS (
  SELECT {dim_rows}
),
{dim_at},
seg_pos AS (
  SELECT
    l.account_id,
    l.period,
    {seg_pos}
  FROM ledger_raw AS l
  {seg_pos_joins}
),
segs AS (
  SELECT
    p.account_id,
    p.period,
    {seg_values}
  FROM seg_pos AS p
  {seg_value_joins}
),
ledger AS (
  SELECT l.account_id, l.period, l.arr, {seg_cols}
  FROM ledger_flat AS l
  JOIN segs AS s ON s.account_id = l.account_id AND s.period = l.period
),
dim_ties AS (
  SELECT account_id, d
  FROM dim_rows
  GROUP BY account_id, d
  HAVING {tie}
),
segment_notes AS (
  SELECT CAST((SELECT COUNT(*) FROM dim_ties) AS BIGINT) AS dim_ties
),
segment_list AS (
  SELECT DISTINCT {listed}
  FROM ledger
)
