DROP TABLE remote_champion_group;
DROP TABLE champion_audit;
DROP TABLE champion_notice;
DROP TABLE champion_objective;
DROP TABLE champion_group;
DROP TABLE champion_term;
DROP TABLE champion_charter_acceptance;
DROP TABLE champion;
DROP TABLE champion_charter;
UPDATE badge SET name_en = 'Superuser', name_fr = 'Super-utilisateur',
    description_en = 'Member of the champions programme',
    description_fr = 'Membre du programme des champions'
WHERE slug = 'superuser';
DROP INDEX post_accepted_at_idx;
ALTER TABLE post DROP COLUMN accepted_at;
ALTER TABLE community_group DROP COLUMN local_only;
