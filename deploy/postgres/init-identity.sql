-- The identity service's own PostgreSQL instance: the sensitive questionnaire is kept in a
-- database apart from every other (DESIGN §1, §7), on a server no other service can reach.
--
-- Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d/).
-- The password is the service's default (crates/kit/src/config.rs), fit for a laptop only.
CREATE ROLE conoceles_identity LOGIN PASSWORD 'conoceles_identity';
CREATE DATABASE conoceles_identity OWNER conoceles_identity;
REVOKE CONNECT ON DATABASE conoceles_identity FROM PUBLIC;
