-- The end of the campaigns, from which the unit gives notice to the General Council of the
-- candidacies without complete information; each notice stored as produced, with its SHA-256.
ALTER TABLE elections ADD COLUMN campaign_ends_on DATE;

CREATE TABLE council_notices (
    id              UUID        PRIMARY KEY,
    election_id     UUID        NOT NULL REFERENCES elections (id),
    cut_off         TIMESTAMPTZ NOT NULL,
    content         TEXT        NOT NULL,
    content_sha256  TEXT        NOT NULL,
    lacking         INTEGER     NOT NULL,
    produced_at     TIMESTAMPTZ NOT NULL,
    produced_by     UUID
);

CREATE INDEX council_notices_election ON council_notices (election_id, produced_at DESC);
