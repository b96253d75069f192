#!/usr/bin/env bash
# CSV import figures (issue 4): time and peak memory of
# `govseal licenses import` for N licenses (default 100,000) of the 12-field
# business license type, on a fresh SQLite installation, release build.
#
# usage: benches/import_100k.sh [N] [JOBS]
# Prints the wall time, licenses per second and the peak resident set size
# (GNU time's "Maximum resident set size"), plus the database size.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}; jobs=${2:-4}
cargo build --release --quiet
bin=target/release/govseal
work=$(mktemp -d /tmp/govseal-import.XXXXXX)
export GOVSEAL_ADMIN_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export GOVSEAL_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
port=$((20000 + RANDOM % 20000))
"$bin" serve --data "$work/data" --certs "$work/certs" --listen 127.0.0.1:$port \
  --public-url https://zwfw.fujian.gov.cn >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
URL=http://127.0.0.1:$port; AUTH="Authorization: Bearer $GOVSEAL_ADMIN_TOKEN"
for _ in $(seq 100); do curl -sf $URL/healthz >/dev/null && break; sleep 0.1; done
json() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
dept=$(curl -sf -H "$AUTH" -H 'content-type: application/json' $URL/v1/departments \
  -d '{"name":"福州市鼓楼区市场监督管理局","uscc":"11350102003652798P"}' | json id)
seal=$(curl -sf -H "$AUTH" -H 'content-type: application/json' $URL/v1/seals \
  -d "{\"department_id\":\"$dept\",\"type\":\"approval\"}" | json id)
python3 - "$dept" > "$work/type.json" <<'PY'
import json, sys
f = lambda k, zh, en, t: {"key": k, "label_zh": zh, "label_en": en, "type": t, "required": True, "on_qr": True}
kind = f("type", "类型", "Type", "enum"); kind["values"] = ["有限责任公司（自然人投资或控股）", "个体工商户"]
print(json.dumps({"code": "11100000000013127D001", "name_zh": "营业执照", "name_en": "Business Licence",
  "issuers": [sys.argv[1]], "validity_days": 0, "fields": [
  f("name", "名称", "Name", "text"), f("uscc", "统一社会信用代码", "USCC", "text"), kind,
  f("rep", "法定代表人", "Legal representative", "text"), f("cap", "注册资本（万元）", "Capital", "number"),
  f("est", "成立日期", "Established", "date"), f("term", "营业期限", "Term", "text"),
  f("addr", "住所", "Address", "text"), f("scope", "经营范围", "Business scope", "text"),
  f("auth", "登记机关", "Registration authority", "text"), f("date", "核准日期", "Approved", "date"),
  f("regno", "注册号", "Registration no.", "text")]}, ensure_ascii=False))
PY
curl -sf -H "$AUTH" -H 'content-type: application/json' $URL/v1/license-types -d @"$work/type.json" >/dev/null
kill $server; wait $server 2>/dev/null || true

# N rows, each a different holder with a valid USCC (GB 32100 check character).
python3 - "$n" > "$work/licenses.csv" <<'PY'
import sys
chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
w = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
def uscc(body):
    c = (31 - sum(chars.index(ch) * w[i] for i, ch in enumerate(body)) % 31) % 31
    return body + chars[c]
print("holder_name,holder_id_type,holder_id,name,uscc,type,rep,cap,est,term,addr,scope,auth,date,regno")
for i in range(int(sys.argv[1])):
    u = uscc(f"913501020{i:08d}")
    name = f"福州市鼓楼区闽江智慧城市科技服务第{i}有限公司"
    print(f"{name},uscc,{u},{name},{u},有限责任公司（自然人投资或控股）,林晓明,{500 + i % 1000},2019-03-18,"
          f"2019-03-18至2049-03-17,福建省福州市鼓楼区五四路158号环球广场写字楼23层2301单元,"
          f"软件开发；信息系统集成服务；信息技术咨询服务；数据处理和存储支持服务；物联网技术服务。,"
          f"福州市鼓楼区市场监督管理局,2024-05-20,3501021{i:08d}")
PY
echo "import of $n licenses, $jobs jobs, into $work"
/usr/bin/time -v "$bin" licenses import "$work/licenses.csv" --type 11100000000013127D001 \
  --seal "$seal" --jobs "$jobs" --data "$work/data" --errors "$work/errors.csv" \
  >"$work/import.out" 2>"$work/import.err" || { tail -20 "$work/import.err"; exit 1; }
tail -3 "$work/import.out"
grep -E "Elapsed \(wall|Maximum resident|Percent of CPU" "$work/import.err"
secs=$(grep "Elapsed (wall" "$work/import.err" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
echo "rate: $(python3 -c "print(f'{$n/$secs:.0f}')") licenses/s; database: $(du -sh "$work/data" | cut -f1)"
