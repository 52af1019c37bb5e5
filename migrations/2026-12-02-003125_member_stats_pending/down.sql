-- No change appended after the fold's snapshot is dropped with the table.
LOCK TABLE member_stats_pending IN SHARE ROW EXCLUSIVE MODE;
SELECT member_stats_fold(2147483647);
DROP VIEW member_stats_rows;
DROP FUNCTION member_stats_fold(INT);
CREATE OR REPLACE FUNCTION member_stats_add(changes member_stats_delta[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO member_stats_day AS m (tag, day, group_id, person_id, threads, ideas, replies,
        accepted, likes, views, first_replies, first_reply_secs, helped)
    SELECT t.tag, c.day, c.group_id, c.person_id, SUM(c.threads), SUM(c.ideas), SUM(c.replies),
           SUM(c.accepted), SUM(c.likes), SUM(c.views), SUM(c.first_replies), SUM(c.first_reply_secs),
           COALESCE(array_agg(DISTINCT c.helped ORDER BY c.helped) FILTER (WHERE c.helped IS NOT NULL), '{}')
    FROM unnest(changes) AS c
    CROSS JOIN LATERAL (SELECT DISTINCT x FROM unnest(array_prepend('', c.tags)) AS u (x)) AS t (tag)
    WHERE c.person_id IS NOT NULL AND c.group_id IS NOT NULL
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (tag, day, group_id, person_id) DO UPDATE SET
        threads = m.threads + EXCLUDED.threads,
        ideas = m.ideas + EXCLUDED.ideas,
        replies = m.replies + EXCLUDED.replies,
        accepted = m.accepted + EXCLUDED.accepted,
        likes = m.likes + EXCLUDED.likes,
        views = m.views + EXCLUDED.views,
        first_replies = m.first_replies + EXCLUDED.first_replies,
        first_reply_secs = m.first_reply_secs + EXCLUDED.first_reply_secs,
        helped = CASE WHEN EXCLUDED.helped = '{}' THEN m.helped
                      ELSE ARRAY(SELECT DISTINCT h FROM unnest(m.helped || EXCLUDED.helped) AS h ORDER BY h) END;
    INSERT INTO topic_stats_day AS s (tag, day, group_id, accepted)
    SELECT t.tag, c.day, c.group_id, SUM(c.accepted)
    FROM unnest(changes) AS c
    CROSS JOIN LATERAL (SELECT DISTINCT x FROM unnest(array_prepend('', c.tags)) AS u (x)) AS t (tag)
    WHERE c.person_id IS NOT NULL AND c.group_id IS NOT NULL AND c.accepted <> 0
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (tag, day, group_id) DO UPDATE SET accepted = s.accepted + EXCLUDED.accepted;
$$;
DROP FUNCTION member_stats_upsert(member_stats_delta[]);
DROP TABLE member_stats_pending;
