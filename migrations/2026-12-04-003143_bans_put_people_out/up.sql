-- A ban from a group now puts its person out of it, as Lemmy's ban unsubscribes them from the
-- community: their membership, their pending request to join and their invitation go with it
-- (`group_bans::put_out_of`), and none comes back when the ban ends. The bans in force written
-- before did not: their people are put out here as a ban puts them out now (a private group's
-- banned member would otherwise still read it). Plain members only: owners and moderators
-- cannot be banned.
DELETE FROM group_membership m USING group_ban b
WHERE m.group_id = b.group_id AND m.person_id = b.person_id AND m.role = 'member'
  AND b.lifted_at IS NULL AND (b.expires_at IS NULL OR b.expires_at > now());
DELETE FROM group_join_request r USING group_ban b
WHERE r.group_id = b.group_id AND r.person_id = b.person_id
  AND b.lifted_at IS NULL AND (b.expires_at IS NULL OR b.expires_at > now());
DELETE FROM group_invitation i USING group_ban b
WHERE i.group_id = b.group_id AND i.person_id = b.person_id
  AND b.lifted_at IS NULL AND (b.expires_at IS NULL OR b.expires_at > now());
