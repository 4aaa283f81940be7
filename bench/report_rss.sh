#!/usr/bin/env bash
# Peak memory of dsrd building a compliance report (issue 17, M2):
#   bench/report_rss.sh [REQUESTS] [YEARS]     (defaults 100000, 10)
# Starts dsrd on a fresh state directory (embedded PostgreSQL), stores
# REQUESTS requests received evenly over the last YEARS years, each verified
# and completed or denied (the audit entries the report reads), then asks for
# the report of those YEARS years as json, csv and html, and prints dsrd's
# peak resident memory (VmHWM) before and after each, the answer's size and
# time, and what a period past report_max_days gets.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-100000}
years=${2:-10}
bdir=$(cd "$top" && scripts/build build/default | tail -n 1)
state=$(mktemp -d /tmp/dsr-report-rss-XXXXXX)
chmod 755 "$state"
port=$((20000 + RANDOM % 20000))
"$bdir/dsrd" --state-dir="$state" --port="$port" --workers=0 --log-level=warn \
  --report-max-days=$((years * 366 + 1)) 2>"$state/dsrd.log" >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$state"' EXIT
for _ in $(seq 1 240); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.5
done
psql_() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 \
  "host=$state/pg/run dbname=dsrd user=dsrd"; }
t0=$(date +%s.%N)
psql_ <<SQL
INSERT INTO dsr_requests (type, jurisdiction, status, language, status_token_hash,
                          received_at, due_at, updated_at)
SELECT (ARRAY['access','erasure','portability','rectification'])[1 + g % 4],
       (ARRAY['gdpr','ccpa','uk_gdpr'])[1 + g % 3],
       CASE WHEN g % 10 = 0 THEN 'denied' ELSE 'completed' END, 'en',
       sha256(('t' || g)::text::bytea),
       now() - make_interval(secs => (g::float8 / $n) * $years * 365 * 86400),
       now() - make_interval(secs => (g::float8 / $n) * $years * 365 * 86400) + interval '30 days',
       now()
FROM generate_series(1, $n) g;
INSERT INTO dsr_audit_entries (at, request_id, kind, actor, data)
SELECT received_at + interval '1 hour', id, 'request.verified', 'subject',
       '{"channel":"email"}' FROM dsr_requests;
INSERT INTO dsr_audit_entries (at, request_id, kind, actor, data)
SELECT received_at + interval '12 days', id,
       CASE WHEN status = 'denied' THEN 'request.denied' ELSE 'request.completed' END, 'system',
       CASE WHEN status = 'denied' THEN '{"reason":"manifestly_unfounded"}' ELSE '{}' END
FROM dsr_requests;
ANALYZE;
SQL
echo "report_rss: $n requests over $years years stored in $(echo "$(date +%s.%N) - $t0" | bc) s"
token=$("$bdir/dsrctl" --state-dir="$state" staff token create --role auditor --name bench |
  sed -n 's/^token: *//p')
hwm() { awk '/^VmHWM/ {print $2 " kB"}' "/proc/$pid/status"; }
from=$(date -u -d "$years years ago - 1 day" +%Y-%m-%d)
to=$(date -u -d tomorrow +%Y-%m-%d)
echo "report_rss: dsrd peak RSS before any report: $(hwm)"
for fmt in json csv html; do
  out=$(curl -s -o "$state/report.$fmt" -w '%{http_code} %{size_download} %{time_total}' \
    -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/v1/admin/reports/compliance?from=$from&to=$to&format=$fmt")
  echo "report_rss: $fmt $from..$to: status, bytes, seconds = $out; dsrd peak RSS now $(hwm)"
done
out=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$port/v1/admin/reports/compliance?from=1970-01-01&to=9999-12-31&format=html")
echo "report_rss: 1970-01-01..9999-12-31: status $out (report_max_days)"
