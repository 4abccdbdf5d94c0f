-- name: policy_violation_rate
-- grain: audit
-- unit: ratio
-- description: Violating actions over attempted actions. Attempted: write tool calls plus denied attempts (deny decisions). Violating: deny decisions, plus writes without a gateway decision or, when risky, without approval (a write counts once).
WITH d AS (SELECT count(*) AS denies FROM spans WHERE policy_decision = 'deny'),
w AS (
    SELECT count(*) AS writes,
           count(*) FILTER (WHERE NOT has_gateway_decision OR (risky AND NOT has_approval)) AS violating_writes
    FROM write_actions
)
SELECT writes + denies                        AS attempted_actions,
       denies,
       violating_writes,
       denies + violating_writes              AS violating_actions,
       (denies + violating_writes) / nullif(writes + denies, 0) AS rate
FROM d, w;
