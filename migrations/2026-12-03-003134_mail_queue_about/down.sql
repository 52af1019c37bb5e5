ALTER TABLE mail_queue DROP COLUMN notification_id, DROP COLUMN onboarding_rule_id;
