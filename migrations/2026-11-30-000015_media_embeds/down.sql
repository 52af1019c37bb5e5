DROP TRIGGER comment_media_embed ON comment;
DROP TRIGGER post_media_embed ON post;
DROP FUNCTION media_embed_from_comment();
DROP FUNCTION media_embed_from_post();
DROP FUNCTION media_embed_record(BIGINT, BIGINT, TEXT);
DROP TABLE media_embed;
