DROP TRIGGER notification_mail_notify ON notification;
DROP INDEX notification_mail_pending;
ALTER TABLE notification DROP COLUMN mail_due;
