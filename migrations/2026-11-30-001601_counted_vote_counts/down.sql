-- Back to counting every vote.
WITH c AS (
    SELECT p.id,
           count(v.id) FILTER (WHERE v.value = 1)::int AS likes,
           count(v.id) FILTER (WHERE v.value = -1)::int AS dislikes
    FROM post p LEFT JOIN vote v ON v.post_id = p.id
    GROUP BY p.id)
UPDATE post p SET likes = c.likes, dislikes = c.dislikes
FROM c WHERE c.id = p.id AND (p.likes, p.dislikes) IS DISTINCT FROM (c.likes, c.dislikes);

WITH c AS (
    SELECT k.id,
           count(v.id) FILTER (WHERE v.value = 1)::int AS likes,
           count(v.id) FILTER (WHERE v.value = -1)::int AS dislikes
    FROM comment k LEFT JOIN vote v ON v.comment_id = k.id
    GROUP BY k.id)
UPDATE comment k SET likes = c.likes, dislikes = c.dislikes
FROM c WHERE c.id = k.id AND (k.likes, k.dislikes) IS DISTINCT FROM (c.likes, c.dislikes);
