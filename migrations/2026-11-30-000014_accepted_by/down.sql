ALTER TABLE post DROP COLUMN accepted_by;
