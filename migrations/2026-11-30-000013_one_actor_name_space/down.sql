DROP TRIGGER community_group_name_is_free ON community_group;
DROP TRIGGER person_name_is_free ON person;
DROP FUNCTION local_actor_name_is_free();
