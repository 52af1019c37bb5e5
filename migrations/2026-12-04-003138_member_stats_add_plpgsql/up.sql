-- Issue 9: `member_stats_add` (migration 2026-12-02-003125), called by the statistics
-- triggers of every vote, post, comment and view, was a LANGUAGE sql function of two
-- statements. PostgreSQL inlines no multi-statement SQL function and keeps no plan of its
-- statements across calls: both were parsed and planned at every call (310–320 µs a call in
-- the inbox benchmark's profile, docs/benchmarks.md). A PL/pgSQL body plans each statement
-- once per connection and reuses the plan (88–103 µs a call measured). Same statements,
-- same order, same effect.
CREATE OR REPLACE FUNCTION member_stats_add(changes member_stats_delta[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO member_stats_pending (person_id, group_id, tags, day, threads, ideas, replies,
        accepted, likes, views, first_replies, first_reply_secs, helped)
    SELECT c.person_id, c.group_id, COALESCE(c.tags, '{}'), c.day, c.threads, c.ideas, c.replies,
           c.accepted, c.likes, c.views, c.first_replies, c.first_reply_secs, c.helped
    FROM unnest(changes) AS c
    WHERE c.person_id IS NOT NULL AND c.group_id IS NOT NULL;
    INSERT INTO topic_stats_day AS s (tag, day, group_id, accepted)
    SELECT t.tag, c.day, c.group_id, SUM(c.accepted)
    FROM unnest(changes) AS c
    CROSS JOIN LATERAL (SELECT DISTINCT x FROM unnest(array_prepend('', c.tags)) AS u (x)) AS t (tag)
    WHERE c.person_id IS NOT NULL AND c.group_id IS NOT NULL AND c.accepted <> 0
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (tag, day, group_id) DO UPDATE SET accepted = s.accepted + EXCLUDED.accepted;
END;
$$;
