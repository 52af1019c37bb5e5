-- Digests go by the member's time zone, an IANA name PostgreSQL knows (`pg_timezone_names`,
-- checked when a member sets it), instead of a fixed offset: an offset is an hour wrong half
-- the year wherever clocks change (a Paris member at +60 got the 08:00 digest at 09:00 all
-- summer). Null: the instance's `email.default_time_zone`.
ALTER TABLE local_user ADD COLUMN time_zone text;

-- Offsets carried over to a zone that keeps them exactly, all year: 0 → UTC; whole hours →
-- `Etc/GMT∓h` (POSIX signs are inverted: UTC+01:00 is `Etc/GMT-1`); the half and quarter
-- hours some places keep all year → the zone of one such place (no summer time there, so
-- the same offset); any other offset (one no place keeps all year, e.g. +03:30) → UTC. The
-- member sees the carried-over name on their account page and may pick their city there.
UPDATE local_user SET time_zone = CASE
    WHEN utc_offset_minutes = 0 THEN 'UTC'
    WHEN utc_offset_minutes % 60 = 0 THEN
        'Etc/GMT' || CASE WHEN utc_offset_minutes > 0 THEN '-' ELSE '+' END
                  || (abs(utc_offset_minutes) / 60)::text
    WHEN utc_offset_minutes = -570 THEN 'Pacific/Marquesas'
    WHEN utc_offset_minutes = 270 THEN 'Asia/Kabul'
    WHEN utc_offset_minutes = 330 THEN 'Asia/Kolkata'
    WHEN utc_offset_minutes = 345 THEN 'Asia/Kathmandu'
    WHEN utc_offset_minutes = 390 THEN 'Asia/Yangon'
    WHEN utc_offset_minutes = 525 THEN 'Australia/Eucla'
    WHEN utc_offset_minutes = 570 THEN 'Australia/Darwin'
    ELSE 'UTC'
END
WHERE utc_offset_minutes IS NOT NULL;

-- Dropped rather than left unused: nothing reads it any more, and a second "local time"
-- column would only invite a reader to trust the wrong one.
ALTER TABLE local_user DROP COLUMN utc_offset_minutes;
