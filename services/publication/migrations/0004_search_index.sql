-- The name search (`q`) matches any part of the folded names: a trigram index answers it without
-- reading every published profile (at national scale a full scan took tens of milliseconds).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX profiles_search ON profiles USING gin (search gin_trgm_ops) WHERE withdrawn_at IS NULL;
