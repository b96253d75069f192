#!/usr/bin/env bash
# License library uses over HTTP under load (issue 19): a release govseal on a
# fresh data directory; one issuing department with a business license, a
# service item whose use list releases two of its fields without consent, a
# using department, and wrk posting POST /v1/license-uses.
#
#   benches/load/uses.sh [SECONDS=60] [CONNECTIONS=16]
#
# Prints uses/s, p50/p90/p99/max latency, and how many log entries were still
# unsequenced 2 s after the run. GOVSEAL_DATABASE_URL (postgres://…) runs it
# against PostgreSQL. Needs wrk, curl and python3. (The issue's figure is
# with 1,000,000 licenses in the database; this script seeds one.)
set -euo pipefail
SECONDS_TO_RUN=${1:-60}
CONNECTIONS=${2:-16}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PORT=${PORT:-18081}
. "$HERE/serve.sh"
post() { curl -sf -H "$1" -H 'content-type: application/json' -d "$2" "$URL$3"; }
ISSUER=$(post "$AUTH" "{\"name\":\"福州市市场监督管理局\",\"uscc\":\"$(uscc 11350100MB0000001)\"}" /v1/departments | field id)
ITOKEN=$(post "$AUTH" '{"name":"发证系统","scopes":["seals:manage","licenses:issue"]}' /v1/departments/$ISSUER/clients | field token)
SEAL=$(post "Authorization: Bearer $ITOKEN" "{\"department_id\":\"$ISSUER\",\"type\":\"approval\"}" /v1/seals | field id)
python3 - "$ISSUER" "$SEAL" "$WORK" <<'PY'
import json, sys
issuer, seal, work = sys.argv[1:4]
f = lambda k, zh, en, ty: {"key": k, "label_zh": zh, "label_en": en, "type": ty, "required": True, "on_qr": True}
kind = f("type", "类型", "Type", "enum"); kind["values"] = ["有限责任公司（自然人投资或控股）", "个体工商户"]
t = {"code": "11100000000013127D001", "name_zh": "营业执照", "name_en": "Business Licence", "issuers": [issuer],
     "validity_days": 0, "fields": [f("name", "名称", "Name", "text"), f("uscc", "统一社会信用代码", "USCC", "text"), kind,
     f("rep", "法定代表人", "Legal representative", "text")]}
json.dump(t, open(f"{work}/type.json", "w"))
lic = {"type": "11100000000013127D001", "seal_id": seal,
       "holder": {"name": "福州市闽江智慧城市科技服务有限公司", "id_type": "uscc", "id": "91110000600037341L"},
       "fields": {"name": "福州市闽江智慧城市科技服务有限公司", "uscc": "91110000600037341L", "type": "个体工商户", "rep": "林晓明"}}
json.dump(lic, open(f"{work}/license.json", "w"))
PY
post "$AUTH" "$(cat $WORK/type.json)" /v1/license-types >/dev/null
post "Authorization: Bearer $ITOKEN" "$(cat $WORK/license.json)" /v1/licenses >/dev/null
USER=$(post "$AUTH" "{\"name\":\"福州市不动产登记中心\",\"uscc\":\"$(uscc 11350100MB0000002)\"}" /v1/departments | field id)
UTOKEN=$(post "$AUTH" '{"name":"不动产系统","scopes":["licenses:use"]}' /v1/departments/$USER/clients | field token)
post "$AUTH" "{\"code\":\"FW-BDC-0001\",\"name_zh\":\"不动产转移登记\",\"name_en\":\"Real estate transfer\",\"departments\":[\"$USER\"]}" /v1/service-items >/dev/null
post "$AUTH" '{"license_type":"11100000000013127D001","fields":["name","rep"],"consent":"not_required","legal_basis":"《不动产登记暂行条例实施细则》"}' /v1/service-items/FW-BDC-0001/uses >/dev/null
echo '{"service_item":"FW-BDC-0001","holder":{"id_type":"uscc","id":"91110000600037341L"},"reason":"受理号 BDC-2026-0001","operator":"张办事员"}' > "$WORK/body.json"
echo "govseal $(git -C "$ROOT" rev-parse --short HEAD) — ${SECONDS_TO_RUN}s, $CONNECTIONS connections, ${GOVSEAL_DATABASE_URL:-SQLite}"
USE_BODY="$WORK/body.json" USE_TOKEN=$UTOKEN \
  wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_TO_RUN}s" --timeout 10s -s "$HERE/uses.lua" $URL/v1/license-uses | grep -E "^(uses|latency)"
sleep 2
curl -sf "$URL/v1/log/checkpoint" | head -2 | tail -1 | sed 's/^/log size after the run: /'
