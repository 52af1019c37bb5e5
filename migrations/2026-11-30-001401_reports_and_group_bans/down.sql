DROP TABLE group_ban;
DROP TABLE report;
DROP TABLE group_report_reason;
