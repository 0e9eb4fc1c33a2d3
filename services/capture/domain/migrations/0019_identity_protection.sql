-- How the election protects the identity questionnaire's statistics: cell suppression with a
-- threshold, or differential privacy (zCDP) with its budget, ρ per release, δ and the threshold
-- of detail. Sent to identity in `election.updated`.
ALTER TABLE elections
    ADD COLUMN identity_protection   TEXT             NOT NULL DEFAULT 'suppression'
        CHECK (identity_protection IN ('suppression', 'differential_privacy')),
    ADD COLUMN suppression_threshold INTEGER          NOT NULL DEFAULT 5 CHECK (suppression_threshold >= 2),
    ADD COLUMN dp_rho_budget         DOUBLE PRECISION NOT NULL DEFAULT 3 CHECK (dp_rho_budget > 0),
    ADD COLUMN dp_rho_per_release    DOUBLE PRECISION NOT NULL DEFAULT 1 CHECK (dp_rho_per_release > 0),
    ADD COLUMN dp_delta              DOUBLE PRECISION NOT NULL DEFAULT 1e-6 CHECK (dp_delta > 0 AND dp_delta < 1),
    ADD COLUMN dp_detail_threshold   INTEGER          NOT NULL DEFAULT 10 CHECK (dp_detail_threshold >= 0);
