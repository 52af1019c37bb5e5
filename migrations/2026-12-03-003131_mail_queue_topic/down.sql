ALTER TABLE mail_queue DROP COLUMN topic;
