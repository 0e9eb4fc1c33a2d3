-- The one reopening of a published candidacy for a correction, at the party's request.
ALTER TABLE candidacies
    ADD COLUMN correction_reference   TEXT,
    ADD COLUMN correction_reason      TEXT,
    ADD COLUMN correction_reopened_at TIMESTAMPTZ,
    ADD COLUMN correction_reopened_by UUID;

-- Every change of a candidacy's status, kept by the database itself so that counts "as of" a
-- past moment (the April and May progress reports) can be answered exactly.
CREATE TABLE status_changes (
    id            BIGSERIAL   PRIMARY KEY,
    candidacy_id  UUID        NOT NULL REFERENCES candidacies (id),
    status        TEXT        NOT NULL,
    changed_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX status_changes_by_time ON status_changes (changed_at, candidacy_id);

INSERT INTO status_changes (candidacy_id, status, changed_at)
    SELECT id, status, updated_at FROM candidacies;

CREATE FUNCTION record_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO status_changes (candidacy_id, status, changed_at)
            VALUES (NEW.id, NEW.status, COALESCE(NEW.updated_at, now()));
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER candidacies_status_changes
    AFTER INSERT OR UPDATE OF status ON candidacies
    FOR EACH ROW EXECUTE FUNCTION record_status_change();
