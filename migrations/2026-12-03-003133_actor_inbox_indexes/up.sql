-- The actors' inboxes, looked up by the rule of a block's sweep and of the delivery claim
-- (`cenacle_db::instance_moderation::inboxes_of_blocked_people_only`): whether an inbox of
-- people of a blocked instance is also another actor's inbox or shared inbox. Without these
-- each lookup read all of `person` and `community_group`.
CREATE INDEX person_inbox_url_idx ON person (inbox_url) WHERE inbox_url IS NOT NULL;
CREATE INDEX person_shared_inbox_url_idx ON person (shared_inbox_url)
  WHERE shared_inbox_url IS NOT NULL;
CREATE INDEX community_group_inbox_url_idx ON community_group (inbox_url);
CREATE INDEX community_group_shared_inbox_url_idx ON community_group (shared_inbox_url)
  WHERE shared_inbox_url IS NOT NULL;
