-- Each profile row carries the read-model version of its last change, so a replica's in-memory
-- list can catch up by reading only the rows changed since the version it holds.
--
-- The version is now bumped before each statement on profiles (it was after): the row lock on
-- read_model_version is then held from the statement's start to its commit, so changes commit
-- in version order and a reader that sees version V sees every row stamped V or lower.
ALTER TABLE profiles ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
CREATE INDEX profiles_by_revision ON profiles (revision);

DROP TRIGGER profiles_bump_version ON profiles;
CREATE TRIGGER profiles_bump_version
    BEFORE INSERT OR UPDATE OR DELETE ON profiles
    FOR EACH STATEMENT EXECUTE FUNCTION bump_read_model_version();

CREATE FUNCTION stamp_profile_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.revision := (SELECT version FROM read_model_version);
    RETURN NEW;
END;
$$;

CREATE TRIGGER profiles_stamp_revision
    BEFORE INSERT OR UPDATE ON profiles
    FOR EACH ROW EXECUTE FUNCTION stamp_profile_revision();
