-- Open-data files stored in pieces of about 1 MiB, written as they are compressed and read one
-- at a time as they are sent. At national scale a release is ~170 MB compressed: held whole,
-- it took that much of a replica's memory to write (and again in the connection's buffer) and
-- to serve each download.
--
-- A release's pieces belong to a generation (one run of the worker); `open_data_files` names
-- the generation each data file is read from, and the one before it, whose pieces are kept
-- while downloads that started on it finish. `generation` NULL: the file's bytes are in
-- `content` (the small files, and releases stored before this migration).
CREATE TABLE open_data_chunks (
    generation  UUID        NOT NULL,
    name        TEXT        NOT NULL,
    seq         INTEGER     NOT NULL,
    content     BYTEA       NOT NULL,
    written_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (generation, name, seq)
);

ALTER TABLE open_data_files
    ADD COLUMN generation UUID,
    ADD COLUMN previous_generation UUID,
    ADD COLUMN size BIGINT;
