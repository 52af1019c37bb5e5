-- A worker whose slots for one host free up claims that host's next rows through this index,
-- instead of reading the whole queue past the hosts it may not send to yet.
DROP INDEX delivery_host_idx;
CREATE INDEX delivery_host_due_idx ON delivery (host, next_attempt_at);
