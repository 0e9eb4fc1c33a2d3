-- Mail to parties and candidates (docs/architecture.md, "Mail"): each message is queued in the
-- same transaction as what caused it, addressed to an audience (a party's accounts, a
-- candidacy's private email) that the mail worker resolves into deliveries, each sent over SMTP,
-- retried until the server accepts it, and recorded.
CREATE TABLE mail_outbox (
    id              UUID        PRIMARY KEY,
    election_id     UUID        NOT NULL REFERENCES elections (id),
    kind            TEXT        NOT NULL
                    CHECK (kind IN ('requirement', 'observation', 'deadline_reminder', 'approval')),
    -- The same cause queues one message, however many times it is handled.
    dedup_key       TEXT        NOT NULL UNIQUE,
    -- The audience: the accounts of a party (or independent) and/or a candidacy's private email.
    party_id        UUID,
    candidacy_id    UUID        REFERENCES candidacies (id),
    subject         TEXT        NOT NULL,
    body            TEXT        NOT NULL,
    queued_at       TIMESTAMPTZ NOT NULL,
    expanded_at     TIMESTAMPTZ,
    recipients      INTEGER,
    CHECK (party_id IS NOT NULL OR candidacy_id IS NOT NULL)
);

CREATE INDEX mail_outbox_unexpanded ON mail_outbox (queued_at) WHERE expanded_at IS NULL;

CREATE TABLE mail_deliveries (
    id               UUID        PRIMARY KEY,
    mail_id          UUID        NOT NULL REFERENCES mail_outbox (id),
    address          TEXT        NOT NULL,
    state            TEXT        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent')),
    attempts         INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_error       TEXT,
    sent_at          TIMESTAMPTZ,
    server_reply     TEXT,
    UNIQUE (mail_id, address)
);

CREATE INDEX mail_deliveries_due ON mail_deliveries (next_attempt_at) WHERE state = 'pending';

-- Where a party is emailed: the addresses the unit registered for it (its accredited
-- representatives; account_id NULL) and the one each of its accounts set for itself, which may
-- decline the optional mail (observations, deadlines, approvals). Requirements always go.
CREATE TABLE mail_contacts (
    id                UUID        PRIMARY KEY,
    party_id          UUID        NOT NULL,
    email             TEXT        NOT NULL CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%'),
    account_id        UUID        UNIQUE,
    receive_optional  BOOLEAN     NOT NULL DEFAULT TRUE,
    added_at          TIMESTAMPTZ NOT NULL,
    added_by          UUID,
    UNIQUE (party_id, email)
);

-- Candidate accounts that declined the optional mail to their candidacy's private email.
CREATE TABLE mail_opt_outs (
    account_id    UUID        PRIMARY KEY,
    candidacy_id  UUID        NOT NULL,
    opted_out_at  TIMESTAMPTZ NOT NULL
);

-- The unit's requirements ("requerimientos"): per party, and per candidacy for independents, the
-- candidacies with something missing, with the deadline to attend it; stored as produced with
-- the SHA-256 of the stored text.
CREATE TABLE requirements (
    id              UUID        PRIMARY KEY,
    election_id     UUID        NOT NULL REFERENCES elections (id),
    folio           TEXT        NOT NULL,
    party_id        UUID        NOT NULL,
    candidacy_id    UUID        REFERENCES candidacies (id),
    due_on          DATE        NOT NULL,
    content         TEXT        NOT NULL,
    content_sha256  TEXT        NOT NULL,
    lines           INTEGER     NOT NULL,
    produced_at     TIMESTAMPTZ NOT NULL,
    produced_by     UUID,
    mail_id         UUID        REFERENCES mail_outbox (id),
    UNIQUE (election_id, folio)
);

CREATE INDEX requirements_election ON requirements (election_id, produced_at DESC);
