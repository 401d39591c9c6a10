#!/usr/bin/env bash
# ops_events.sh - operations through the whole chain (real smartproxy-api,
# server with log_ignore and event_script, client, oftp2-peer both sides):
#
#  1. an OFTP2 transfer leaves an audit record (partner, bytes, file names
#     when the OFTP2 module provides them), listed by smartproxyctl;
#  2. a critical record during a tunnel outage reaches the event script once
#     the tunnel is back, with the documented arguments and environment;
#  3. a rule added with smartproxyctl while the chain runs silences the same
#     critical record: INFO with tag="ignore-rule=<id>", no script run;
#  4. an expired rule silences nothing, and the backend purges it with a
#     line in the system log (a /dev/log listener in a private mount
#     namespace stands in for syslogd).
#
# The critical record is real: losing the control connection closes every
# partner listener (no partner can reach us), which the server logs at CRIT.
# Stopping the client is how the test loses it.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_init 240

OFTP2_PEER=$SP_TOP_BUILDDIR/oftp2-peer
CTL=$SP_TOP_BUILDDIR/smartproxyctl
LIBS=$SP_TOP_BUILDDIR/.libs
sp_require_prog "$SP_SERVER" "$SP_CLIENT" "$SP_API" "$OFTP2_PEER" "$CTL"
for m in log_ignore event_script; do
	[ -f "$LIBS/$m.so" ] || sp_hard_error "module $m.so not built"
done
sp_need python3 python3
PARTNER_ID=O0013000000ACME
INSIDE_ID=O0013000000INSIDE

# Chain order matters: log_ignore before event_script.
modules="modules:"
for m in oftp2 partner log_ignore event_script; do
	[ -f "$LIBS/$m.so" ] && modules="$modules
  - name: $m
    path: $LIBS/$m.so"
done
CHAIN_MODULES=$modules
chain_init
PARTNER_PORT=$(chain_free_port)

# ---- the event script and the system log ----
mkdir -p "$SP_TMP/runs"
cat >"$SP_TMP/event.sh" <<'EOF'
#!/bin/sh
# One file per run: the arguments, then the environment.
f=$(dirname "$0")/runs/run.$$
{ for a in "$@"; do printf 'arg=%s\n' "$a"; done; env | grep '^SP_EVENT_' | sort; } >"$f.tmp"
mv "$f.tmp" "$f"
echo "event script saw $1"
EOF
chmod +x "$SP_TMP/event.sh"

cat >"$SP_TMP/syslog.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536) + b"\n")
EOF
sp_start syslogd python3 "$SP_TMP/syslog.py" "$SP_TMP/devlog" "$SP_TMP/syslog.txt"
i=0
until [ -S "$SP_TMP/devlog" ]; do
	[ "$i" -ge $(($(sp_time 10) * 10)) ] && sp_hard_error "no syslog socket"
	sleep 0.1; i=$((i + 1))
done
# smartproxy-api sees our socket as /dev/log; the rest of /dev is bound in.
cat >"$SP_TMP/with-devlog.sh" <<'EOF'
#!/bin/sh
set -e
d=$1; shift
mkdir -p "$d/dev"
for f in null zero urandom random full; do
	touch "$d/dev/$f"; mount --bind "/dev/$f" "$d/dev/$f"
done
touch "$d/dev/log"; mount --bind "$d/devlog" "$d/dev/log"
mount --rbind "$d/dev" /dev
exec "$@"
EOF
SYSLOG_NS=
if unshare -rm true 2>/dev/null; then
	SYSLOG_NS="unshare -rm sh $SP_TMP/with-devlog.sh $SP_TMP"
else
	sp_log "no user namespaces here: the syslog line of the purge is not checked"
fi

# ---- backend ----
cp "$SP_TMP/token" "$SP_TMP/api-client.token"
echo "admin-token-0123456789abc" >"$SP_TMP/admin.token"
cat >"$SP_TMP/api.yaml" <<YAML
listen: "127.0.0.1:0"
tls:
  certificate: $SP_TMP/pki/server.pem
  key: $SP_TMP/pki/server.key
database: $(sp_api_database "$SP_TMP/api.db")
tokens:
  - name: client
    role: proxy
    file: $SP_TMP/api-client.token
  - name: admin
    role: admin
    file: $SP_TMP/admin.token
event_script:
  path: $SP_TMP/event.sh
  timeout: 10
logging:
  level: info
  targets:
    - type: stderr
YAML
cat >"$SP_TMP/site.yaml" <<YAML
listeners:
  - name: partners
    address: "127.0.0.1:$PARTNER_PORT"
    tls:
      certificate_chain: pki/server.pem
      private_key: pki/server.key
      require_client_cert: false
partners:
  - odette_id: $PARTNER_ID
    description: ACME
    password: ACMEPW
    allowed_networks: [127.0.0.0/8]
    tls:
      require_client_cert: false
limits:
  handshake_timeout_ms: 5000
YAML
"$SP_API" --config "$SP_TMP/api.yaml" --import "$SP_TMP/site.yaml" >/dev/null ||
	sp_fail "site import failed"
sp_start api $SYSLOG_NS "$SP_API" --config "$SP_TMP/api.yaml" --port-file "$SP_TMP/api.port"
API_PID=$SP_LAST_PID
BACKEND_PORT=$(sp_wait_port_file "$SP_TMP/api.port")
chain_write_client_conf "$PROXY_ID"
export SMARTPROXYCTL_URL=https://127.0.0.1:$BACKEND_PORT/
export SMARTPROXYCTL_TOKEN_FILE=$SP_TMP/admin.token SMARTPROXYCTL_CA=$SP_TMP/pki/ca.pem
export SMARTPROXYCTL_RC=/dev/null

runs() { ls "$SP_TMP/runs" | grep -c '^run\.[0-9]*$'; }
# applied N: wait until the server applied at least N revisions in all.
applied() {
	local n=$1 i=0
	until [ "$(grep -c 'revision [0-9]* applied' "$SP_TMP/server.log")" -ge "$n" ]; do
		[ "$i" -ge $(($(sp_time 30) * 10)) ] && { sp_dump_logs; sp_fail "server applied fewer than $n revisions"; }
		sleep 0.1; i=$((i + 1))
	done
}
# lose_tunnel: stop the client (the server logs the CRIT), start it again.
nlost=0
lose_tunnel() {
	chain_stop client "$CLIENT_PID"
	nlost=$((nlost + 1))
	local i=0
	until [ "$(grep -c 'control connection lost' "$SP_TMP/server.log")" -ge "$nlost" ]; do
		[ "$i" -ge $(($(sp_time 20) * 10)) ] && { sp_dump_logs; sp_fail "server did not notice the lost client"; }
		sleep 0.1; i=$((i + 1))
	done
	mv "$SP_TMP/client.log" "$SP_TMP/client.$nlost.log"
	chain_start_client
}
# wait_runs N: until at least N script runs finished.
wait_runs() {
	local i=0
	until [ "$(runs)" -ge "$1" ]; do
		[ "$i" -ge $(($(sp_time 30) * 10)) ] && { sp_dump_logs; sp_fail "fewer than $1 event script runs"; }
		sleep 0.1; i=$((i + 1))
	done
}

# ---- the chain ----
mkdir -p "$SP_TMP/inbox"
sp_start inside "$OFTP2_PEER" listen -v --listen "127.0.0.1:$INSIDE_PORT" --once --timeout $(sp_time 60) \
	--id "$INSIDE_ID" --password INSIDEPW --partner "$PARTNER_ID:ACMEPW" --dir "$SP_TMP/inbox"
INSIDE_PID=$SP_LAST_PID
chain_wait_log inside "listening on" 10
chain_start_server
chain_start_client
applied 1
chain_wait_log server "opened partner listener"

# 1. audit of a real transfer
sp_make_file "$SP_TMP/INVOIC.OPS" 300000
sp_run "$OFTP2_PEER" send --connect "127.0.0.1:$PARTNER_PORT" --ca "$SP_TMP/pki/ca.pem" \
	--timeout $(sp_time 60) --id "$PARTNER_ID" --password ACMEPW --partner "$INSIDE_ID:INSIDEPW" \
	--send "$SP_TMP/INVOIC.OPS" 2>"$SP_TMP/partner.log" ||
	{ sp_dump_logs; sp_fail "the partner's session failed"; }
sp_wait "$INSIDE_PID" 30 || { sp_dump_logs; sp_fail "the inside OFTP2 server failed"; }
sp_cmp "$SP_TMP/INVOIC.OPS" "$SP_TMP/inbox/INVOIC.OPS"
chain_wait_log server "session [0-9]* ended"
i=0
until "$CTL" --json sessions >"$SP_TMP/sessions.json" 2>&1 &&
	python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["sessions"] else 1)' \
		"$SP_TMP/sessions.json"; do
	[ "$i" -ge $(($(sp_time 10) * 10)) ] && { cat "$SP_TMP/sessions.json"; sp_dump_logs; sp_fail "no audit record"; }
	sleep 0.1; i=$((i + 1))
done
python3 - "$SP_TMP/sessions.json" "$PARTNER_ID" 300000 "$LIBS" <<'EOF' || { sp_dump_logs; sp_fail "audit record"; }
import json, os, sys
doc = json.load(open(sys.argv[1]))
recs = doc["sessions"]
assert len(recs) == 1, recs
r = recs[0]
size = int(sys.argv[3])
print("audit:", json.dumps(r, sort_keys=True))
assert r["source_address"].startswith("127.0.0.1"), r
assert r["bytes_from_partner"] > size, r          # the file plus OFTP2 framing
assert r["bytes_to_partner"] > 0, r
assert r["listener"] == "partners", r
assert r["tls_version"] in ("TLS1.2", "TLS1.3"), r
if os.path.exists(sys.argv[4] + "/partner.so"):
    assert r["partner"] == sys.argv[2], r
if r["files"]:
    assert any(f.get("name", "").strip() == "INVOIC.OPS" for f in r["files"]), r
else:
    print("audit: the OFTP2 module reports no files yet; names not checked")
EOF
if [ -f "$LIBS/partner.so" ]; then
	"$CTL" sessions --partner "$PARTNER_ID" --since -1h >"$SP_TMP/sessions.txt" ||
		sp_fail "smartproxyctl sessions --partner"
	grep -q "$PARTNER_ID" "$SP_TMP/sessions.txt" || sp_fail "sessions table lacks the partner"
	"$CTL" --json sessions --partner O00130000OTHER | python3 -c \
		'import json,sys; sys.exit(len(json.load(sys.stdin)["sessions"]))' ||
		sp_fail "sessions of another partner are not empty"
fi

# 2. a critical record while the tunnel is down reaches the script after it
lose_tunnel
chain_wait_log server "CRIT tunnel \[control_lost\] control connection lost"
applied 2
wait_runs 1
run=$SP_TMP/runs/$(ls "$SP_TMP/runs" | grep "^run\.[0-9]*$" | head -1)
cat "$run"
grep -qx 'arg=log.tunnel' "$run" || sp_fail "script type argument"
grep -qx 'arg=crit' "$run" || sp_fail "script severity argument"
grep -q '^arg=control connection lost (.*partner listeners closed' "$run" || sp_fail "script message argument"
grep -qx 'arg=1' "$run" || sp_fail "script count argument"
grep -qx 'SP_EVENT_TYPE=log.tunnel' "$run" || sp_fail "SP_EVENT_TYPE"
grep -q '^SP_EVENT_TIME=20[0-9-]*T[0-9:]*Z$' "$run" || sp_fail "SP_EVENT_TIME"
grep -q '^SP_EVENT_MESSAGE=control connection lost' "$run" || sp_fail "SP_EVENT_MESSAGE"
grep -qx 'SP_EVENT_COUNT=1' "$run" || sp_fail "SP_EVENT_COUNT"
grep -q "delivered [0-9]* queued document(s) to the backend" "$SP_TMP/server.log" ||
	sp_fail "the server did not deliver its outbox"
chain_wait_log api "exit 0 after [0-9]* ms; output (.*): event script saw log.tunnel"

# 3. a rule added at runtime silences it
"$CTL" rules add --match "CONTROL connection LOST" --description "planned maintenance" \
	--until +1h >"$SP_TMP/rule.txt" || sp_fail "smartproxyctl rules add"
RULE=$(awk 'NR == 2 { print $1 }' "$SP_TMP/rule.txt")
case $RULE in ''|*[!0-9]*) sp_fail "no rule id in: $(cat "$SP_TMP/rule.txt")" ;; esac
applied 3
delivered=$(grep -c 'delivered [0-9]* queued document(s) to the backend' "$SP_TMP/server.log")
lose_tunnel
chain_wait_log server "INFO tunnel \[control_lost\] control connection lost .*tag=\"ignore-rule=$RULE\""
applied 4
# The record was made while the tunnel was down, so the server's outbox was
# its only way to the backend; the server empties the outbox when the client
# says hello, before it applies the client's revision. So once revision 4 is
# applied, the count of deliveries is final for this outage.
[ "$(grep -c 'delivered [0-9]* queued document(s) to the backend' "$SP_TMP/server.log")" -eq "$delivered" ] ||
	sp_fail "a silenced record was queued for the backend"
"$CTL" rules remove "$RULE" || sp_fail "smartproxyctl rules remove"
applied 5

# 4. a rule before its window and an expired one do nothing; the expired
# one is purged (syslog)
"$CTL" rules add --match "control connection lost" --description "tonight" \
	--from +1h --until +2h >"$SP_TMP/rule3.txt" || sp_fail "rules add (future)"
RULE3=$(awk 'NR == 2 { print $1 }' "$SP_TMP/rule3.txt")
"$CTL" rules add --match "control connection lost" --description "short" \
	--until +3s >"$SP_TMP/rule2.txt" || sp_fail "rules add (short)"
RULE2=$(awk 'NR == 2 { print $1 }' "$SP_TMP/rule2.txt")
applied 7
chain_wait_log api "log-ignore rule $RULE2 purged: expired at" 15
applied 8
# Identical events within 10 s of the last run are only counted (that is the
# de-duplication under test in ops_flood.sh): wait out that window from the
# run of section 2, so that this record must run the script.
before=$(runs)
last_run=$(stat -c %Y "$SP_TMP/runs/$(ls -t "$SP_TMP/runs" | head -1)")
while [ "$(date +%s)" -le $((last_run + 11)) ]; do sleep 0.2; done
lose_tunnel
chain_wait_log server "CRIT tunnel \[control_lost\] control connection lost (.*)"
applied 9
wait_runs $((before + 1))
if grep 'tag="ignore-rule=' "$SP_TMP/server.log" | grep -qv "tag=\"ignore-rule=$RULE\"\$"; then
	sp_fail "a rule outside its window silenced a record"
fi
"$CTL" --json rules list >"$SP_TMP/rules.json" || sp_fail "rules list"
python3 - "$SP_TMP/rules.json" "$RULE2" "$RULE3" <<'PY' || sp_fail "rules after the purge"
import json, sys
ids = [r["id"] for r in json.load(open(sys.argv[1]))["rules"]]
assert int(sys.argv[2]) not in ids and int(sys.argv[3]) in ids, ids
PY
if [ -n "$SYSLOG_NS" ]; then
	sp_wait_file "$SP_TMP/syslog.txt" 5 || sp_fail "nothing reached the system log"
	grep -q "log-ignore rule $RULE2 purged: expired at .*(match \"control connection lost\"), revision [0-9]*" \
		"$SP_TMP/syslog.txt" || { cat "$SP_TMP/syslog.txt"; sp_fail "no purge line in the system log"; }
fi
"$CTL" events >"$SP_TMP/events.txt" || sp_fail "smartproxyctl events"
grep -q "log.tunnel .*exit 0" "$SP_TMP/events.txt" || { cat "$SP_TMP/events.txt"; sp_fail "events list"; }

chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
chain_stop api "$API_PID"
exit 0
