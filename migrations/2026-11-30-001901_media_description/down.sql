ALTER TABLE media DROP COLUMN description;
