-- Where people vote (`election.places_updated`): the offices with the kind of constituency each
-- is elected in, the constituencies, and each sección of the voter card with its municipality
-- and local district. Replaced whole by each event; `places_versions` keeps the newest one.
CREATE TABLE place_offices (
    election_id        UUID NOT NULL,
    code               TEXT NOT NULL,
    name               TEXT NOT NULL,
    principle          TEXT NOT NULL,
    constituency_kind  TEXT NOT NULL,
    slate_role         TEXT NOT NULL,
    PRIMARY KEY (election_id, code)
);

CREATE TABLE place_constituencies (
    election_id  UUID NOT NULL,
    kind         TEXT NOT NULL,
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    -- The name lower-cased without accents, to find a municipality as people type it.
    folded       TEXT NOT NULL,
    PRIMARY KEY (election_id, kind, code)
);

CREATE TABLE place_sections (
    election_id        UUID    NOT NULL,
    section            INTEGER NOT NULL,
    municipality_code  TEXT    NOT NULL,
    district_code      TEXT    NOT NULL,
    PRIMARY KEY (election_id, section)
);
CREATE INDEX place_sections_by_municipality ON place_sections (election_id, municipality_code, district_code);

CREATE TABLE places_versions (
    election_id  UUID        PRIMARY KEY,
    occurred_at  TIMESTAMPTZ NOT NULL
);
