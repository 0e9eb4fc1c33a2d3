-- The documents an election's own curricular fields ask for and make public (PDF), served beside
-- the photos while the profile that shows them is published.
CREATE TABLE documents (
    person_id     UUID  NOT NULL,
    field         TEXT  NOT NULL,
    candidacy_id  UUID  NOT NULL,
    pdf           BYTEA NOT NULL,
    PRIMARY KEY (person_id, field)
);

CREATE INDEX documents_by_candidacy ON documents (candidacy_id);
