#!/usr/bin/env bash
# ops_flood.sh - smartproxy-api under an event flood: 10 000 identical
# critical events run the event script a bounded number of times, and the
# runs together report every one of them (SP_EVENT_COUNT); a burst of
# distinct events is rate-limited and never makes a request wait for a
# script (the script sleeps; answers stay fast).
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
sp_init 120

API=$SP_TOP_BUILDDIR/smartproxy-api
sp_require_prog "$API"
command -v python3 >/dev/null 2>&1 || sp_skip "python3 not found"
make_certs "$SP_TMP/pki"
D=$SP_TMP
TOKEN=client-token-0123456789
printf '%s\n' "$TOKEN" >"$D/client.token"
mkdir -p "$D/runs"
cat >"$D/event.sh" <<'SH'
#!/bin/sh
f=$(dirname "$0")/runs/run.$$
printf '%s %s %s\n' "$SP_EVENT_TYPE" "$SP_EVENT_COUNT" "$SP_EVENT_MESSAGE" >"$f.tmp"
mv "$f.tmp" "$f"
sleep 1
SH
chmod +x "$D/event.sh"
cat >"$D/api.yaml" <<YAML
listen: "127.0.0.1:0"
tls:
  certificate: $D/pki/server.pem
  key: $D/pki/server.key
database: $D/api.db
tokens:
  - name: client
    file: $D/client.token
event_script:
  path: $D/event.sh
  timeout: 5
logging:
  level: notice
  targets:
    - type: stderr
YAML
sp_start api "$API" --config "$D/api.yaml" --port-file "$D/api.port"
API_PID=$SP_LAST_PID
PORT=$(sp_wait_port_file "$D/api.port")

# post.py N KIND: N events over one keep-alive HTTPS connection; prints the
# outcomes and the slowest answer in ms.
cat >"$D/post.py" <<'PY'
import collections, http.client, json, ssl, sys, time
port, token, ca, n, kind = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)
c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
h = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
seen, slowest = collections.Counter(), 0.0
for i in range(n):
    msg = "disk full on /var/spool" if kind == "same" else "distinct failure %d" % i
    body = json.dumps({"type": "log.core", "severity": "crit", "time": "2026-11-25T00:00:00Z",
                       "message": msg, "fields": {}})
    t = time.monotonic()
    c.request("POST", "/v1/events", body, h)
    r = c.getresponse()
    data = r.read()
    slowest = max(slowest, time.monotonic() - t)
    if r.status != 202:
        sys.exit("HTTP %d: %s" % (r.status, data))
    seen[json.loads(data)["script"]] += 1
print(json.dumps({"outcomes": seen, "slowest_ms": int(slowest * 1000)}))
PY

sp_run python3 "$D/post.py" "$PORT" "$TOKEN" "$D/pki/ca.pem" 10000 same >"$D/flood.json" ||
	{ sp_dump_logs; sp_fail "the flood was not accepted"; }
cat "$D/flood.json"
# The window is 10 s: within 20 s every counted event has been reported.
i=0
until [ "$(cat "$D"/runs/run.[0-9]* 2>/dev/null | awk '{ s += $2 } END { print s + 0 }')" -ge 10000 ]; do
	[ "$i" -ge 250 ] && { cat "$D"/runs/run.* ; sp_dump_logs; sp_fail "the runs do not account for 10000 events"; }
	sleep 0.1; i=$((i + 1))
done
sleep 1
nruns=$(ls "$D/runs" | grep -c '^run\.[0-9]*$')
total=$(cat "$D"/runs/run.[0-9]* | awk '{ s += $2 } END { print s }')
echo "10000 identical events: $nruns script run(s), counts adding up to $total"
cat "$D"/runs/run.[0-9]*
[ "$total" -eq 10000 ] || sp_fail "the counts add up to $total, not 10000"
[ "$nruns" -le 4 ] || sp_fail "$nruns script runs for one kind of event"
grep -q "count 9999\|count [0-9]*): event script" "$D/api.log" || sp_fail "no run with a count in the log"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); o=d["outcomes"]; sys.exit(0 if o.get("deduplicated",0) >= 9990 else 1)' \
	"$D/flood.json" || sp_fail "identical events were not de-duplicated"

# A burst of distinct events: bounded runs, the rest counted, no waiting.
rm -f "$D"/runs/run.*
sp_run python3 "$D/post.py" "$PORT" "$TOKEN" "$D/pki/ca.pem" 300 distinct >"$D/burst.json" ||
	{ sp_dump_logs; sp_fail "the burst was not accepted"; }
cat "$D/burst.json"
sleep 3
nruns=$(ls "$D/runs" | grep -c '^run\.[0-9]*$')
echo "300 distinct events: $nruns script run(s) within 3 s"
[ "$nruns" -le 12 ] || sp_fail "$nruns script runs within 3 s: not rate-limited"
python3 - "$D/burst.json" <<'PY' || sp_fail "burst outcomes"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["outcomes"].get("rate_limited", 0) >= 200, d
assert d["slowest_ms"] < 1000, d     # the script sleeps 1 s: nobody waited for it
PY
chain_stop_api() {
	kill -TERM "$API_PID"
	sp_wait "$API_PID" 20 || { sp_dump_logs; sp_fail "smartproxy-api did not stop cleanly"; }
}
chain_stop_api
grep -q "counted event(s) not passed to the script" "$D/api.log" ||
	sp_fail "stopping did not report the events it could not pass on"
exit 0
