#!/bin/sh
# PostgreSQL init script for deploy/compose.yaml, run once by the postgres image on an empty data directory
# (/docker-entrypoint-initdb.d). Creates, per service, a login role and a database it owns, both named
# creditflow_<service>, so that no service can read another's tables. The password comes from
# CREDITFLOW_DB_PASSWORD; the service list from CREDITFLOW_SERVICES.
set -eu

: "${CREDITFLOW_DB_PASSWORD:?CREDITFLOW_DB_PASSWORD must be set}"

for service in ${CREDITFLOW_SERVICES:-customers credit collections survey}; do
    echo "creditflow: creating role and database creditflow_${service}"
    psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
        -v name="creditflow_${service}" -v password="${CREDITFLOW_DB_PASSWORD}" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
done
