-- The correction a party asks the unit for: when it was asked and by whom, and the deadline the
-- Lineamientos give the unit ("a más tardar el día hábil siguiente"), counted on the election's
-- calendar of non-working days.
ALTER TABLE elections ADD COLUMN holidays DATE[] NOT NULL DEFAULT '{}';

ALTER TABLE candidacies
    ADD COLUMN correction_requested_on DATE,
    ADD COLUMN correction_requested_by TEXT,
    ADD COLUMN correction_due_on       DATE;
