#!/usr/bin/env bash
# Stamping over HTTP under load (issue 17): a release govseal on a fresh data
# directory, one department, one seal, and wrk posting a one-page PDF at B-LT.
#
#   benches/load/stamp.sh [SECONDS=60] [CONNECTIONS=16]
#
# Prints throughput, p50/p90/p99/max latency and the storage growth per
# 10,000 stamps (database + WAL + document store). GOVSEAL_DATABASE_URL
# (postgres://…) runs it against PostgreSQL instead of SQLite. Needs wrk,
# curl and python3; builds the release binary if needed.
set -euo pipefail
SECONDS_TO_RUN=${1:-60}
CONNECTIONS=${2:-16}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PORT=${PORT:-18080}
. "$HERE/serve.sh"
USCC=$(uscc "11$(python3 -c 'import random; print("".join(random.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(15)))')")
DEPT=$(curl -sf -H "$AUTH" -H 'content-type: application/json' \
  -d "{\"name\":\"福州市行政审批局\",\"uscc\":\"$USCC\"}" $URL/v1/departments | field id)
TOKEN=$(curl -sf -H "$AUTH" -H 'content-type: application/json' \
  -d '{"name":"负载测试","scopes":["stamp","seals:manage"]}' $URL/v1/departments/$DEPT/clients | field token)
SEAL=$(curl -sf -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d "{\"department_id\":\"$DEPT\",\"type\":\"approval\"}" $URL/v1/seals | field id)
BOUNDARY=govsealload$(date +%s)
python3 - "$WORK/body" "$BOUNDARY" "$SEAL" <<'PY'
import sys
path, boundary, seal = sys.argv[1:4]
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
content = b"BT /F1 14 Tf 72 760 Td (Approval) Tj ET"
objs[3] = b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"
pdf = b"%PDF-1.7\n"
offsets = []
for i, o in enumerate(objs, 1):
    offsets.append(len(pdf))
    pdf += b"%d 0 obj\n" % i + o + b"\nendobj\n"
xref = len(pdf)
pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
pdf += b"".join(b"%010d 00000 n \n" % o for o in offsets)
pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
parts = []
def field(name, value):
    parts.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary.encode(), name.encode(), value.encode()))
parts.append(b"--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"doc.pdf\"\r\nContent-Type: application/pdf\r\n\r\n" % boundary.encode() + pdf + b"\r\n")
for k, v in [("seal_id", seal), ("page", "1"), ("x", "300"), ("y", "300"), ("level", "B-LT")]:
    field(k, v)
parts.append(b"--%s--\r\n" % boundary.encode())
open(path, "wb").write(b"".join(parts))
PY
size() { du -sb "$WORK/data" | cut -f1; }
count() { curl -sf "$URL/v1/log/checkpoint" >/dev/null || true; }
BEFORE=$(size)
echo "govseal $(git -C "$ROOT" rev-parse --short HEAD) — ${SECONDS_TO_RUN}s, $CONNECTIONS connections, ${GOVSEAL_DATABASE_URL:-SQLite}"
STAMP_BODY="$WORK/body" STAMP_BOUNDARY=$BOUNDARY STAMP_TOKEN=$TOKEN \
  wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_TO_RUN}s" --timeout 10s -s "$HERE/stamp.lua" $URL/v1/stamp | tee "$WORK/wrk.out" | grep -E "^(stamps|latency)"
STAMPS=$(awk '/^stamps/ {print $2}' "$WORK/wrk.out")
sleep 2
AFTER=$(size)
python3 -c "import sys; b,a,n=map(int,sys.argv[1:]); print(f'data directory grew {(a-b)/1e6:.1f} MB for {n} stamps: {(a-b)/max(n,1)*10000/1e6:.1f} MB per 10,000 stamps')" "$BEFORE" "$AFTER" "$STAMPS"
