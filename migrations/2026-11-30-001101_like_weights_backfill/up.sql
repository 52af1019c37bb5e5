-- 2026-11-30-000702 gave every like event written before it a full like (likes_milli = 1000)
-- while the vote behind it was given its instance's weight: a like from an instance weighted
-- 0.5 counted half a like on its vote (bounties) and a whole one on its author's likes
-- received. The live like events written before that migration are set to their vote's
-- recorded weight (a like's event is keyed `like:<post|comment>:<id>:by:<voter>`), and the
-- authors' likes received move by the difference. Reversed events keep their value: their
-- reversal carries its opposite and the vote they came from may have been cast again since.
-- Events written since record their weight already and are not touched.
CREATE TEMPORARY TABLE like_fix ON COMMIT DROP AS
WITH likes AS MATERIALIZED (
    -- Keys parsed only once they are known to be a like's (no cast of another key's parts).
    SELECT id, person_id, likes_milli, split_part(source_key, ':', 2) AS kind,
           split_part(source_key, ':', 3)::bigint AS target_id,
           split_part(source_key, ':', 5)::bigint AS voter
    FROM reputation_event
    WHERE source_key ~ '^like:(post|comment):[0-9]+:by:[0-9]+$'
      AND reverses IS NULL AND NOT reversed
      AND likes_milli = 1000
      AND created_at <= COALESCE(
            (SELECT run_on FROM __diesel_schema_migrations WHERE version = '20261130000702'),
            now()))
SELECT l.id, l.person_id, l.likes_milli AS was, round(v.weight * 1000)::bigint AS now
FROM likes l
JOIN vote v
  ON v.person_id = l.voter AND v.value = 1
 AND ((l.kind = 'post' AND v.post_id = l.target_id)
      OR (l.kind = 'comment' AND v.comment_id = l.target_id))
WHERE round(v.weight * 1000)::bigint <> l.likes_milli;

-- Only likes_milli changes, not the delta the reputation rollups sum: their update trigger
-- (statement-level, on any column) would run for nothing, so it is off for this statement.
ALTER TABLE reputation_event DISABLE TRIGGER reputation_rollups_update;
UPDATE reputation_event e SET likes_milli = f.now FROM like_fix f WHERE e.id = f.id;
ALTER TABLE reputation_event ENABLE TRIGGER reputation_rollups_update;

UPDATE reputation r SET likes_received_milli = r.likes_received_milli + d.change
FROM (SELECT person_id, SUM(now - was) AS change FROM like_fix GROUP BY person_id) d
WHERE r.person_id = d.person_id;
