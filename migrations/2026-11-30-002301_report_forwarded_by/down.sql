ALTER TABLE report DROP COLUMN forwarded_by_group_id;
