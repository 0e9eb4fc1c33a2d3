-- The confirmations of irreversible actions already carried out (a password reset, a credential
-- sheet): posting the same confirmed form again (a reload) does not do it twice.
CREATE TABLE spent_confirmations (
    token     UUID        PRIMARY KEY,
    spent_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
