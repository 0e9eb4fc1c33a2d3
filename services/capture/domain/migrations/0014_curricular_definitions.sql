-- Each election's definition of the curricular questionnaire, versioned (a version in use never
-- changes): the Lineamientos' sections plus the body's own fields. Without a row an election uses
-- the Lineamientos alone (version 1).
CREATE TABLE curricular_definitions (
    election_id  UUID        NOT NULL REFERENCES elections (id),
    version      INTEGER     NOT NULL CHECK (version >= 1),
    body         JSONB       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    created_by   UUID,
    PRIMARY KEY (election_id, version)
);

-- The documents the body's own fields ask for (PDF, checked by content), one per person and field.
CREATE TABLE curricular_documents (
    person_id       UUID        NOT NULL REFERENCES persons (id),
    field           TEXT        NOT NULL,
    content         BYTEA       NOT NULL,
    content_sha256  TEXT        NOT NULL,
    uploaded_at     TIMESTAMPTZ NOT NULL,
    uploaded_by     UUID,
    PRIMARY KEY (person_id, field)
);
