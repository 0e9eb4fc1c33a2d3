-- The alternate's id as the registry has it, for the open data's row of an alternate who
-- answers no questionnaire.
ALTER TABLE registry ADD COLUMN alternate_id UUID;
