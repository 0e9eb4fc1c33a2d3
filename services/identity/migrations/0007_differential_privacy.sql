-- How each election protects its identity tables (the unit's choice, from capture's
-- `election.updated`): cell suppression with threshold k, or differential privacy (zCDP) with a
-- total budget ρ, the ρ of each release, the δ its (ε, δ) is stated at, and the threshold under
-- which a group's tables are released coarser. The method is fixed by the first release made
-- under it (`protection_locked_at`): switching afterwards would let the two be differenced.
ALTER TABLE elections
    ADD COLUMN protection          TEXT             NOT NULL DEFAULT 'suppression'
        CHECK (protection IN ('suppression', 'differential_privacy')),
    ADD COLUMN rho_budget          DOUBLE PRECISION NOT NULL DEFAULT 3.0 CHECK (rho_budget > 0),
    ADD COLUMN rho_per_release     DOUBLE PRECISION NOT NULL DEFAULT 1.0 CHECK (rho_per_release > 0),
    ADD COLUMN delta               DOUBLE PRECISION NOT NULL DEFAULT 1e-6 CHECK (delta > 0 AND delta < 1),
    ADD COLUMN detail_threshold    INTEGER          NOT NULL DEFAULT 10 CHECK (detail_threshold >= 0),
    ADD COLUMN protection_locked_at TIMESTAMPTZ;

-- The privacy-loss ledger: one line per differentially private release, append-only and
-- hash-chained per election; the running total can never exceed the budget.
CREATE TABLE privacy_ledger (
    election_id      UUID             NOT NULL,
    seq              INTEGER          NOT NULL CHECK (seq > 0),
    release_id       UUID             NOT NULL UNIQUE,
    released_at      TIMESTAMPTZ      NOT NULL,
    cut_off          TIMESTAMPTZ      NOT NULL,
    families         TEXT[]           NOT NULL,
    rho              DOUBLE PRECISION NOT NULL CHECK (rho > 0),
    rho_total        DOUBLE PRECISION NOT NULL,
    rho_budget       DOUBLE PRECISION NOT NULL,
    delta            DOUBLE PRECISION NOT NULL,
    epsilon_total    DOUBLE PRECISION NOT NULL,
    noise_scale      DOUBLE PRECISION NOT NULL,
    decision_scale   DOUBLE PRECISION NOT NULL,
    detail_threshold INTEGER          NOT NULL,
    prev_hash        TEXT             NOT NULL,
    hash             TEXT             NOT NULL,
    PRIMARY KEY (election_id, seq),
    CHECK (rho_total <= rho_budget * (1 + 1e-9))
);

CREATE FUNCTION privacy_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the privacy-loss ledger is append-only';
END;
$$;

CREATE TRIGGER privacy_ledger_unchanged
    BEFORE UPDATE OR DELETE ON privacy_ledger
    FOR EACH ROW EXECUTE FUNCTION privacy_ledger_append_only();

-- The draw of each family's release (its noisy measurements and the public facts they were
-- fitted to), sealed like the answers under a data key bound to the release: the release can
-- be regenerated identically and is never drawn again.
CREATE TABLE private_measurements (
    release_id  UUID        NOT NULL REFERENCES privacy_ledger (release_id),
    family      TEXT        NOT NULL,
    kek_id      TEXT        NOT NULL,
    key_nonce   BYTEA       NOT NULL,
    wrapped_key BYTEA       NOT NULL,
    nonce       BYTEA       NOT NULL,
    sealed      BYTEA       NOT NULL,
    PRIMARY KEY (release_id, family)
);

-- A snapshot published under differential privacy names its release.
ALTER TABLE release_snapshots ADD COLUMN release_id UUID;
