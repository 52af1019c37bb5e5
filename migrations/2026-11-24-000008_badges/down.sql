ALTER TABLE person DROP COLUMN title_badge_id;
DROP TABLE badge_award;
DROP TABLE badge;
