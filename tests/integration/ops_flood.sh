#!/usr/bin/env bash
# ops_flood.sh - smartproxy-api under an event flood: 10 000 identical
# critical events run the event script a bounded number of times, and the
# runs together report every one of them (SP_EVENT_COUNT); a burst of
# distinct events is rate-limited and never makes a request wait for a
# script: the burst's scripts never end until the api stops, and every
# request is still answered.
#
# Nothing here waits for time to pass: "no more runs" is read after the api
# has exited, when its log and the runs directory are final.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
sp_init 120

API=$SP_TOP_BUILDDIR/smartproxy-api
sp_require_prog "$API"
sp_need python3 python3
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
# The burst's script: it never ends by itself (the api kills it at stop).
sed 's/^sleep 1$/exec sleep 3600/' "$D/event.sh" >"$D/event-hold.sh"
chmod +x "$D/event.sh" "$D/event-hold.sh"
# api_yaml SCRIPT TIMEOUT: the api's configuration with that event script.
api_yaml() {
	cat >"$D/api.yaml" <<YAML
listen: "127.0.0.1:0"
tls:
  certificate: $D/pki/server.pem
  key: $D/pki/server.key
database: $D/api.db
tokens:
  - name: client
    role: proxy
    file: $D/client.token
event_script:
  path: $1
  timeout: $2
logging:
  level: notice
  targets:
    - type: stderr
YAML
}
# start_api NAME: start smartproxy-api, its log in $D/NAME.log, port in PORT.
start_api() {
	rm -f "$D/api.port"
	sp_start "$1" "$API" --config "$D/api.yaml" --port-file "$D/api.port"
	API_PID=$SP_LAST_PID
	PORT=$(sp_wait_port_file "$D/api.port")
}
stop_api() {
	kill -TERM "$API_PID"
	sp_wait "$API_PID" 20 || { sp_dump_logs; sp_fail "smartproxy-api did not stop cleanly"; }
}
api_yaml "$D/event.sh" 5
start_api api

# post.py N KIND: N events over one keep-alive HTTPS connection; prints the
# outcomes and the slowest answer in ms.
cat >"$D/post.py" <<'PY'
import collections, http.client, json, ssl, sys, time
port, token, ca, n, kind = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)
c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30 * int(__import__("os").environ["SP_TIME_FACTOR"]))
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
	[ "$i" -ge $(($(sp_time 25) * 10)) ] && { cat "$D"/runs/run.* ; sp_dump_logs; sp_fail "the runs do not account for 10000 events"; }
	sleep 0.1; i=$((i + 1))
done
# Stopped, the api's accounting is final: a count still held back would be
# named in its "stopping:" line.
stop_api
grep "stopping:" "$D/api.log" && sp_fail "events were left unreported at stop"
nruns=$(ls "$D/runs" | grep -c '^run\.[0-9]*$')
total=$(cat "$D"/runs/run.[0-9]* | awk '{ s += $2 } END { print s }')
echo "10000 identical events: $nruns script run(s), counts adding up to $total"
cat "$D"/runs/run.[0-9]*
[ "$total" -eq 10000 ] || sp_fail "the counts add up to $total, not 10000"
[ "$nruns" -le 4 ] || sp_fail "$nruns script runs for one kind of event"
grep -q "count 9999\|count [0-9]*): event script" "$D/api.log" || sp_fail "no run with a count in the log"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); o=d["outcomes"]; sys.exit(0 if o.get("deduplicated",0) >= 9990 else 1)' \
	"$D/flood.json" || sp_fail "identical events were not de-duplicated"

# A burst of distinct events while every script it starts hangs: if any
# request waited for a script, the burst could not end.
rm -f "$D"/runs/run.*
api_yaml "$D/event-hold.sh" 3600
start_api api2
sp_run python3 "$D/post.py" "$PORT" "$TOKEN" "$D/pki/ca.pem" 300 distinct >"$D/burst.json" ||
	{ sp_dump_logs; sp_fail "the burst was not accepted"; }
cat "$D/burst.json"
grep -E "exit [0-9]+ after|killed" "$D/api2.log" && sp_fail "a held script ended during the burst"
# The four script slots fill, and no script ends while the api runs: what
# ran is final once it stops.
i=0
until [ "$(ls "$D/runs" | grep -c '^run\.[0-9]*$')" -ge 4 ]; do
	[ "$i" -ge $(($(sp_time 20) * 10)) ] && { sp_dump_logs; sp_fail "the scripts did not start"; }
	sleep 0.1; i=$((i + 1))
done
stop_api
nruns=$(ls "$D/runs" | grep -c '^run\.[0-9]*$')
dropped=$(sed -n 's/.*stopping: \([0-9]*\) queued script run(s).*/\1/p' "$D/api2.log")
echo "300 distinct events: $nruns script run(s) at once, $dropped queued run(s) dropped at stop"
[ "$nruns" -eq 4 ] || sp_fail "$nruns scripts ran at once, not the 4 the runner allows"
python3 - "$D/burst.json" "$nruns" "${dropped:-0}" <<'PY' || sp_fail "burst outcomes"
import json, sys
d = json.load(open(sys.argv[1]))
o, ran, dropped = d["outcomes"], int(sys.argv[2]), int(sys.argv[3])
# Every queued event either ran or was dropped from the queue at stop.
assert o.get("queued", 0) == ran + dropped, (o, ran, dropped)
assert o.get("rate_limited", 0) >= 200, o
PY
exit 0
