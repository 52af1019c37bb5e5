-- Notifications mailed (issue 16): a notification whose kind the recipient hears of by e-mail
-- is marked, in the transaction that writes it, with when it is to be mailed. The mail worker
-- turns `immediate` ones into mails (and clears the mark in the same transaction, so each is
-- mailed once); the digest job gathers `daily` and `weekly` ones.
ALTER TABLE notification ADD COLUMN mail_due text
    CONSTRAINT notification_mail_due CHECK (mail_due IN ('immediate', 'daily', 'weekly'));
CREATE INDEX notification_mail_pending ON notification (mail_due, recipient_id, id)
    WHERE mail_due IS NOT NULL;

-- The mail workers wake for a notification to mail at once, as for a queued mail.
CREATE TRIGGER notification_mail_notify AFTER INSERT ON notification
    FOR EACH ROW WHEN (NEW.mail_due = 'immediate') EXECUTE FUNCTION notify_mail();
