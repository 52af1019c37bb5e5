ALTER TABLE reputation
    DROP COLUMN capped_day,
    DROP COLUMN capped_today,
    DROP COLUMN likes_received;
