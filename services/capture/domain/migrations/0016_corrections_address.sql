-- Where citizens report an error in the published information: an address of the electoral
-- body's unit, set per election and shown on every candidacy's public page.
ALTER TABLE elections ADD COLUMN corrections_email TEXT NOT NULL DEFAULT '';
