-- The data files of a national release run to hundreds of megabytes (the JSON beyond a gigabyte):
-- they are stored gzip-compressed; `sha256` stays the digest of the uncompressed content, the
-- one SHA256SUMS lists and clients check.
ALTER TABLE open_data_files
    ADD COLUMN encoding TEXT NOT NULL DEFAULT 'identity' CHECK (encoding IN ('identity', 'gzip'));
