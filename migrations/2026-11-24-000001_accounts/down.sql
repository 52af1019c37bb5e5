DROP TABLE setup_token;
DROP TABLE invite;
DROP TABLE auth_token;
DROP TABLE local_user;
DROP TABLE person;
