-- Curricular questionnaires: drafts per person and section, photos, submissions with their
-- receipts, and the submissions refused outside the capture window.

-- Sections an observation reopened (empty: the whole questionnaire when the status allows it).
ALTER TABLE candidacies ADD COLUMN reopened_sections TEXT[] NOT NULL DEFAULT '{}';

CREATE TABLE curricular_sections (
    person_id  UUID        NOT NULL REFERENCES persons (id),
    section    TEXT        NOT NULL,
    fields     JSONB       NOT NULL,
    complete   BOOLEAN     NOT NULL,
    saved_at   TIMESTAMPTZ NOT NULL,
    saved_by   UUID,
    PRIMARY KEY (person_id, section)
);

CREATE TABLE photos (
    person_id    UUID        PRIMARY KEY REFERENCES persons (id),
    media_type   TEXT        NOT NULL CHECK (media_type IN ('image/jpeg', 'image/png')),
    original     BYTEA       NOT NULL,
    public_jpeg  BYTEA       NOT NULL,
    width        INTEGER     NOT NULL,
    height       INTEGER     NOT NULL,
    taken_on     DATE        NOT NULL,
    sha256       TEXT        NOT NULL,
    uploaded_at  TIMESTAMPTZ NOT NULL
);

-- One row per final submission; `canonical` is exactly the text whose SHA-256 the receipt shows.
CREATE TABLE submissions (
    id              UUID        PRIMARY KEY,
    candidacy_id    UUID        NOT NULL REFERENCES candidacies (id),
    round           INTEGER     NOT NULL CHECK (round > 0),
    canonical       TEXT        NOT NULL,
    content_sha256  TEXT        NOT NULL,
    submitted_at    TIMESTAMPTZ NOT NULL,
    submitted_by    UUID        NOT NULL,
    CONSTRAINT submissions_one_per_round UNIQUE (candidacy_id, round)
);

CREATE TABLE submission_attempts (
    id            BIGSERIAL   PRIMARY KEY,
    candidacy_id  UUID        NOT NULL REFERENCES candidacies (id),
    at            TIMESTAMPTZ NOT NULL,
    actor         UUID,
    reason        TEXT        NOT NULL
);

CREATE INDEX submission_attempts_recent ON submission_attempts (at DESC);
