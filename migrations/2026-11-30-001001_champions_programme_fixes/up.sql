-- The champions programme, tightened after review.

-- The champion badge follows the programme alone. Before, it could still be awarded by hand
-- (it was the honorific Superuser badge): whoever holds it without being an active champion
-- loses it, with the reason recorded (by no one: the system), and the title it gave.
UPDATE badge_award a SET revoked_at = now(), revoke_reason = 'champions programme: not an active champion'
FROM badge b
WHERE b.id = a.badge_id AND b.slug = 'superuser' AND a.revoked_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM champion c WHERE c.person_id = a.person_id AND c.status = 'active');

UPDATE person p SET title_badge_id = NULL
FROM badge b
WHERE b.id = p.title_badge_id AND b.slug = 'superuser'
  AND NOT EXISTS (SELECT 1 FROM champion c WHERE c.person_id = p.id AND c.status = 'active');

-- The champions group's members are exactly the active champions: the manager who published
-- the first charter was made its owner, and ordinary joins could add others. Both go.
DELETE FROM group_membership m
USING community_group g
WHERE g.id = m.group_id AND g.local_only
  AND NOT EXISTS (SELECT 1 FROM champion c WHERE c.person_id = m.person_id AND c.status = 'active');

-- Join requests and invitations to it can no longer be used; none should wait.
DELETE FROM group_join_request r USING community_group g WHERE g.id = r.group_id AND g.local_only;
DELETE FROM group_invitation i USING community_group g WHERE g.id = i.group_id AND g.local_only;
