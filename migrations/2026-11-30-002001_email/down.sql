DROP TRIGGER mail_queue_notify ON mail_queue;
DROP FUNCTION notify_mail();
DROP TABLE instance_secret;
DROP TABLE email_opt_out;
DROP TABLE mail_queue;
DROP TABLE account_token;
ALTER TABLE local_user DROP COLUMN email_verified_at;
