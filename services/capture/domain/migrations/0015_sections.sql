-- Where people vote: each sección of the voter card with the municipality and the local district
-- it belongs to (the `secciones` catalog), so citizens find every contest of their ballot.
CREATE TABLE sections (
    election_id        UUID    NOT NULL REFERENCES elections (id),
    section            INTEGER NOT NULL CHECK (section BETWEEN 1 AND 9999),
    municipality_code  TEXT    NOT NULL,
    district_code      TEXT    NOT NULL,
    PRIMARY KEY (election_id, section)
);
