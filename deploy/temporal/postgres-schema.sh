#!/bin/sh
# Creates or upgrades the Temporal server's two PostgreSQL databases with the server's own schema
# tool (go.temporal.io/server/cmd/tools/sql, `temporal-sql-tool` in Temporal's admin-tools image;
# the schemas are embedded in it). Safe to run on every start: an existing database is kept, an
# existing schema is only brought up to the tool's version. Run by infra/cluster.ts (npm run
# start:cluster, the cluster tests) and by docker-compose.yml's temporal-schema service.
# Needs: SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD (may be empty); TEMPORAL_SQL_TOOL optional.
set -eu
tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
export SQL_PLUGIN=postgres12 SQL_HOST SQL_PORT SQL_USER SQL_PASSWORD="${SQL_PASSWORD:-}"
for pair in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
  db="${pair%%:*}" schema="postgresql/v12/${pair##*:}"
  # create-database fails when the database exists: that is the upgrade case, not an error.
  out="$("$tool" --db "$db" create-database 2>&1)" || case "$out" in
    *"already exists"*) ;;
    *) echo "$out" >&2; exit 1 ;;
  esac
  # setup-schema -v 0.0 only creates the version tables (a no-op when they exist); update-schema
  # applies every versioned step the database lacks.
  "$tool" --db "$db" setup-schema -v 0.0
  "$tool" --db "$db" update-schema --schema-name "$schema"
done
