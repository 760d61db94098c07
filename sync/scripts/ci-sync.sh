#!/usr/bin/env bash
# CI step for the sync crates: start PostgreSQL (Debian packages), then run the sync tests on
# both backends. Run as root from the repository root: bash sync/scripts/ci-sync.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SWAGAT_TEST_PG_URL="$(bash sync/scripts/start-test-postgres.sh | tail -n1)"
export SWAGAT_TEST_PG_URL
cargo test -p swagat-sync-protocol -p swagat-sync-client -p swagat-server
