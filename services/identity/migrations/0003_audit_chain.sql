-- The access audit becomes append-only and hash-chained: each line's hash covers the line and
-- the hash of the line before it (in chain order), kept by the database itself on insert, so
-- rewriting or removing a past line breaks every hash after it. `verify_access_audit()` (and
-- `conoceles-identity verify-audit`) recomputes the chain.

ALTER TABLE access_audit
    ADD COLUMN chain_seq BIGINT UNIQUE,
    ADD COLUMN prev_hash TEXT,
    ADD COLUMN hash      TEXT;

CREATE TABLE access_audit_head (
    id    BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    seq   BIGINT  NOT NULL,
    hash  TEXT    NOT NULL
);
INSERT INTO access_audit_head (seq, hash) VALUES (0, repeat('0', 64));

-- The hash of one line given the previous hash (times in UTC, to the microsecond).
CREATE FUNCTION access_audit_line_hash(r access_audit, prev TEXT) RETURNS TEXT
LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(concat_ws('|',
        r.chain_seq::text,
        to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
        r.service, coalesce(r.actor::text, ''), coalesce(r.person_id::text, ''),
        coalesce(r.candidacy_id::text, ''), r.purpose, r.detail, prev), 'UTF8')), 'hex')
$$;

CREATE FUNCTION access_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head access_audit_head;
BEGIN
    -- The head row is locked and re-read at its latest committed version: one chain, in order.
    SELECT * INTO head FROM access_audit_head FOR UPDATE;
    NEW.chain_seq := head.seq + 1;
    NEW.prev_hash := head.hash;
    NEW.hash := access_audit_line_hash(NEW, head.hash);
    UPDATE access_audit_head SET seq = NEW.chain_seq, hash = NEW.hash;
    RETURN NEW;
END;
$$;

-- Lines written before the chain existed are chained now, in the order they were written.
DO $$
DECLARE
    r access_audit;
BEGIN
    FOR r IN SELECT * FROM access_audit ORDER BY id LOOP
        UPDATE access_audit_head SET seq = seq + 1 RETURNING seq INTO r.chain_seq;
        SELECT hash INTO r.prev_hash FROM access_audit_head;
        r.hash := access_audit_line_hash(r, r.prev_hash);
        UPDATE access_audit SET chain_seq = r.chain_seq, prev_hash = r.prev_hash, hash = r.hash WHERE id = r.id;
        UPDATE access_audit_head SET hash = r.hash;
    END LOOP;
END;
$$;

CREATE TRIGGER access_audit_chained
    BEFORE INSERT ON access_audit
    FOR EACH ROW EXECUTE FUNCTION access_audit_chain();

CREATE FUNCTION access_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access_audit is append-only';
END;
$$;

CREATE TRIGGER access_audit_no_rewrite
    BEFORE UPDATE OR DELETE ON access_audit
    FOR EACH ROW EXECUTE FUNCTION access_audit_append_only();

-- Recomputes the chain: how many lines, and the first broken line (NULL when intact).
CREATE FUNCTION verify_access_audit(OUT lines BIGINT, OUT broken BIGINT) LANGUAGE plpgsql AS $$
DECLARE
    r access_audit;
    prev TEXT := repeat('0', 64);
    expected BIGINT := 1;
BEGIN
    lines := 0;
    broken := NULL;
    FOR r IN SELECT * FROM access_audit ORDER BY chain_seq LOOP
        IF r.chain_seq IS DISTINCT FROM expected OR r.prev_hash IS DISTINCT FROM prev
           OR r.hash IS DISTINCT FROM access_audit_line_hash(r, prev) THEN
            broken := coalesce(r.chain_seq, 0);
            RETURN;
        END IF;
        prev := r.hash;
        expected := expected + 1;
        lines := lines + 1;
    END LOOP;
    IF (SELECT hash FROM access_audit_head) IS DISTINCT FROM prev THEN
        broken := expected;  -- the last lines were removed
    END IF;
END;
$$;
