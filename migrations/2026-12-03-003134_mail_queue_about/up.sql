-- What a queued mail tells of, where that may stop it being wanted before it is sent: a
-- notification mail's notification (its post, comment or contest may be taken down, or its
-- private group left, since), a triggered mail's onboarding rule (it may be disabled or
-- deleted, or its member meet its stop condition, since). An admin's retry of a parked mail
-- asks them again (`cenacle_db::mail::retry_parked_mails`). NULL for other mails, and for
-- mails queued before these columns existed (they are not asked). No foreign keys: a
-- notification or a rule gone must make the mail unwanted, counted among the mails a retry
-- deletes, not delete it unseen (CASCADE) nor make it unasked (SET NULL).
ALTER TABLE mail_queue ADD COLUMN notification_id BIGINT, ADD COLUMN onboarding_rule_id BIGINT;
