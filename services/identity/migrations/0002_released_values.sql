-- What each aggregate table (by name and filters) last published, value by value, so that a
-- later request can refuse to publish a difference of fewer than k persons (differencing).
-- Counts only: no person, no answer.
CREATE TABLE released_values (
    election_id  UUID        NOT NULL,
    table_key    TEXT        NOT NULL,
    value_key    TEXT        NOT NULL,
    count        BIGINT      NOT NULL CHECK (count >= 0),
    released_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (election_id, table_key, value_key)
);
