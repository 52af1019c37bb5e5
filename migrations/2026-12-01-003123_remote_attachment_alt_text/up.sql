-- A remote post's attachments keep their alt text (the `name` Mastodon and Lemmy give an
-- image), shown to screen readers here and sent on when the group relays the post. Our own
-- uploads keep theirs on the media row.
ALTER TABLE post_attachment ADD COLUMN description text;
