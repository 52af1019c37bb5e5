DROP TRIGGER reputation_rollups_delete ON reputation_event;
DROP TRIGGER reputation_rollups_update ON reputation_event;
DROP TRIGGER reputation_rollups_insert ON reputation_event;
DROP FUNCTION reputation_rollups_apply();
DROP TABLE reputation_board;
DROP TABLE reputation_day;
DROP FUNCTION reputation_board_start(TEXT, DATE);
