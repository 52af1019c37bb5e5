-- The training space (issue 17): courses made of ordered lessons and quizzes, each member's
-- enrolment and progress, quiz attempts scored on the server, and the certificates that
-- award the course's badge and unlock a group's membership.

CREATE TABLE course (
    id                   BIGSERIAL PRIMARY KEY,
    title_fr             TEXT NOT NULL,
    title_en             TEXT NOT NULL,
    summary_fr           TEXT NOT NULL DEFAULT '',
    summary_en           TEXT NOT NULL DEFAULT '',
    cover_media_id       BIGINT REFERENCES media (id) ON DELETE SET NULL,
    -- A trainer: staff or a community manager (the ManageTraining permission).
    owner_id             BIGINT NOT NULL REFERENCES local_user (person_id),
    published            BOOLEAN NOT NULL DEFAULT FALSE,
    -- Who may enrol: everyone, a group's members, a minimum reputation, or a badge's holders.
    audience             TEXT NOT NULL DEFAULT 'everyone' CONSTRAINT course_audience_check
        CHECK (audience IN ('everyone', 'group', 'reputation', 'badge')),
    audience_group_id    BIGINT REFERENCES community_group (id) ON DELETE SET NULL,
    audience_reputation  BIGINT,
    audience_badge_id    BIGINT REFERENCES badge (id) ON DELETE SET NULL,
    -- Certificates expire this many days after they are issued (NULL: never).
    validity_days        INT CONSTRAINT course_validity_check CHECK (validity_days BETWEEN 1 AND 3650),
    -- The badge its certificate awards (made with the course).
    badge_id             BIGINT NOT NULL REFERENCES badge (id),
    -- The group whose membership its certificate gives, while valid.
    unlock_group_id      BIGINT REFERENCES community_group (id) ON DELETE SET NULL,
    -- Where learners and trainers talk (made with the course; private when the course is
    -- restricted).
    discussion_group_id  BIGINT NOT NULL REFERENCES community_group (id),
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE course_prerequisite (
    course_id    BIGINT NOT NULL REFERENCES course (id) ON DELETE CASCADE,
    required_id  BIGINT NOT NULL REFERENCES course (id) ON DELETE CASCADE,
    PRIMARY KEY (course_id, required_id),
    CONSTRAINT course_prerequisite_not_itself CHECK (course_id <> required_id)
);

CREATE TABLE lesson (
    id         BIGSERIAL PRIMARY KEY,
    course_id  BIGINT NOT NULL REFERENCES course (id) ON DELETE CASCADE,
    position   INT NOT NULL,
    title_fr   TEXT NOT NULL,
    title_en   TEXT NOT NULL,
    body_fr    TEXT NOT NULL DEFAULT '',
    body_en    TEXT NOT NULL DEFAULT '',
    minutes    INT NOT NULL DEFAULT 5 CONSTRAINT lesson_minutes_check CHECK (minutes BETWEEN 1 AND 1440),
    CONSTRAINT lesson_position_key UNIQUE (course_id, position)
);

CREATE TABLE quiz (
    id                 BIGSERIAL PRIMARY KEY,
    course_id          BIGINT NOT NULL REFERENCES course (id) ON DELETE CASCADE,
    position           INT NOT NULL,
    -- Shown after this lesson (NULL: at the end of the course).
    after_lesson       INT,
    title_fr           TEXT NOT NULL,
    title_en           TEXT NOT NULL,
    pass_mark          INT NOT NULL CONSTRAINT quiz_pass_mark_check CHECK (pass_mark BETWEEN 0 AND 100),
    max_attempts       INT CONSTRAINT quiz_max_attempts_check CHECK (max_attempts >= 1),
    cool_down_seconds  INT NOT NULL DEFAULT 0 CONSTRAINT quiz_cool_down_check CHECK (cool_down_seconds >= 0),
    CONSTRAINT quiz_position_key UNIQUE (course_id, position)
);

CREATE TABLE quiz_question (
    id                 BIGSERIAL PRIMARY KEY,
    quiz_id            BIGINT NOT NULL REFERENCES quiz (id) ON DELETE CASCADE,
    position           INT NOT NULL,
    kind               TEXT NOT NULL CONSTRAINT quiz_question_kind_check
        CHECK (kind IN ('single', 'multiple', 'numeric')),
    prompt_fr          TEXT NOT NULL,
    prompt_en          TEXT NOT NULL,
    explanation_fr     TEXT NOT NULL DEFAULT '',
    explanation_en     TEXT NOT NULL DEFAULT '',
    numeric_answer     DOUBLE PRECISION,
    numeric_tolerance  DOUBLE PRECISION NOT NULL DEFAULT 0
);

CREATE TABLE quiz_choice (
    id           BIGSERIAL PRIMARY KEY,
    question_id  BIGINT NOT NULL REFERENCES quiz_question (id) ON DELETE CASCADE,
    position     INT NOT NULL,
    label_fr     TEXT NOT NULL,
    label_en     TEXT NOT NULL,
    correct      BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE course_enrolment (
    course_id    BIGINT NOT NULL REFERENCES course (id) ON DELETE CASCADE,
    person_id    BIGINT NOT NULL REFERENCES local_user (person_id) ON DELETE CASCADE,
    enrolled_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (course_id, person_id)
);

CREATE TABLE lesson_done (
    lesson_id  BIGINT NOT NULL REFERENCES lesson (id) ON DELETE CASCADE,
    person_id  BIGINT NOT NULL REFERENCES local_user (person_id) ON DELETE CASCADE,
    done_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (lesson_id, person_id)
);

-- One row per attempt; submitted once (the submission locks the row and checks it is still
-- open, so two concurrent submissions count once).
CREATE TABLE quiz_attempt (
    id            BIGSERIAL PRIMARY KEY,
    quiz_id       BIGINT NOT NULL REFERENCES quiz (id) ON DELETE CASCADE,
    person_id     BIGINT NOT NULL REFERENCES local_user (person_id) ON DELETE CASCADE,
    -- Fixes the order the questions and choices were shown in.
    seed          BIGINT NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    submitted_at  TIMESTAMPTZ,
    score         INT,
    passed        BOOLEAN
);
-- At most one open attempt per member and quiz: starting again resumes it.
CREATE UNIQUE INDEX quiz_attempt_open_key ON quiz_attempt (quiz_id, person_id) WHERE submitted_at IS NULL;

CREATE TABLE quiz_answer (
    attempt_id     BIGINT NOT NULL REFERENCES quiz_attempt (id) ON DELETE CASCADE,
    question_id    BIGINT NOT NULL REFERENCES quiz_question (id) ON DELETE CASCADE,
    choice_ids     BIGINT[] NOT NULL DEFAULT '{}',
    numeric_value  DOUBLE PRECISION,
    correct        BOOLEAN NOT NULL,
    PRIMARY KEY (attempt_id, question_id)
);

-- One certificate per member and course, renewed in place (its code, and so its
-- verification URL, stays). `granted_group` remembers that the certificate made the member
-- a member of the unlocked group (not one already there), so that expiry removes only that.
CREATE TABLE certificate (
    id              BIGSERIAL PRIMARY KEY,
    code            TEXT NOT NULL CONSTRAINT certificate_code_key UNIQUE,
    course_id       BIGINT NOT NULL REFERENCES course (id) ON DELETE CASCADE,
    person_id       BIGINT NOT NULL REFERENCES local_user (person_id) ON DELETE CASCADE,
    issued_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at      TIMESTAMPTZ,
    granted_group   BIGINT REFERENCES community_group (id) ON DELETE SET NULL,
    CONSTRAINT certificate_person_key UNIQUE (course_id, person_id)
);
CREATE INDEX certificate_granted_expiry_idx ON certificate (expires_at) WHERE granted_group IS NOT NULL;
