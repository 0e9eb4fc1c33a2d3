-- Accounts generated from candidacy events, and the delivery of their credentials.
CREATE TABLE generated_accounts (
    account_id        UUID        PRIMARY KEY REFERENCES accounts (id),
    kind              TEXT        NOT NULL CHECK (kind IN ('party', 'candidacy')),
    party_id          UUID        NOT NULL,
    candidacy_id      UUID,
    person_id         UUID,
    label             TEXT        NOT NULL,
    approved_at       TIMESTAMPTZ NOT NULL,
    sheet_issued_at   TIMESTAMPTZ,
    delivered_at      TIMESTAMPTZ,
    delivered_by      UUID,
    CONSTRAINT generated_candidacy_has_candidacy CHECK (kind <> 'candidacy' OR candidacy_id IS NOT NULL)
);

CREATE UNIQUE INDEX generated_one_per_party ON generated_accounts (party_id) WHERE kind = 'party';
CREATE UNIQUE INDEX generated_one_per_person ON generated_accounts (candidacy_id, person_id)
    WHERE kind = 'candidacy';
CREATE INDEX generated_by_party ON generated_accounts (party_id);
