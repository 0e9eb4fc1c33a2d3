-- Elections, their catalogs, and the approved candidacies imported from the national registry.

CREATE TABLE elections (
    id                     UUID        PRIMARY KEY,
    name                   TEXT        NOT NULL,
    state_code             TEXT        NOT NULL CHECK (state_code ~ '^[0-9]{2}$'),
    time_zone              TEXT        NOT NULL,
    capture_opens_at       TIMESTAMPTZ NOT NULL,
    capture_closes_at      TIMESTAMPTZ NOT NULL,
    publication_starts_at  TIMESTAMPTZ NOT NULL,
    election_day           DATE        NOT NULL,
    photo_max_bytes        INTEGER     NOT NULL DEFAULT 716800 CHECK (photo_max_bytes > 0),
    text_min_chars         INTEGER     NOT NULL DEFAULT 280,
    text_max_chars         INTEGER     NOT NULL DEFAULT 5000,
    proposal_min_chars     INTEGER     NOT NULL DEFAULT 280,
    proposal_max_chars     INTEGER     NOT NULL DEFAULT 1600,
    alternate_questionnaire BOOLEAN    NOT NULL DEFAULT FALSE,
    retention_days         INTEGER     NOT NULL DEFAULT 90 CHECK (retention_days >= 0),
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT elections_capture_window CHECK (capture_opens_at < capture_closes_at),
    CONSTRAINT elections_text_bounds CHECK (text_min_chars <= text_max_chars AND proposal_min_chars <= proposal_max_chars)
);

-- Offices: diputación MR / RP, presidencia municipal, sindicatura, regiduría.
CREATE TABLE offices (
    election_id        UUID NOT NULL REFERENCES elections (id),
    code               TEXT NOT NULL,
    name               TEXT NOT NULL,
    principle          TEXT NOT NULL CHECK (principle IN ('mr', 'rp')),
    constituency_kind  TEXT NOT NULL CHECK (constituency_kind IN ('district', 'municipality', 'list')),
    PRIMARY KEY (election_id, code)
);

-- Districts, municipalities and RP lists.
CREATE TABLE constituencies (
    election_id  UUID NOT NULL REFERENCES elections (id),
    kind         TEXT NOT NULL CHECK (kind IN ('district', 'municipality', 'list')),
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    PRIMARY KEY (election_id, kind, code)
);

-- Parties, coalitions, common candidacies and independents: the postulants.
CREATE TABLE postulants (
    id                 UUID NOT NULL UNIQUE,
    election_id        UUID NOT NULL REFERENCES elections (id),
    code               TEXT NOT NULL,
    name               TEXT NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('party', 'coalition', 'common', 'independent')),
    -- For coalitions and common candidacies: the party responsible for capture.
    responsible_code   TEXT,
    members            TEXT[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (election_id, code)
);

CREATE TABLE candidacies (
    id                  UUID        PRIMARY KEY,
    election_id         UUID        NOT NULL REFERENCES elections (id),
    external_id         TEXT        NOT NULL,
    office_code         TEXT        NOT NULL,
    constituency_code   TEXT        NOT NULL,
    postulant_code      TEXT        NOT NULL,
    list_position       INTEGER     NOT NULL DEFAULT 0,
    affirmative_action  TEXT        NOT NULL DEFAULT '',
    status              TEXT        NOT NULL DEFAULT 'not_started'
                        CHECK (status IN ('not_started', 'draft', 'submitted', 'observed', 'approved', 'published', 'withdrawn')),
    registered_at       TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    withdrawn_at        TIMESTAMPTZ,
    CONSTRAINT candidacies_external_key UNIQUE (election_id, external_id),
    FOREIGN KEY (election_id, office_code) REFERENCES offices (election_id, code),
    FOREIGN KEY (election_id, postulant_code) REFERENCES postulants (election_id, code)
);

-- One live candidacy per postulant, office, constituency and list position.
CREATE UNIQUE INDEX candidacies_one_per_slot
    ON candidacies (election_id, office_code, constituency_code, postulant_code, list_position)
    WHERE status <> 'withdrawn';

CREATE INDEX candidacies_filters ON candidacies (election_id, office_code, postulant_code, status);

-- Holder and alternate; a substituted person stays, inactive, for the history.
CREATE TABLE persons (
    id             UUID        PRIMARY KEY,
    candidacy_id   UUID        NOT NULL REFERENCES candidacies (id),
    role           TEXT        NOT NULL CHECK (role IN ('holder', 'alternate')),
    full_name      TEXT        NOT NULL,
    sex            TEXT        NOT NULL CHECK (sex IN ('mujer', 'hombre', 'no_binario')),
    birth_date     DATE        NOT NULL,
    active         BOOLEAN     NOT NULL DEFAULT TRUE,
    replaced_at    TIMESTAMPTZ,
    replaced_by    UUID
);

CREATE UNIQUE INDEX persons_one_active_per_role ON persons (candidacy_id, role) WHERE active;

CREATE TABLE candidacy_history (
    id            BIGSERIAL   PRIMARY KEY,
    candidacy_id  UUID        NOT NULL REFERENCES candidacies (id),
    at            TIMESTAMPTZ NOT NULL,
    action        TEXT        NOT NULL,
    actor         UUID,
    detail        JSONB       NOT NULL DEFAULT '{}'::jsonb
);
