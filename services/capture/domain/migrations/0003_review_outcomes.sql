-- The reviewers' observations, as the party sees them on its dashboard (from `curricular.observed`).
CREATE TABLE observations (
    id            BIGSERIAL   PRIMARY KEY,
    candidacy_id  UUID        NOT NULL REFERENCES candidacies (id),
    submission_id UUID        NOT NULL,
    round         INTEGER     NOT NULL,
    section       TEXT        NOT NULL,
    message       TEXT        NOT NULL,
    observed_at   TIMESTAMPTZ NOT NULL
);

CREATE INDEX observations_by_candidacy ON observations (candidacy_id, round DESC);
