-- Every release of a question family as published (published counts only; hidden values are
-- null), so that a table "as of" a past cut-off is the one published then, never a fresh
-- computation: the releases are then exactly the sequence the differencing guard compared,
-- each against the one before. A new row only when something published changed.
CREATE TABLE release_snapshots (
    election_id  UUID        NOT NULL,
    family       TEXT        NOT NULL,
    cut_off      TIMESTAMPTZ NOT NULL,
    whole        BOOLEAN     NOT NULL,
    cells        JSONB       NOT NULL,
    PRIMARY KEY (election_id, family, cut_off)
);
