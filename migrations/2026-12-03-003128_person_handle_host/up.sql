-- People of a server whose handles name another domain than its actors' URLs (Mastodon's
-- `LOCAL_DOMAIN` / `WEB_DOMAIN`: `alice@example.org`, actor at `social.example.org`): the
-- handle's host, once both servers confirmed it, so that a text naming `@alice@example.org`
-- tags them without looking them up again. NULL: named by their actor's host.
ALTER TABLE person ADD COLUMN handle_host text;
-- The same lookup as `person_remote_handle_idx`, by the handle's host; unique, as a handle
-- names one person (a second confirmation takes it from the first: `set_handle_host`).
CREATE UNIQUE INDEX person_remote_handle_host_idx ON person (handle_host, lower(username))
    WHERE NOT local AND handle_host IS NOT NULL;
