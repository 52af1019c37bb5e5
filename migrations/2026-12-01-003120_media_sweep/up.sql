-- The orphan-upload sweep asks of every old upload whether a post carries it, and deleting an
-- upload looks up its attachments (ON DELETE CASCADE): without an index, each is a scan of
-- every attachment.
CREATE INDEX post_attachment_media_idx ON post_attachment (media_id) WHERE media_id IS NOT NULL;
