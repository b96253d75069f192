# Sourced by the load scripts: builds the release govseal, starts it on a
# fresh data directory at $URL (port $PORT) with a random admin token and
# master key, stops it on exit, and defines AUTH, field() and uscc().
# Expects ROOT and PORT to be set.
cargo build --release --quiet --bin govseal --manifest-path "$ROOT/Cargo.toml"
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/govseal
WORK=$(mktemp -d)
URL=http://127.0.0.1:$PORT
export GOVSEAL_ADMIN_TOKEN=load-admin-$(date +%s%N)
export GOVSEAL_MASTER_KEY=$(python3 -c 'import base64,os;print(base64.b64encode(os.urandom(32)).decode())')
"$BIN" serve --data "$WORK/data" --certs "$WORK/certs" --listen 127.0.0.1:$PORT --public-url $URL \
  > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -sf $URL/healthz >/dev/null && break; sleep 0.2; done
AUTH="Authorization: Bearer $GOVSEAL_ADMIN_TOKEN"
field() { python3 -c "import json,sys;print(json.load(sys.stdin)['$1'])"; }
# A USCC (GB 32100) with its check character computed from the 17-character body.
uscc() { python3 -c '
import sys
A="0123456789ABCDEFGHJKLMNPQRTUWXY"; W=[1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28]
b=sys.argv[1]; print(b+A[(31-sum(A.index(c)*w for c,w in zip(b,W))%31)%31])' "$1"; }
