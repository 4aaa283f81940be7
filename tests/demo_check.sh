#!/bin/sh
# scripts/demo's setup, run as a new user would, without the install and the build (this build
# is used): it prepares a fresh state directory, then its dsrd (embedded PostgreSQL, demo mode)
# takes an erasure request for the first sample subject; discovery forwards it to both demo
# customers, dsrd's own demo receiver accepts the signed deliveries (HTTP 200), and a demo
# customer sees the part, its identities and the delivered event through the customer API alone.
# The third sample subject is found nowhere. Waits are polls with a deadline.
set -eu
top=$(cd "${DSR_TOP_SRCDIR:-$(dirname "$0")/..}" && pwd)
build=$(cd "${DSR_TOP_BUILDDIR:-.}" && pwd)
state=$(mktemp -d /tmp/dsr-demo-check-XXXXXX)
chmod 755 "$state"
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$state"
}
trap cleanup EXIT
fail() {
  echo "demo_check: $*" >&2
  [ -f "$state/dsrd.log" ] && grep -E 'level=(error|warn)' "$state/dsrd.log" | tail -n 20 >&2
  exit 1
}
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port

DSR_DEMO_BUILD_DIR=$build DSRD_STATE_DIR=$state DSRD_PORT=$port \
  "$top/scripts/demo" --setup-only >"$state/setup.out" 2>&1 || {
  cat "$state/setup.out" >&2
  fail "scripts/demo --setup-only failed"
}
for want in "sam@example.com" "ana.holder@example.com" "noor.nobody@example.com" \
  "acme-calls workspace=" "globex-support workspace=" "$base/ui/"; do
  grep -qF "$want" "$state/setup.out" || fail "the demo guide does not show $want"
done
acme_key=$(sed -n 's/^acme-calls .*api_key=//p' "$state/demo-customers")
[ -n "$acme_key" ] || fail "no API key kept for acme-calls"

dsrctl() { "$build/dsrctl" --state-dir="$state" "$@"; }
"$build/dsrd" --state-dir="$state" >"$state/dsrd.log" 2>&1 &
pid=$!
deadline=$(($(date +%s) + 90))
until curl -sf "$base/readyz" >/dev/null 2>&1; do
  kill -0 "$pid" 2>/dev/null || fail "dsrd exited"
  [ "$(date +%s)" -lt "$deadline" ] || fail "dsrd not ready"
  sleep 0.2
done
token=$(dsrctl staff token create --role admin --name demo-check 2>/dev/null | sed -n 's/^token: //p')
[ -n "$token" ] || fail "no staff token"

# Files a request for $1 (email) and $2 (phone, may be empty); staff verify it. Prints its id.
file_and_verify() {
  if [ -n "$2" ]; then
    subj="{\"email\":\"$1\",\"phone\":\"$2\"}"
  else
    subj="{\"email\":\"$1\"}"
  fi
  id=$(curl -sf -X POST "$base/v1/requests" -H 'Content-Type: application/json' \
    -d "{\"type\":\"erasure\",\"jurisdiction\":\"gdpr\",\"subject\":$subj}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])') || fail "intake for $1"
  curl -sf -X POST "$base/v1/admin/requests/$id/actions" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{"action":"verify","note":"demo check"}' >/dev/null ||
    fail "staff verification of $1"
  echo "$id"
}
sam=$(file_and_verify sam@example.com +15550100777)
noor=$(file_and_verify noor.nobody@example.com "")

# acme-calls sees Sam's part through the API alone, with the identity and a delivered event.
deadline=$(($(date +%s) + 120))
while :; do
  got=$(curl -sf "$base/v1/customer/requests" -H "Authorization: Bearer $acme_key" |
    python3 -c 'import json, sys, urllib.request
items = json.load(sys.stdin)["items"]
if not items:
    sys.exit(0)
p = items[0]
req = urllib.request.Request(p["api_url"], headers={"Authorization": "Bearer " + sys.argv[1]})
part = json.load(urllib.request.urlopen(req))
ids = list(part["identities"].values())
delivered = [h for h in part["history"] if h["event"] == "dsr.forwarded" and h["delivery"] == "delivered"]
print("ok" if delivered and ("sam@example.com" in ids or "+15550100777" in ids) else "wait")' \
    "$acme_key" 2>/dev/null || true)
  [ "$got" = ok ] && break
  [ "$(date +%s)" -lt "$deadline" ] || fail "acme-calls never saw Sam's part delivered (last: $got)"
  sleep 0.5
done
grep -q 'event=demo.webhook .*signature=ok' "$state/dsrd.log" ||
  fail "the demo receiver logged no checked signature"
if grep -q 'event=demo.webhook .*signature=bad' "$state/dsrd.log"; then
  fail "the demo receiver refused a delivery of dsrd's own"
fi

# Noor is found nowhere: her request completes with no parts.
deadline=$(($(date +%s) + 120))
until curl -sf "$base/v1/admin/requests/$noor" -H "Authorization: Bearer $token" |
  python3 -c 'import json, sys; r = json.load(sys.stdin); sys.exit(0 if r["status"] == "completed" and not r.get("parts") else 1)'; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "Noor's request did not complete as no data held"
  sleep 0.5
done
echo "demo_check: setup, forwarding to the demo customers and the customer API work (request $sam)"
