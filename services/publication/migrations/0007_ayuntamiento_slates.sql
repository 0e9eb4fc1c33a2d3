-- A position of an ayuntamiento's slate: `presidencia`, `sindicatura` or `regiduria` (its number
-- in `list_position`); empty for other offices.
ALTER TABLE profiles ADD COLUMN slate_role TEXT NOT NULL DEFAULT '';
