DROP TABLE bounty;
