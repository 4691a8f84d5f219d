-- churn_grace: a run of at most {grace} zero months that ends with the account back
-- carries its last ARR through (no churn, no reactivation)
marks AS (
  SELECT
    account_id,
    period,
    arr,
    MAX(CASE WHEN arr > 0 THEN period END) OVER (
      PARTITION BY account_id ORDER BY period ASC NULLS FIRST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS last_pos,
    MIN(CASE WHEN arr > 0 THEN period END) OVER (
      PARTITION BY account_id ORDER BY period ASC NULLS FIRST ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING
    ) AS next_pos
  FROM ledger_raw
),
{ledger} AS (
  SELECT
    m.account_id,
    m.period,
    CAST(CASE WHEN m.arr = 0 AND m.next_pos - m.last_pos - 1 <= {grace} THEN k.arr ELSE m.arr END AS BIGINT) AS arr
  FROM marks AS m
  LEFT JOIN ledger_raw AS k ON k.account_id = m.account_id AND k.period = m.last_pos
),
grace_notes AS (
  SELECT CAST(COUNT(*) AS BIGINT) AS grace_gaps
  FROM (
    SELECT DISTINCT account_id, last_pos
    FROM marks
    WHERE arr = 0 AND next_pos - last_pos - 1 <= {grace}
  ) AS x
)
