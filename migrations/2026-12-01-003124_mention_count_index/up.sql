-- A text tells at most ten members of mentions over all its versions: each text that names
-- someone (a remote reply in the inbox included) counts the mentions it told, by post and
-- comment, without reading every notification.
CREATE INDEX notification_mention_text_idx ON notification (post_id, comment_id) WHERE kind = 'mention';
