#!/usr/bin/env bash
# Run once by the postgres image, on an empty data volume (/docker-entrypoint-initdb.d): creates
# CKAN's login role (not a superuser) and its UTF-8 database from CKAN_DB_USER, CKAN_DB_PASSWORD
# and CKAN_DB_NAME (docker/.env). The image may source this file instead of executing it, so it
# leaves the shell options alone; psql's :"name" / :'value' quoting keeps the values out of the SQL.
: "${CKAN_DB_USER:?CKAN_DB_USER is not set}"
: "${CKAN_DB_PASSWORD:?CKAN_DB_PASSWORD is not set}"
: "${CKAN_DB_NAME:?CKAN_DB_NAME is not set}"

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
  -v ckan_user="$CKAN_DB_USER" -v ckan_password="$CKAN_DB_PASSWORD" -v ckan_db="$CKAN_DB_NAME" <<'SQL'
CREATE ROLE :"ckan_user" LOGIN PASSWORD :'ckan_password';
CREATE DATABASE :"ckan_db" OWNER :"ckan_user" ENCODING 'UTF8' TEMPLATE template0;
SQL
