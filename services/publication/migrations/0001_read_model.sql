-- The public read model, built from events and the sources' public projections; rebuildable.

CREATE TABLE elections (
    id                     UUID        PRIMARY KEY,
    name                   TEXT        NOT NULL,
    time_zone              TEXT        NOT NULL,
    publication_starts_at  TIMESTAMPTZ NOT NULL,
    election_day           DATE        NOT NULL
);

CREATE TABLE profiles (
    candidacy_id        UUID        PRIMARY KEY,
    election_id         UUID        NOT NULL,
    submission_id       UUID        NOT NULL,
    content_sha256      TEXT        NOT NULL,
    office_code         TEXT        NOT NULL,
    office              TEXT        NOT NULL,
    principle           TEXT        NOT NULL,
    constituency_code   TEXT        NOT NULL,
    constituency        TEXT        NOT NULL,
    postulant_code      TEXT        NOT NULL,
    postulant           TEXT        NOT NULL,
    list_position       INTEGER     NOT NULL,
    affirmative_action  TEXT        NOT NULL,
    holder_name         TEXT        NOT NULL,
    holder_sex          TEXT        NOT NULL,
    holder_age          INTEGER     NOT NULL,
    education_level     TEXT        NOT NULL,
    -- Names lower-cased without accents, for search.
    search              TEXT        NOT NULL,
    -- A fixed pseudo-random rank: the declared neutral order, the same for everyone.
    neutral_rank        TEXT        NOT NULL,
    profile             JSONB       NOT NULL,
    identity            JSONB       NOT NULL DEFAULT '[]'::jsonb,
    approved_at         TIMESTAMPTZ NOT NULL,
    corrected_at        TIMESTAMPTZ,
    withdrawn_at        TIMESTAMPTZ
);

CREATE INDEX profiles_listing ON profiles (election_id, neutral_rank) WHERE withdrawn_at IS NULL;
CREATE INDEX profiles_contest ON profiles (election_id, office_code, constituency_code) WHERE withdrawn_at IS NULL;

CREATE TABLE photos (
    person_id     UUID  PRIMARY KEY,
    candidacy_id  UUID  NOT NULL,
    jpeg          BYTEA NOT NULL
);
