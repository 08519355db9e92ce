#!/usr/bin/env bash
# Run by the postgres image after init-ckan-db.sh, on an empty data volume: creates the DataStore's
# database, owned by CKAN's role (the DataStore's write user), and the DataStore's read-only login
# role, from CKAN_DB_USER, DATASTORE_DB_NAME, DATASTORE_RO_USER and DATASTORE_RO_PASSWORD
# (docker/.env). What each role may do is CKAN's own script (`ckan datastore set-permissions`),
# applied by the ckan container at every start. Creates only what is missing, so that a volume made
# before the DataStore can get it by running this file by hand (docker/README.md). Like
# init-ckan-db.sh it may be sourced, so it leaves the shell options alone.
: "${CKAN_DB_USER:?CKAN_DB_USER is not set}"
: "${DATASTORE_DB_NAME:?DATASTORE_DB_NAME is not set}"
: "${DATASTORE_RO_USER:?DATASTORE_RO_USER is not set}"
: "${DATASTORE_RO_PASSWORD:?DATASTORE_RO_PASSWORD is not set}"

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
  -v ckan_user="$CKAN_DB_USER" -v datastore_db="$DATASTORE_DB_NAME" \
  -v ro_user="$DATASTORE_RO_USER" -v ro_password="$DATASTORE_RO_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'ro_user', :'ro_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'ro_user') \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'datastore_db',
              :'ckan_user', 'UTF8')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'datastore_db') \gexec
SQL
