DROP TABLE welcome_held;
ALTER TABLE welcome_panel DROP COLUMN mailed_at;
