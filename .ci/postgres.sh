#!/usr/bin/env bash
# Install (Debian's package) and start a PostgreSQL server on 127.0.0.1:5432 for the tests,
# with a role `cjgbot` (password `cjgbot`) that may create the per-test databases.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
if ! pg_lsclusters -h | grep -q "^$version main"; then
  pg_createcluster "$version" main >/dev/null
fi
pg_ctlcluster "$version" main start >/dev/null 2>&1 || true
for _ in $(seq 1 30); do
  runuser -u postgres -- pg_isready -q -h 127.0.0.1 && break
  sleep 1
done
# Through the local socket as the postgres user (peer authentication).
runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cjgbot') THEN
    CREATE ROLE cjgbot LOGIN SUPERUSER PASSWORD 'cjgbot';
  END IF;
END $$;
SQL
echo "postgresql+asyncpg://cjgbot:cjgbot@127.0.0.1:5432/postgres"
