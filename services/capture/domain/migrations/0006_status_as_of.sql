-- A candidacy's status at a cut-off, found by one index probe: the progress counts read the
-- current status of every candidacy and look up only those that changed after the cut-off.
CREATE INDEX status_changes_by_candidacy
    ON status_changes (candidacy_id, changed_at DESC, id DESC) INCLUDE (status);
