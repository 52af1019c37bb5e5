-- Nothing to undo: the revoked awards keep their history and the removed memberships were
-- not the programme's to keep.
SELECT 1;
