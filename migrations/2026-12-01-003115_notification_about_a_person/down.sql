ALTER TABLE notification DROP COLUMN person_id;
