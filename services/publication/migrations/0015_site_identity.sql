-- How the site presents each election (`election.site_identity_updated`): the electoral body's
-- name and colour, whether the site is a demonstration, and the emblems' PNG derivatives.
CREATE TABLE site_identity (
    election_id    UUID        PRIMARY KEY,
    body_name      TEXT        NOT NULL,
    color          TEXT        NOT NULL,
    demonstration  BOOLEAN     NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE emblems (
    election_id  UUID  NOT NULL,
    -- '' for the electoral body; otherwise a postulant's code.
    owner        TEXT  NOT NULL,
    png          BYTEA NOT NULL,
    -- A digest of the PNG: its version in the emblem's address and its ETag.
    etag         TEXT  NOT NULL,
    PRIMARY KEY (election_id, owner)
);
