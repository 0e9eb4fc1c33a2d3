-- The unit's archive of independents' signed consent forms: every view, download and deletion
-- of a form is recorded here (who, when, which person's form) and never changed.
CREATE TABLE consent_form_access (
    id            BIGSERIAL   PRIMARY KEY,
    person_id     UUID        NOT NULL,
    candidacy_id  UUID        NOT NULL,
    action        TEXT        NOT NULL CHECK (action IN ('viewed', 'downloaded', 'deleted')),
    account_id    UUID,
    at            TIMESTAMPTZ NOT NULL
);

CREATE INDEX consent_form_access_person ON consent_form_access (person_id, at);

CREATE FUNCTION consent_form_access_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'consent_form_access is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER consent_form_access_append_only
    BEFORE UPDATE OR DELETE ON consent_form_access
    FOR EACH ROW EXECUTE FUNCTION consent_form_access_is_append_only();
