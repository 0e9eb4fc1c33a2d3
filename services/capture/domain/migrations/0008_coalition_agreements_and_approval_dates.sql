-- A coalition agreement assigns each candidacy to one member party (the "siglado"): that party
-- captures it (NULL: the coalition's responsible party). The council's approval date, when the
-- registry's file carries it.
ALTER TABLE candidacies
    ADD COLUMN responsible_code TEXT,
    ADD COLUMN approved_on      DATE;

-- A registry file checked and previewed, kept until the unit applies it (or uploads another).
CREATE TABLE import_uploads (
    id           UUID        PRIMARY KEY,
    election_id  UUID        NOT NULL REFERENCES elections (id),
    content      BYTEA       NOT NULL,
    uploaded_by  UUID,
    uploaded_at  TIMESTAMPTZ NOT NULL
);
