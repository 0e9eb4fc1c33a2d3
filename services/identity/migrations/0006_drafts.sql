-- A questionnaire's draft while it is being answered, sealed like the answers (its own data key,
-- wrapped by the current key-encryption key and bound to the person), so leaving the long page
-- loses nothing. Deleted when the questionnaire is submitted or the person blocked.
CREATE TABLE drafts (
    person_id   UUID        PRIMARY KEY REFERENCES persons (id),
    kek_id      TEXT        NOT NULL,
    key_nonce   BYTEA       NOT NULL,
    wrapped_key BYTEA       NOT NULL,
    nonce       BYTEA       NOT NULL,
    sealed      BYTEA       NOT NULL,
    saved_at    TIMESTAMPTZ NOT NULL
);
