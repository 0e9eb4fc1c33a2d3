-- The profile's content hash kept inside the stored profile too (the page and the open data read
-- it from there; it was empty): backfilled from the column.
UPDATE profiles SET profile = jsonb_set(profile, '{content_sha256}', to_jsonb(content_sha256))
WHERE profile->>'content_sha256' IS DISTINCT FROM content_sha256;
