-- Digests go by the member's time zone, an IANA name PostgreSQL knows (`pg_timezone_names`,
-- checked when a member sets it), instead of a fixed offset: an offset is an hour wrong half
-- the year wherever clocks change (a Paris member at +60 got the 08:00 digest at 09:00 all
-- summer). Null: the instance's `email.default_time_zone`.
ALTER TABLE local_user ADD COLUMN time_zone text;

-- Offsets carried over to the zone of the place whose clock they are: 0 → UTC; whole hours →
-- `Etc/GMT∓h`, which keeps the offset all year (POSIX signs are inverted: UTC+01:00 is
-- `Etc/GMT-1`); a half or quarter hour kept all year by one place → that place (places keeping
-- the same clock all year, Kolkata and Colombo, are as good as one), and one that only one
-- place uses part of the year → that place, its clock changes followed, which is what the
-- member lives by (−02:30 is Newfoundland's summer, +13:45 Chatham's); anything else → UTC
-- (+10:30 is Lord Howe's winter but South Australia's summer: two places). The member sees
-- the carried-over name on their account page and may pick their city there. The same table
-- reads the configuration's deprecated `email.default_utc_offset_minutes`
-- (`cenacle_domain::digest::zone_of_utc_offset`; crates/cenacle_db/tests/time_zones.rs
-- checks that both agree).
UPDATE local_user SET time_zone = CASE
    WHEN utc_offset_minutes = 0 THEN 'UTC'
    WHEN utc_offset_minutes % 60 = 0 THEN
        'Etc/GMT' || CASE WHEN utc_offset_minutes > 0 THEN '-' ELSE '+' END
                  || (abs(utc_offset_minutes) / 60)::text
    WHEN utc_offset_minutes = -570 THEN 'Pacific/Marquesas'
    WHEN utc_offset_minutes IN (-210, -150) THEN 'America/St_Johns'
    -- Iran has kept +03:30 all year since 2022.
    WHEN utc_offset_minutes = 210 THEN 'Asia/Tehran'
    WHEN utc_offset_minutes = 270 THEN 'Asia/Kabul'
    WHEN utc_offset_minutes = 330 THEN 'Asia/Kolkata'
    WHEN utc_offset_minutes = 345 THEN 'Asia/Kathmandu'
    WHEN utc_offset_minutes = 390 THEN 'Asia/Yangon'
    WHEN utc_offset_minutes = 525 THEN 'Australia/Eucla'
    -- Darwin's all year; Adelaide's only in winter.
    WHEN utc_offset_minutes = 570 THEN 'Australia/Darwin'
    WHEN utc_offset_minutes IN (765, 825) THEN 'Pacific/Chatham'
    ELSE 'UTC'
END
WHERE utc_offset_minutes IS NOT NULL;

-- Dropped rather than left unused: nothing reads it any more, and a second "local time"
-- column would only invite a reader to trust the wrong one.
ALTER TABLE local_user DROP COLUMN utc_offset_minutes;
