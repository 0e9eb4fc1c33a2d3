-- Each candidacy's own capture deadline, computed by the election's rule (DESIGN, docs/process.md):
-- a fixed window for every candidacy (Coahuila, Durango) or N natural days from the delivery of
-- its accounts (Sonora: 15), never past the election's outer bound; substitutions and late
-- registrations get theirs, and the unit extends one candidacy's with a reason.
ALTER TABLE elections
    ADD COLUMN deadline_rule  TEXT    NOT NULL DEFAULT 'fixed' CHECK (deadline_rule IN ('fixed', 'from_delivery')),
    ADD COLUMN deadline_days  INTEGER NOT NULL DEFAULT 15 CHECK (deadline_days BETWEEN 1 AND 90),
    -- The latest moment any capture may end (NULL: the start of the day before election day).
    ADD COLUMN capture_outer_bound TIMESTAMPTZ;

-- NULL: the election's window (`capture_closes_at`).
ALTER TABLE candidacies ADD COLUMN capture_deadline TIMESTAMPTZ;

-- A submission whose person was substituted is never approved or published.
ALTER TABLE submissions ADD COLUMN superseded_at TIMESTAMPTZ;
