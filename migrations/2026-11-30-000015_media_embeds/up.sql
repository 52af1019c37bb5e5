-- Files written into a post's or comment's Markdown (`![plan](https://host/media/abc.png)`)
-- rather than attached. Who may fetch a file is decided by the groups whose content carries
-- it; without this, an image pasted into a private group's post stayed readable by anyone
-- holding its URL (a former member, a forwarded link). Kept by triggers so every path that
-- writes content (API, inbox, web pages, moves between groups) records it; rows only
-- accumulate (an edit's earlier text stays in the post's history, visible to the group).
CREATE TABLE media_embed (
    media_id BIGINT NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    group_id BIGINT NOT NULL REFERENCES community_group (id) ON DELETE CASCADE,
    PRIMARY KEY (media_id, group_id)
);

-- Our file names are random ids with an extension (see core's `media::store_file`). Only the
-- writer's own uploads count: pasting someone else's file URL into a private group must not
-- take that file away from the readers of the public post it belongs to.
CREATE FUNCTION media_embed_record(p_group_id BIGINT, p_author_id BIGINT, p_body TEXT) RETURNS VOID
LANGUAGE sql AS $$
    INSERT INTO media_embed (media_id, group_id)
    SELECT m.id, p_group_id
      FROM media m
     WHERE m.uploader_id = p_author_id
       AND m.file_name IN (
           SELECT (regexp_matches(p_body, '/media/([A-Za-z0-9_-]+\.[A-Za-z0-9]+)', 'g'))[1])
    ON CONFLICT DO NOTHING
$$;

CREATE FUNCTION media_embed_from_post() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF position('/media/' IN NEW.body) > 0 THEN
        PERFORM media_embed_record(NEW.group_id, NEW.author_id, NEW.body);
    END IF;
    -- A post moved to another group takes its comments' files with it.
    IF TG_OP = 'UPDATE' AND NEW.group_id <> OLD.group_id THEN
        PERFORM media_embed_record(NEW.group_id, c.author_id, c.body)
           FROM comment c WHERE c.post_id = NEW.id AND position('/media/' IN c.body) > 0;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION media_embed_from_comment() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF position('/media/' IN NEW.body) > 0 THEN
        PERFORM media_embed_record(p.group_id, NEW.author_id, NEW.body) FROM post p WHERE p.id = NEW.post_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER post_media_embed AFTER INSERT OR UPDATE OF body, group_id ON post
    FOR EACH ROW EXECUTE FUNCTION media_embed_from_post();
CREATE TRIGGER comment_media_embed AFTER INSERT OR UPDATE OF body ON comment
    FOR EACH ROW EXECUTE FUNCTION media_embed_from_comment();

-- Files already written into content before this table existed.
SELECT media_embed_record(p.group_id, p.author_id, p.body) FROM post p WHERE position('/media/' IN p.body) > 0;
SELECT media_embed_record(p.group_id, c.author_id, c.body)
  FROM comment c JOIN post p ON p.id = c.post_id
 WHERE position('/media/' IN c.body) > 0;
