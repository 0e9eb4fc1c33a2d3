-- Who gave the consents and on what evidence: the person in their own account (`person`), or
-- another account (the party's, or the holder's for the alternate) declaring it holds the
-- person's signed consent (`declaration`). Questionnaires sent before this was asked: unrecorded.
ALTER TABLE questionnaires
    ADD COLUMN consent_given_by TEXT NOT NULL DEFAULT 'unrecorded'
    CHECK (consent_given_by IN ('person', 'declaration', 'unrecorded'));
