-- Accounts: one per person or party; the email is the login name (stored lowercased).
CREATE TABLE accounts (
    id                    UUID PRIMARY KEY,
    email                 TEXT        NOT NULL,
    role                  TEXT        NOT NULL CHECK (role IN ('admin', 'reviewer', 'parity_reviewer',
                                          'party', 'candidate', 'statistician', 'operator')),
    party_id              UUID,
    candidacy_id          UUID,
    person_id             UUID,
    password_hash         TEXT        NOT NULL,
    must_change_password  BOOLEAN     NOT NULL DEFAULT TRUE,
    locked_at             TIMESTAMPTZ,
    lock_reason           TEXT,
    created_at            TIMESTAMPTZ NOT NULL,
    password_changed_at   TIMESTAMPTZ,
    CONSTRAINT accounts_email_key UNIQUE (email),
    CONSTRAINT accounts_party_scope CHECK (role <> 'party' OR party_id IS NOT NULL),
    CONSTRAINT accounts_candidate_scope CHECK (role <> 'candidate' OR candidacy_id IS NOT NULL)
);

CREATE INDEX accounts_party ON accounts (party_id) WHERE party_id IS NOT NULL;
CREATE INDEX accounts_candidacy ON accounts (candidacy_id) WHERE candidacy_id IS NOT NULL;

-- Sessions: only the SHA-256 of the token is stored.
CREATE TABLE sessions (
    token_hash      BYTEA       PRIMARY KEY,
    account_id      UUID        NOT NULL REFERENCES accounts (id),
    csrf_token      TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    last_seen_at    TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ,
    client_address  TEXT
);

CREATE INDEX sessions_live_by_account ON sessions (account_id) WHERE revoked_at IS NULL;

-- Who did what, when, from where. Never a password or a token.
CREATE TABLE audit_log (
    id                  BIGSERIAL   PRIMARY KEY,
    at                  TIMESTAMPTZ NOT NULL,
    action              TEXT        NOT NULL,
    actor_account_id    UUID,
    subject_account_id  UUID,
    subject_email       TEXT,
    client_address      TEXT,
    detail              JSONB       NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX audit_log_subject ON audit_log (subject_account_id, at);
