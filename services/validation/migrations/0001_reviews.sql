-- One review per submitted round: the automatic findings, then the reviewer's decision.
CREATE TABLE reviews (
    submission_id   UUID        PRIMARY KEY,
    candidacy_id    UUID        NOT NULL,
    election_id     UUID        NOT NULL,
    round           INTEGER     NOT NULL,
    office          TEXT        NOT NULL,
    principle       TEXT        NOT NULL,
    constituency    TEXT        NOT NULL,
    postulant       TEXT        NOT NULL,
    content_sha256  TEXT        NOT NULL,
    submitted_at    TIMESTAMPTZ NOT NULL,
    findings        JSONB       NOT NULL,
    status          TEXT        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'observed', 'approved')),
    decided_at      TIMESTAMPTZ,
    decided_by      UUID,
    CONSTRAINT reviews_one_per_round UNIQUE (candidacy_id, round)
);

CREATE INDEX reviews_queue ON reviews (election_id, status, submitted_at);

CREATE TABLE review_observations (
    submission_id  UUID NOT NULL REFERENCES reviews (submission_id),
    section        TEXT NOT NULL,
    message        TEXT NOT NULL
);
