-- The address where citizens report an error in the published information (per election).
ALTER TABLE elections ADD COLUMN corrections_email TEXT NOT NULL DEFAULT '';
