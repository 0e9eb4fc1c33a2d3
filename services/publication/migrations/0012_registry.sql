-- Every registered candidacy in force, with the registry's public facts (never anything of a
-- questionnaire), so the site lists each one from the publication start with its state: those
-- without an approved version say why. Kept from capture (`ListCandidacies`/`GetCandidacy`) on
-- every candidacy event; rebuilt whole when the election is announced.
CREATE TABLE registry (
    candidacy_id          UUID    PRIMARY KEY,
    election_id           UUID    NOT NULL,
    office_code           TEXT    NOT NULL,
    office                TEXT    NOT NULL,
    principle             TEXT    NOT NULL,
    slate_role            TEXT    NOT NULL,
    constituency_code     TEXT    NOT NULL,
    constituency          TEXT    NOT NULL,
    postulant_code        TEXT    NOT NULL,
    postulant             TEXT    NOT NULL,
    list_position         INTEGER NOT NULL,
    holder_name           TEXT    NOT NULL,
    holder_sex            TEXT    NOT NULL,
    alternate_name        TEXT    NOT NULL,
    alternate_sex         TEXT    NOT NULL,
    -- Capture's status code (not_started, draft, submitted, observed, approved, published).
    status                TEXT    NOT NULL,
    substitution_pending  BOOLEAN NOT NULL
);
CREATE INDEX registry_contest ON registry (election_id, constituency_code, office_code);
