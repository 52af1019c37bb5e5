DROP INDEX post_attachment_media_idx;
