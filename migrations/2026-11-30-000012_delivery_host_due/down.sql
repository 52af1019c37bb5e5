DROP INDEX delivery_host_due_idx;
CREATE INDEX delivery_host_idx ON delivery (host);
