DELETE FROM onboarding_step WHERE kind = 'finish_getting_started';
ALTER TABLE onboarding_step DROP CONSTRAINT onboarding_step_kind_check;
ALTER TABLE onboarding_step ADD CONSTRAINT onboarding_step_kind_check CHECK (kind IN
    ('complete_profile', 'join_group', 'answer_question', 'post_idea', 'ask_question',
     'like_contributions'));
DROP TABLE instance_seed;
ALTER TABLE course DROP COLUMN builtin;
DELETE FROM course WHERE owner_id IS NULL;
ALTER TABLE course ALTER COLUMN owner_id SET NOT NULL;
