-- What, within its kind, a queued mail is about, where a member's preference decides whether
-- it is sent: a notification mail's notification kind (`reply`, `mention`…), a digest's
-- cadence (`daily`, `weekly`). An admin's retry of a parked mail asks that preference again
-- (`cenacle_db::mail::retry_parked_mails`). NULL for other kinds, and for mails queued before
-- this column existed (their preference cannot be asked again).
ALTER TABLE mail_queue ADD COLUMN topic TEXT;
