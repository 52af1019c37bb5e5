-- Back to a fixed offset: each zone's offset at the moment of the rollback (exact for the
-- carried-over `UTC`, `Etc/GMT∓h` and zones that keep their offset all year; for a zone with
-- summer time, a carried-over `America/St_Johns` or `Pacific/Chatham` among them, the
-- season's), bounded as the old column was.
ALTER TABLE local_user ADD COLUMN utc_offset_minutes integer
    CONSTRAINT local_user_utc_offset CHECK (utc_offset_minutes BETWEEN -720 AND 840);
UPDATE local_user SET utc_offset_minutes = least(840, greatest(-720,
    (extract(epoch FROM (now() AT TIME ZONE time_zone) - (now() AT TIME ZONE 'UTC')) / 60)::integer))
WHERE time_zone IS NOT NULL;
ALTER TABLE local_user DROP COLUMN time_zone;
