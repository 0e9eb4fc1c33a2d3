-- How far the CDN in front of the site has been told of the published profiles' changes: the
-- last `profile_log.seq` whose pages it was asked to forget. One row; the replica that locks it
-- tells the CDN, the others skip (a purge is never sent twice by two replicas at once).
CREATE TABLE cdn_purge_position (
    id   BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    seq  BIGINT  NOT NULL
);
-- What was published before a CDN was configured is not purged: a CDN starts empty.
INSERT INTO cdn_purge_position (seq) SELECT COALESCE(max(seq), 0) FROM profile_log;
