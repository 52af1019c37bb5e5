-- Badges: awarded automatically by rules or by hand (honorific), revocable with a reason; a
-- member may wear one as a title beside their name.
CREATE TABLE badge (
    id             BIGSERIAL PRIMARY KEY,
    slug           TEXT NOT NULL CONSTRAINT badge_slug_key UNIQUE,
    tier           TEXT NOT NULL CONSTRAINT badge_tier_check CHECK (tier IN ('bronze', 'silver', 'gold')),
    name_en        TEXT NOT NULL,
    name_fr        TEXT NOT NULL,
    description_en TEXT NOT NULL,
    description_fr TEXT NOT NULL,
    -- Awarded by hand only (staff, superuser, and the organisation's own honours).
    honorific      BOOLEAN NOT NULL DEFAULT FALSE
);

INSERT INTO badge (slug, tier, name_en, name_fr, description_en, description_fr, honorific) VALUES
    ('first_question', 'bronze', 'Curious', 'Curieux', 'Asked a first question', 'A posé une première question', FALSE),
    ('first_accepted_answer', 'bronze', 'Helper', 'Secourable', 'Wrote a first accepted answer', 'A écrit une première réponse acceptée', FALSE),
    ('idea_done', 'bronze', 'Visionary', 'Visionnaire', 'Proposed an idea that was done', 'A proposé une idée réalisée', FALSE),
    ('ten_accepted_answers', 'silver', 'Guide', 'Guide', 'Wrote ten accepted answers', 'A écrit dix réponses acceptées', FALSE),
    ('thirty_day_streak', 'silver', 'Faithful', 'Fidèle', 'Visited thirty days in a row', 'Est venu trente jours d''affilée', FALSE),
    ('hundred_likes', 'gold', 'Beloved', 'Apprécié', 'Received a hundred likes', 'A reçu cent mentions « j''aime »', FALSE),
    ('staff', 'gold', 'Staff', 'Équipe', 'Works for the organisation', 'Travaille pour l''organisation', TRUE),
    ('superuser', 'gold', 'Superuser', 'Super-utilisateur', 'Member of the champions programme', 'Membre du programme des champions', TRUE);

CREATE TABLE badge_award (
    id            BIGSERIAL PRIMARY KEY,
    badge_id      BIGINT NOT NULL REFERENCES badge (id) ON DELETE CASCADE,
    person_id     BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    awarded_by    BIGINT REFERENCES person (id) ON DELETE SET NULL,
    reason        TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at    TIMESTAMPTZ,
    revoked_by    BIGINT REFERENCES person (id) ON DELETE SET NULL,
    revoke_reason TEXT
);
CREATE UNIQUE INDEX badge_award_live_key ON badge_award (badge_id, person_id) WHERE revoked_at IS NULL;

ALTER TABLE person ADD COLUMN title_badge_id BIGINT REFERENCES badge (id) ON DELETE SET NULL;
