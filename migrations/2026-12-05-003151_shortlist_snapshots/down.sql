DROP TABLE shortlist_snapshot;
