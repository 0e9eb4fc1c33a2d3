-- Report snapshots: the content exactly as produced at its cut-off, with its hash, so a report
-- given to the General Council can be served again byte for byte.
CREATE TABLE reports (
    id              UUID        PRIMARY KEY,
    kind            TEXT        NOT NULL,
    cut_off         TIMESTAMPTZ NOT NULL,
    content         BYTEA       NOT NULL,
    content_sha256  TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    created_by      UUID
);
