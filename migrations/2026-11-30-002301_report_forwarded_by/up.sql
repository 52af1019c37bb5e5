-- A report a group elsewhere forwarded to us (its Announce{Flag}, for its moderators here):
-- only that group's Announce of a resolution may close our copy.
ALTER TABLE report ADD COLUMN forwarded_by_group_id BIGINT REFERENCES community_group (id) ON DELETE SET NULL;
