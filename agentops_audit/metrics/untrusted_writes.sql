-- name: untrusted_writes
-- grain: tool
-- unit: count
-- description: Per write tool, write calls, those made after a span marked agentops.input.trust = 'untrusted' in the same session, those of them with no approval, and how many spans in the traces mark their input trust at all.
SELECT tool,
       count(*)                                                  AS writes,
       count(*) FILTER (WHERE after_untrusted)                   AS after_untrusted,
       count(*) FILTER (WHERE after_untrusted AND NOT has_approval) AS without_approval,
       (SELECT count(*) FROM spans WHERE input_trust IS NOT NULL)  AS trust_marked_spans
FROM write_actions
GROUP BY tool
ORDER BY without_approval DESC, tool;
