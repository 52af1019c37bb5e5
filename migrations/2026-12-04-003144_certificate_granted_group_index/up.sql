-- What a certificate's membership grant is found by when that membership goes otherwise (a
-- group ban puts the person out, they leave: `cenacle_db::training::forget_granted_group`
-- forgets the grant, so that the certificate's expiry does not take a membership they get
-- back by themselves later), and by the `ON DELETE SET NULL` of a deleted group. Without it
-- both read the whole table (its one other index on people, `certificate_person_key`, leads
-- with the course). Partial: most certificates unlock no group, or no longer hold one.
CREATE INDEX certificate_granted_group_idx ON certificate (granted_group, person_id)
  WHERE granted_group IS NOT NULL;
