-- Bumped in the same transaction as any change to the published profiles: the open-data files
-- and the page caches compare it with what they were built from.
CREATE TABLE read_model_version (
    id       BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    version  BIGINT  NOT NULL
);
INSERT INTO read_model_version (version) VALUES (1);

CREATE FUNCTION bump_read_model_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE read_model_version SET version = version + 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER profiles_bump_version
    AFTER INSERT OR UPDATE OR DELETE ON profiles
    FOR EACH STATEMENT EXECUTE FUNCTION bump_read_model_version();
CREATE TRIGGER elections_bump_version
    AFTER INSERT OR UPDATE OR DELETE ON elections
    FOR EACH STATEMENT EXECUTE FUNCTION bump_read_model_version();

-- The open-data files as last generated (from `version`), served as they are.
CREATE TABLE open_data_files (
    name          TEXT        PRIMARY KEY,
    content       BYTEA       NOT NULL,
    sha256        TEXT        NOT NULL,
    version       BIGINT      NOT NULL,
    generated_at  TIMESTAMPTZ NOT NULL
);

-- A signing key made on first start when none is configured (development); production passes
-- PUBLICATION_SIGNING_KEY from a secret and this table stays empty.
CREATE TABLE signing_keys (
    id          BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    seed        BYTEA   NOT NULL CHECK (length(seed) = 32),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Tamper evidence: every change to a public profile, chained by hash.
CREATE TABLE profile_log (
    seq             BIGSERIAL   PRIMARY KEY,
    candidacy_id    UUID        NOT NULL,
    action          TEXT        NOT NULL CHECK (action IN ('published', 'withdrawn', 'identity_corrected')),
    content_sha256  TEXT        NOT NULL,
    at              TIMESTAMPTZ NOT NULL,
    prev_hash       TEXT        NOT NULL,
    hash            TEXT        NOT NULL UNIQUE
);
