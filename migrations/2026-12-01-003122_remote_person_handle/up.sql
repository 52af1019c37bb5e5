-- People of other servers looked up by handle (`name@host`): a mention in a text we publish is
-- tagged with the person it names, and a handle typed in the API is resolved, without reading
-- every remote person. Usernames compare without case, as Mastodon's do.
CREATE INDEX person_remote_handle_idx ON person (instance_host, lower(username)) WHERE NOT local;
