#!/usr/bin/env bash
# schemathesis (PyPI, pinned in .ci/setup --test) against a live `swagat-server serve` from its own
# OpenAPI document: generated requests to every route must get no 5xx answer and every answer must
# match the document (status code, content type, body schema). Bounded: a fixed number of examples
# per operation, a few minutes in all. Exits non-zero on any failure, so .ci/run fails.
#   bash sync/scripts/schemathesis.sh [path/to/swagat-server]
set -euo pipefail
cd "$(dirname "$0")/../.."
server="${1:-${CARGO_TARGET_DIR:-target}/debug/swagat-server}"
[ -x "$server" ] || cargo build -q -p swagat-server --bin swagat-server
command -v schemathesis >/dev/null || python3 -m pip install --quiet schemathesis==4.32.5

work="$(mktemp -d)"
db="sqlite:$work/state.db"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$server" facility add --db "$db" --code STPHC --name "Schemathesis PHC" --district-lgd 162 >/dev/null
token="$("$server" portal add --db "$db" --name "Schemathesis portal" --facility STPHC \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
# The ABDM callback is served (so its documented answers are checked too) with a gateway that is
# never reached: a port nothing listens on. Schemathesis cannot forge the gateway's RS256 JWT, so
# the callback answers 401 (no, or a bad, Authorization) as documented; the 202/400/404 answers
# and the 503 without --abdm-gateway are driven in sync/server/tests/abdm.rs against a stand-in
# gateway.
closed="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
# Generous rates: schemathesis sends many requests; the limits themselves are tested in Rust.
RUST_LOG=warn "$server" serve --db "$db" --listen "127.0.0.1:$port" \
  --portal-requests-per-minute 100000 --portal-burst 10000 \
  --abdm-gateway "http://127.0.0.1:$closed/api/hiecm" --abdm-client-id schemathesis \
  --abdm-client-secret not-a-secret >"$work/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

# The portal token authenticates the portal API; /v1 routes then answer 401 (documented), and
# so does the ABDM callback (a portal token is not the gateway's JWT).
run() {
  schemathesis run "http://127.0.0.1:$port/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-40}" \
    --workers 1 \
    --seed 1 \
    --header "Authorization: Bearer $token" \
    --no-color 2>&1 | tee "$work/schemathesis.out"
  return "${PIPESTATUS[0]}"
}
# One worker: with two threads, CPython 3.11's `ast` module shares its recursion counter between
# them, and hypothesis parsing lambdas' sources on both at once failed twice in a row under load
# ("SystemError: AST constructor recursion depth mismatch", a CPython bug, not the server's).
# A failed check (a 5xx, a schema violation) fails at once. An error inside schemathesis itself
# ("Runtime Error" with no failed check) is not about the server: the run is repeated once, and
# must then pass.
if ! run; then
  if grep -q "Runtime Error" "$work/schemathesis.out" && ! grep -q "❌" "$work/schemathesis.out"; then
    echo "schemathesis failed inside itself, not on a check: running it once more" >&2
    run
  else
    exit 1
  fi
fi
kill -0 "$pid" || { echo "swagat-server died during schemathesis" >&2; cat "$work/server.log" >&2; exit 1; }
