-- How the citizens' site presents an election: the electoral body's name and colour, whether the
-- site is a demonstration, and the emblems (the body's and each postulant's). An emblem is kept
-- only as the PNG derivative made when it was uploaded, never as the file that was sent.
CREATE TABLE site_identity (
    election_id    UUID        PRIMARY KEY REFERENCES elections (id),
    body_name      TEXT        NOT NULL DEFAULT '',
    color          TEXT        NOT NULL DEFAULT '#5b1a6b',
    demonstration  BOOLEAN     NOT NULL DEFAULT false,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE emblems (
    election_id  UUID        NOT NULL REFERENCES elections (id),
    -- '' for the electoral body; otherwise a postulant's code.
    owner        TEXT        NOT NULL,
    png          BYTEA       NOT NULL,
    sha256       TEXT        NOT NULL,
    uploaded_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (election_id, owner)
);
