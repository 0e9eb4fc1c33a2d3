-- The privacy-notice texts the electoral body writes for its election (NULL: the default texts
-- kept in the repository).
ALTER TABLE elections
    ADD COLUMN privacy_notice_simplified TEXT CHECK (char_length(privacy_notice_simplified) <= 4000),
    ADD COLUMN privacy_notice_full       TEXT CHECK (char_length(privacy_notice_full) <= 60000);

-- Independent candidates' signed express-consent forms (PDF, JPEG or PNG, checked by content).
-- The form records consent only: the identity answers never come here.
CREATE TABLE consent_forms (
    person_id       UUID        PRIMARY KEY REFERENCES persons (id),
    candidacy_id    UUID        NOT NULL REFERENCES candidacies (id),
    media_type      TEXT        NOT NULL CHECK (media_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    content         BYTEA       NOT NULL,
    content_sha256  TEXT        NOT NULL,
    uploaded_at     TIMESTAMPTZ NOT NULL,
    uploaded_by     UUID        NOT NULL
);
