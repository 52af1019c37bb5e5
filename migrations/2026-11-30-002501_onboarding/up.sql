-- Welcome and onboarding (issue 16, parts 4 and 5): the instance's welcome, the welcome
-- panel each newcomer sees until dismissed, the journey's steps, and the triggered e-mail
-- rules community managers edit (with one row per member a rule has mailed).

-- One row: the welcome message (Markdown, FR/EN), the community manager who introduces it,
-- and the group where newcomers who agree are greeted.
CREATE TABLE onboarding_settings (
    id                BOOLEAN PRIMARY KEY DEFAULT TRUE CONSTRAINT onboarding_settings_one CHECK (id),
    welcome_fr        TEXT NOT NULL DEFAULT '',
    welcome_en        TEXT NOT NULL DEFAULT '',
    manager_id        BIGINT REFERENCES local_user (person_id) ON DELETE SET NULL,
    welcome_group_id  BIGINT REFERENCES community_group (id) ON DELETE SET NULL,
    post_in_group     BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO onboarding_settings DEFAULT VALUES;

-- The welcome a newcomer sees on their home page until they dismiss it (written at sign-up,
-- in the registration's transaction; members who joined before have none).
CREATE TABLE welcome_panel (
    person_id     BIGINT PRIMARY KEY REFERENCES local_user (person_id) ON DELETE CASCADE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    dismissed_at  TIMESTAMPTZ
);

-- The journey's steps. Progress is computed from facts (posts, comments, likes, memberships,
-- profile); each step pays its points once per member through the points ledger (source key
-- `onboarding:{step}:{person}`).
CREATE TABLE onboarding_step (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL CONSTRAINT onboarding_step_kind_check CHECK (kind IN
        ('complete_profile', 'join_group', 'answer_question', 'post_idea', 'ask_question',
         'like_contributions')),
    target      INT NOT NULL DEFAULT 1 CONSTRAINT onboarding_step_target_check
        CHECK (target BETWEEN 1 AND 1000),
    points      BIGINT NOT NULL DEFAULT 0 CONSTRAINT onboarding_step_points_check
        CHECK (points BETWEEN 0 AND 10000),
    position    INT NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO onboarding_step (kind, target, points, position) VALUES
    ('complete_profile', 1, 5, 1),
    ('join_group', 1, 5, 2),
    ('answer_question', 1, 10, 3),
    ('post_idea', 1, 10, 4),
    ('like_contributions', 3, 5, 5);

-- Triggered e-mails. Templates use `{{name}}`, `{{instance}}`, `{{days}}`, `{{link}}`
-- (checked when saved). Seeded disabled: enabling them on an upgraded instance is the
-- community manager's choice (otherwise every quiet member of years past would be mailed).
CREATE TABLE onboarding_rule (
    id              BIGSERIAL PRIMARY KEY,
    trigger         TEXT NOT NULL CONSTRAINT onboarding_rule_trigger_check CHECK (trigger IN
        ('no_contribution_after_signup', 'first_answer_accepted', 'inactive_for')),
    delay_days      INT NOT NULL CONSTRAINT onboarding_rule_delay_check
        CHECK (delay_days BETWEEN 0 AND 3650),
    stop_condition  TEXT NOT NULL DEFAULT 'none' CONSTRAINT onboarding_rule_stop_check
        CHECK (stop_condition IN ('none', 'has_contributed')),
    subject_fr      TEXT NOT NULL,
    body_fr         TEXT NOT NULL,
    subject_en      TEXT NOT NULL,
    body_en         TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO onboarding_rule (trigger, delay_days, stop_condition, subject_fr, body_fr, subject_en, body_en) VALUES
    ('no_contribution_after_signup', 3, 'has_contributed',
     'Un premier pas sur {{instance}} ?',
     E'Vous nous avez rejoints il y a {{days}} jours. Une question à poser, une réponse à donner, une idée à partager ? La communauté vous attend.',
     'A first step on {{instance}}?',
     E'You joined us {{days}} days ago. A question to ask, an answer to give, an idea to share? The community is waiting for you.'),
    ('first_answer_accepted', 0, 'none',
     'Votre réponse a été acceptée !',
     E'Bravo {{name}} : votre première réponse acceptée aide toute la communauté de {{instance}}.',
     'Your answer was accepted!',
     E'Well done {{name}}: your first accepted answer helps the whole {{instance}} community.'),
    ('inactive_for', 30, 'none',
     'Vous nous manquez sur {{instance}}',
     E'Cela fait {{days}} jours. Voici ce qui s''est passé depuis : {{link}}',
     'We miss you on {{instance}}',
     E'It has been {{days}} days. Here is what happened since: {{link}}');

-- Each rule mails a member once: the row is written in the transaction that queues the mail,
-- and a second run (or a second worker) finds it and sends nothing.
CREATE TABLE onboarding_rule_sent (
    rule_id    BIGINT NOT NULL REFERENCES onboarding_rule (id) ON DELETE CASCADE,
    person_id  BIGINT NOT NULL REFERENCES local_user (person_id) ON DELETE CASCADE,
    sent_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (rule_id, person_id)
);
