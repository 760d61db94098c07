#!/usr/bin/env bash
# Starts a PostgreSQL cluster from Debian's packages for the sync tests, creates the test role
# and database, and prints the URL to export as SWAGAT_TEST_PG_URL. Idempotent; run as root.
#   export SWAGAT_TEST_PG_URL="$(sync/scripts/start-test-postgres.sh | tail -n1)"
set -euo pipefail

ROLE="${SWAGAT_TEST_PG_ROLE:-swagat_test}"
PASS="${SWAGAT_TEST_PG_PASSWORD:-swagat_test}"
DB="${SWAGAT_TEST_PG_DB:-swagat_test}"

if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
    echo "installing postgresql from Debian packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
fi

VERSION="$(ls /usr/lib/postgresql | sort -V | tail -n1)"
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$VERSION main"; then
    echo "creating cluster $VERSION/main" >&2
    pg_createcluster "$VERSION" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1==v && $2=="main" {print $4}' | grep -q online; then
    pg_ctlcluster "$VERSION" main start >&2
fi
PORT="$(pg_lsclusters -h | awk -v v="$VERSION" '$1==v && $2=="main" {print $3}')"

for _ in $(seq 1 30); do
    if su postgres -c "psql -p $PORT -qAtc 'SELECT 1'" >/dev/null 2>&1; then break; fi
    sleep 1
done

su postgres -c "psql -p $PORT -v ON_ERROR_STOP=1 -qAt" >&2 <<SQL
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
        CREATE ROLE $ROLE LOGIN PASSWORD '$PASS';
    ELSE
        ALTER ROLE $ROLE LOGIN PASSWORD '$PASS';
    END IF;
END
\$\$;
SQL
if ! su postgres -c "psql -p $PORT -qAtc \"SELECT 1 FROM pg_database WHERE datname = '$DB'\"" | grep -q 1; then
    su postgres -c "createdb -p $PORT -O $ROLE $DB" >&2
fi

echo "postgres://$ROLE:$PASS@127.0.0.1:$PORT/$DB"
