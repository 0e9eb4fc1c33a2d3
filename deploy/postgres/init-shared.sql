-- Roles and databases of the services that share one PostgreSQL instance (DESIGN §3, §9).
-- The identity service has an instance of its own: see init-identity.sql.
--
-- Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d/).
-- The passwords are the services' defaults (crates/kit/src/config.rs), fit for a laptop
-- only; anywhere else create the roles with generated passwords and give each service its
-- DATABASE_URL (docs/operations.md, "Deploy").
CREATE ROLE conoceles_auth        LOGIN PASSWORD 'conoceles_auth';
CREATE ROLE conoceles_capture     LOGIN PASSWORD 'conoceles_capture';
CREATE ROLE conoceles_validation  LOGIN PASSWORD 'conoceles_validation';
CREATE ROLE conoceles_publication LOGIN PASSWORD 'conoceles_publication';
CREATE ROLE conoceles_statistics  LOGIN PASSWORD 'conoceles_statistics';

-- Each role owns its database (and so its public schema) and may not connect to the others.
CREATE DATABASE conoceles_auth        OWNER conoceles_auth;
CREATE DATABASE conoceles_capture     OWNER conoceles_capture;
CREATE DATABASE conoceles_validation  OWNER conoceles_validation;
CREATE DATABASE conoceles_publication OWNER conoceles_publication;
CREATE DATABASE conoceles_statistics  OWNER conoceles_statistics;

REVOKE CONNECT ON DATABASE conoceles_auth        FROM PUBLIC;
REVOKE CONNECT ON DATABASE conoceles_capture     FROM PUBLIC;
REVOKE CONNECT ON DATABASE conoceles_validation  FROM PUBLIC;
REVOKE CONNECT ON DATABASE conoceles_publication FROM PUBLIC;
REVOKE CONNECT ON DATABASE conoceles_statistics  FROM PUBLIC;
