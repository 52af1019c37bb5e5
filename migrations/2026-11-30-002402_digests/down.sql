DROP TABLE digest_sent;
ALTER TABLE local_user DROP COLUMN utc_offset_minutes;
