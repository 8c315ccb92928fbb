#!/usr/bin/env bash
# Before the first release there is one migration: regenerate it from service/models.py.
# After a release, add new revisions with `alembic revision --autogenerate` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f alembic/versions/0001_initial_schema.py
DATABASE_URL="sqlite:///$tmp/empty.db" .venv/bin/alembic -c alembic.ini revision --autogenerate \
  --rev-id 0001_initial -m "initial schema" >/dev/null 2>&1
mv alembic/versions/*_0001_initial_initial_schema.py alembic/versions/0001_initial_schema.py
echo "regenerated alembic/versions/0001_initial_schema.py"
