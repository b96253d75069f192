#!/usr/bin/env bash
# Runs schemathesis (all checks, a bounded number of examples per operation)
# against a live `govseal serve` on a loopback port with a fresh data
# directory, the admin token, and generous rate limits (the run is one client
# address asking thousands of times a minute; the defaults would rightly
# answer 429). Any failure fails the script.
#
#   .ci/schemathesis.sh [MAX_EXAMPLES]      (default 20; GOVSEAL_BIN to use another binary)
#
# Needs schemathesis (python3 -m pip install schemathesis).
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-${SCHEMATHESIS_EXAMPLES:-20}}
command -v schemathesis >/dev/null || { echo "schemathesis is not installed: python3 -m pip install schemathesis" >&2; exit 1; }
bin=${GOVSEAL_BIN:-}
if [ -z "$bin" ]; then
  cargo build --quiet --bin govseal
  bin=target/debug/govseal
fi
work=$(mktemp -d /tmp/govseal-schemathesis.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
export GOVSEAL_ADMIN_TOKEN
GOVSEAL_ADMIN_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
GOVSEAL_RATE_VERIFY=100000:10000 GOVSEAL_RATE_PAGES=100000:10000 GOVSEAL_RATE_TSA=100000:10000 \
GOVSEAL_RATE_READS=100000:10000 GOVSEAL_QUEUE_WAIT_MS=30000 RUST_LOG=${RUST_LOG:-warn} \
  "$bin" serve --data "$work/data" --certs "$work/certs" --listen "127.0.0.1:$port" --public-url "$url" \
  >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do
  curl -fsS "$url/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.5
done
auth="Authorization: Bearer $GOVSEAL_ADMIN_TOKEN"
# Something for the operations to find: a department with a seal.
curl -fsS -H "$auth" -H 'content-type: application/json' "$url/v1/departments" \
  -d '{"name":"福州市行政审批局","uscc":"91350100M000100Y43"}' >"$work/department.json"
department=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/department.json")
curl -fsS -H "$auth" -H 'content-type: application/json' "$url/v1/seals" \
  -d "{\"department_id\":\"$department\",\"type\":\"approval\"}" >/dev/null
status=0
# --workers 1: CPython 3.11 can fail to build hypothesis strategies from two
# threads at once ("AST constructor recursion depth mismatch"), a tool error.
SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=.ci schemathesis --config-file .ci/schemathesis.toml run "$url/openapi.json" \
  --checks all --max-examples "$examples" --workers 1 --seed "${SCHEMATHESIS_SEED:-1}" \
  --header "$auth" --request-timeout 60 --generation-database none \
  --no-color --report junit --report-dir "$work/report" || status=$?
if [ "$status" -ne 0 ]; then
  echo "== server log (errors)"; grep -iE 'error|panic' "$work/server.log" | tail -n 50 || true
fi
exit "$status"
