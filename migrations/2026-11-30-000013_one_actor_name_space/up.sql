-- People and groups of this instance share one name space. WebFinger answers
-- `acct:name@host` with one actor: Mastodon and GoToSocial take the first `self` link, so a
-- group named like a person (or the reverse) would never round-trip and its signed requests
-- would be refused. The unique indexes hold within each table; this trigger holds across the
-- two. The advisory lock on the name makes two transactions creating the same name wait for
-- each other, so both cannot find it free.
CREATE FUNCTION local_actor_name_is_free() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wanted TEXT := lower(to_jsonb(NEW) ->> TG_ARGV[0]);
    taken BOOLEAN;
BEGIN
    IF NOT NEW.local THEN
        RETURN NEW;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('local actor name'), hashtext(wanted));
    IF TG_TABLE_NAME = 'person' THEN
        SELECT EXISTS (SELECT 1 FROM community_group WHERE local AND lower(name) = wanted)
          INTO taken;
    ELSE
        SELECT EXISTS (SELECT 1 FROM person WHERE local AND lower(username) = wanted)
          INTO taken;
    END IF;
    IF taken THEN
        RAISE EXCEPTION 'the name % is taken by another actor of this instance', wanted
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'local_actor_name_key';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER person_name_is_free BEFORE INSERT OR UPDATE OF username, local ON person
    FOR EACH ROW EXECUTE FUNCTION local_actor_name_is_free('username');
CREATE TRIGGER community_group_name_is_free BEFORE INSERT OR UPDATE OF name, local ON community_group
    FOR EACH ROW EXECUTE FUNCTION local_actor_name_is_free('name');
