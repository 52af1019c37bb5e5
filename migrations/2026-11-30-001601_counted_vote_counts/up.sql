-- The likes and dislikes shown beside posts and comments (what feeds sort by) count only the
-- votes that count: not one's own, not those from an instance weighted 0 or blocked (see
-- `content::cast_vote`). Recounted here from the votes as they stand; only rows that differ
-- are written.
WITH c AS (
    SELECT p.id,
           count(v.id) FILTER (WHERE v.value = 1 AND v.counted)::int AS likes,
           count(v.id) FILTER (WHERE v.value = -1 AND v.counted)::int AS dislikes
    FROM post p LEFT JOIN vote v ON v.post_id = p.id
    GROUP BY p.id)
UPDATE post p SET likes = c.likes, dislikes = c.dislikes
FROM c WHERE c.id = p.id AND (p.likes, p.dislikes) IS DISTINCT FROM (c.likes, c.dislikes);

WITH c AS (
    SELECT k.id,
           count(v.id) FILTER (WHERE v.value = 1 AND v.counted)::int AS likes,
           count(v.id) FILTER (WHERE v.value = -1 AND v.counted)::int AS dislikes
    FROM comment k LEFT JOIN vote v ON v.comment_id = k.id
    GROUP BY k.id)
UPDATE comment k SET likes = c.likes, dislikes = c.dislikes
FROM c WHERE c.id = k.id AND (k.likes, k.dislikes) IS DISTINCT FROM (c.likes, c.dislikes);
