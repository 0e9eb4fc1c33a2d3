-- A review of a round sent before its candidacy's person was substituted, or before the
-- candidacy was cancelled, is superseded: never approved or observed.
ALTER TABLE reviews DROP CONSTRAINT reviews_status_check;
ALTER TABLE reviews ADD CONSTRAINT reviews_status_check
    CHECK (status IN ('pending', 'observed', 'approved', 'superseded'));

-- When each candidacy last had a person substituted or was cancelled (a submission event that
-- arrives later than that event is recorded superseded).
CREATE TABLE candidacy_changes (
    candidacy_id  UUID        PRIMARY KEY,
    changed_at    TIMESTAMPTZ NOT NULL
);
