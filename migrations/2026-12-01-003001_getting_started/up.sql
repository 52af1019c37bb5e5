-- The built-in "getting started" course (issue 17, deliverable 6) and its onboarding step.
--
-- The course itself is written at startup by the server (`cenacle_core::getting_started`),
-- not here: its discussion group is a federated actor whose key pair and URLs (from the
-- instance's public URL) only the server can make. This migration prepares what it needs.

-- A course owned by the instance has no owner (NULL): no member's deletion can orphan it.
ALTER TABLE course ALTER COLUMN owner_id DROP NOT NULL;

-- Which built-in course a row is (NULL for trainers' courses): at most one of each.
ALTER TABLE course ADD COLUMN builtin TEXT CONSTRAINT course_builtin_key UNIQUE;

-- Things the instance writes once in its life, at its first start. The row is inserted in
-- the transaction that writes the thing: two servers starting together write it once, and
-- a community manager who deletes the built-in course does not get it back at the next start.
CREATE TABLE instance_seed (
    name       TEXT PRIMARY KEY,
    seeded_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

ALTER TABLE onboarding_step DROP CONSTRAINT onboarding_step_kind_check;
ALTER TABLE onboarding_step ADD CONSTRAINT onboarding_step_kind_check CHECK (kind IN
    ('complete_profile', 'join_group', 'answer_question', 'post_idea', 'ask_question',
     'like_contributions', 'finish_getting_started'));
-- Done when the member holds the getting-started course's certificate.
INSERT INTO onboarding_step (kind, target, points, position)
    SELECT 'finish_getting_started', 1, 10, COALESCE(MAX(position), 0) + 1 FROM onboarding_step;
