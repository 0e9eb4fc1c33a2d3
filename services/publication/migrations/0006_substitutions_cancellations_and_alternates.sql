-- A published candidacy whose person was substituted (until the new person's questionnaire is
-- approved) or that was cancelled keeps a dated notice on its former URL, and a substitution
-- stays in the contest's list, without any name, photo or answer of the person replaced.
CREATE TABLE candidacy_notices (
    candidacy_id       UUID        PRIMARY KEY,
    election_id        UUID        NOT NULL,
    kind               TEXT        NOT NULL CHECK (kind IN ('substitution', 'cancelled')),
    since              TIMESTAMPTZ NOT NULL,
    office_code        TEXT        NOT NULL,
    office             TEXT        NOT NULL,
    constituency_code  TEXT        NOT NULL,
    constituency       TEXT        NOT NULL,
    postulant_code     TEXT        NOT NULL,
    postulant          TEXT        NOT NULL,
    list_position      INTEGER     NOT NULL
);
CREATE INDEX candidacy_notices_by_contest ON candidacy_notices (election_id, office_code, constituency_code);

-- The log names what happened to a profile.
ALTER TABLE profile_log DROP CONSTRAINT profile_log_action_check;
ALTER TABLE profile_log ADD CONSTRAINT profile_log_action_check
    CHECK (action IN ('published', 'withdrawn', 'identity_corrected', 'identity_updated', 'substituted', 'cancelled'));

-- The alternate's identity answers the alternate consented to publish.
ALTER TABLE profiles ADD COLUMN alternate_identity JSONB NOT NULL DEFAULT '[]'::jsonb;
