ALTER TABLE post_attachment DROP COLUMN description;
