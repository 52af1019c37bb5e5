-- Issue 9: the statistics rollups (`member_stats_day`, migration 2026-11-30-000801) were
-- upserted by every like, view, post and comment in the action's own transaction, so every
-- transaction touching one author's content took the same few rows (per tag, day, group and
-- author) and held them until it committed: likes of a popular author queued on them one by
-- one, and a reader opening one of their posts (its view counted) waited behind every like in
-- flight. The changes now go to an append-only table that no two transactions share a row of,
-- and a periodic job (`cenacle_core::insights::fold_statistics`, every few seconds, batches
-- claimed with SKIP LOCKED so several servers may fold side by side) adds them to the day
-- rows. Readers see both (the view `member_stats_rows`), so figures stay exact to the last
-- committed action, as before.

-- One change, as the triggers computed it: counted for the group ('' tag) and each of `tags`
-- when folded. No foreign keys: checking them would take a share lock on the author's person
-- row (and the group's) at every like, the contention this table removes; rows of people or
-- groups gone since are skipped by the readers and dropped by the fold.
CREATE TABLE member_stats_pending (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id        BIGINT NOT NULL,
    group_id         BIGINT NOT NULL,
    -- No NULL tag: the fold could never write it (member_stats_day.tag is NOT NULL), and
    -- would fail on that change for ever; refused here, in the action, as it was before.
    tags             TEXT[] NOT NULL CHECK (array_position(tags, NULL) IS NULL),
    day              DATE NOT NULL,
    threads          INT NOT NULL,
    ideas            INT NOT NULL,
    replies          INT NOT NULL,
    accepted         INT NOT NULL,
    likes            DOUBLE PRECISION NOT NULL,
    views            BIGINT NOT NULL,
    first_replies    INT NOT NULL,
    first_reply_secs BIGINT NOT NULL,
    helped           BIGINT
);

-- What `member_stats_add` did to the day rows, now done by the fold only.
CREATE FUNCTION member_stats_upsert(changes member_stats_delta[]) RETURNS void LANGUAGE sql AS $$
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
$$;

-- Every trigger still calls this one function: the members' part is appended (a new row per
-- change, nothing updated); the topics' accepted answers are still added in place (written
-- only by acceptances, which are rare).
CREATE OR REPLACE FUNCTION member_stats_add(changes member_stats_delta[]) RETURNS void LANGUAGE sql AS $$
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
$$;

-- Folds up to `batch` of the oldest pending changes into the day rows, in the caller's
-- transaction; how many it took (call again while it returns `batch`). Rows another fold has
-- claimed are skipped, not waited for.
CREATE FUNCTION member_stats_fold(batch INT) RETURNS INT LANGUAGE plpgsql AS $$
DECLARE
    taken member_stats_delta[];
    n INT;
BEGIN
    WITH claimed AS (
        DELETE FROM member_stats_pending
        WHERE id IN (SELECT id FROM member_stats_pending ORDER BY id LIMIT batch FOR UPDATE SKIP LOCKED)
        RETURNING *)
    SELECT array_agg(ROW(c.person_id, c.group_id, c.tags, c.day, c.threads, c.ideas, c.replies,
                         c.accepted, c.likes, c.views, c.first_replies, c.first_reply_secs,
                         c.helped)::member_stats_delta)
               FILTER (WHERE EXISTS (SELECT 1 FROM person p WHERE p.id = c.person_id)
                         AND EXISTS (SELECT 1 FROM community_group g WHERE g.id = c.group_id)),
           count(*)
      INTO taken, n
      FROM claimed c;
    IF taken IS NOT NULL THEN
        PERFORM member_stats_upsert(taken);
    END IF;
    RETURN n;
END;
$$;

-- What every reader of the statistics reads: the folded day rows and the changes not folded
-- yet, one row per tag as the fold will write them (sums over either are the same).
CREATE VIEW member_stats_rows AS
SELECT tag, day, group_id, person_id, threads, ideas, replies, accepted, likes, views,
       first_replies, first_reply_secs, helped
FROM member_stats_day
UNION ALL
SELECT t.tag, p.day, p.group_id, p.person_id, p.threads, p.ideas, p.replies, p.accepted, p.likes,
       p.views, p.first_replies, p.first_reply_secs,
       CASE WHEN p.helped IS NULL THEN '{}'::bigint[] ELSE ARRAY[p.helped] END
FROM member_stats_pending p
CROSS JOIN LATERAL (SELECT DISTINCT x FROM unnest(array_prepend('', p.tags)) AS u (x)) AS t (tag)
WHERE EXISTS (SELECT 1 FROM person e WHERE e.id = p.person_id)
  AND EXISTS (SELECT 1 FROM community_group g WHERE g.id = p.group_id);
