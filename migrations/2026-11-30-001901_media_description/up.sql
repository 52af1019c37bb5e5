-- A description of an uploaded image or video for those who cannot see it: shown as the
-- page's `alt` text and federated as the attachment's `name` (what Mastodon and Lemmy read as
-- alt text).
ALTER TABLE media ADD COLUMN description text
    CONSTRAINT media_description_length CHECK (char_length(description) <= 1500);
