DROP TABLE contest_winner;
DROP TABLE contest;
