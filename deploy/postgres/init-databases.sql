-- Linkage: one database per service, plus `identity` for API keys.
-- Mounted into /docker-entrypoint-initdb.d/ of the postgres:16 container (see
-- docker-compose.yml). The entrypoint runs it once, as POSTGRES_USER (the
-- `linkage` superuser), only when the data volume is empty; the databases are
-- therefore owned by that user, who creates the tables through each service's
-- Alembic migrations on start.
--
-- To re-run it, remove the volume (this deletes all data):
--     docker compose down && docker volume rm <project>_postgres-data

CREATE DATABASE intake;
CREATE DATABASE router;
CREATE DATABASE departments;
CREATE DATABASE identity;
