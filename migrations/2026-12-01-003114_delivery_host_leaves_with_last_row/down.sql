DROP TRIGGER delivery_host_emptied ON delivery;
DROP FUNCTION delivery_host_on_delete();
ALTER TABLE delivery_wake RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold);
ALTER TABLE delivery_host RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold);
