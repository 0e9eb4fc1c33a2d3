-- The identity questionnaire: definitions, the minimal public dimensions of each candidacy
-- (from events; never names), consents, encrypted answers with their wrapped data keys, and the
-- audit of every access. No answer is ever stored in clear.

CREATE TABLE elections (
    id              UUID    PRIMARY KEY,
    retention_days  INTEGER NOT NULL DEFAULT 90 CHECK (retention_days >= 0),
    suppression_k   INTEGER NOT NULL DEFAULT 5 CHECK (suppression_k >= 2)
);

-- A definition in use never changes; a new version is a new row.
CREATE TABLE definitions (
    election_id  UUID        NOT NULL,
    version      INTEGER     NOT NULL CHECK (version > 0),
    body         JSONB       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (election_id, version)
);

CREATE TABLE candidacies (
    id                    UUID PRIMARY KEY,
    election_id           UUID NOT NULL,
    office                TEXT NOT NULL,
    principle             TEXT NOT NULL,
    constituency          TEXT NOT NULL,
    postulant             TEXT NOT NULL,
    holder_sex            TEXT NOT NULL,
    holder_age            INTEGER NOT NULL,
    affirmative_action    TEXT NOT NULL,
    responsible_party_id  UUID
);

CREATE TABLE persons (
    id            UUID        PRIMARY KEY,
    candidacy_id  UUID        NOT NULL REFERENCES candidacies (id),
    role          TEXT        NOT NULL CHECK (role IN ('holder', 'alternate')),
    -- Blocked on substitution or cancellation: returned nowhere, counted nowhere.
    blocked_at    TIMESTAMPTZ,
    delete_after  TIMESTAMPTZ
);

CREATE TABLE questionnaires (
    person_id               UUID        PRIMARY KEY REFERENCES persons (id),
    definition_version      INTEGER     NOT NULL,
    processing_consent_at   TIMESTAMPTZ NOT NULL,
    publication_consent_at  TIMESTAMPTZ,
    statistics_consent_at   TIMESTAMPTZ,
    submitted_at            TIMESTAMPTZ NOT NULL,
    -- The receipt: SHA-256 over a random salt and the canonical answers (the salt keeps the
    -- hash from being guessed from the few possible answers).
    receipt_salt            BYTEA       NOT NULL,
    receipt_sha256          TEXT        NOT NULL,
    corrected_at            TIMESTAMPTZ,
    correction_reference    TEXT,
    correction_reason       TEXT,
    deleted_at              TIMESTAMPTZ
);

CREATE TABLE data_keys (
    person_id  UUID  PRIMARY KEY REFERENCES persons (id),
    kek_id     TEXT  NOT NULL,
    nonce      BYTEA NOT NULL,
    wrapped    BYTEA NOT NULL
);

CREATE TABLE answers (
    person_id    UUID  NOT NULL REFERENCES persons (id),
    question_id  TEXT  NOT NULL,
    nonce        BYTEA NOT NULL,
    sealed       BYTEA NOT NULL,
    PRIMARY KEY (person_id, question_id)
);

-- Who read or changed answers, of whom, and why. Never the answers.
CREATE TABLE access_audit (
    id            BIGSERIAL   PRIMARY KEY,
    at            TIMESTAMPTZ NOT NULL,
    service       TEXT        NOT NULL,
    actor         UUID,
    person_id     UUID,
    candidacy_id  UUID,
    purpose       TEXT        NOT NULL,
    detail        TEXT        NOT NULL DEFAULT ''
);
