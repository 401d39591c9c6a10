#!/bin/bash
# api_ha.sh - two smartproxy-api instances on one PostgreSQL database
# (docs/api.md 8, docs/deployment.md):
#  1. both serve the same partners: a site imported once is served by both
#     with the same revision;
#  2. a change through instance A (partner disabled) wakes a long poll
#     waiting on instance B: the poll returns 200 with the new revision,
#     and B's log says PostgreSQL notified it (LISTEN/NOTIFY; B's safety
#     poll is 5 s, the notification is what the test waits for);
#  3. an event posted to both instances runs the event script once: both
#     record it, one with the script's exit status and the other as
#     "claimed_by_peer" (the positive signal that both processed it), and
#     the script's file has exactly one line; a different event posted to
#     B alone runs there.
#  4. the database restarts: both instances reconnect by themselves; a
#     change through A reaches a long poll on B, notified again.
# Plus: --check accepts a postgresql:// database and refuses a password in
# a world-readable api.yaml; --import --replace on PostgreSQL writes the
# export backup next to the site file.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/pg.sh"
sp_init 240

API=$SP_TOP_BUILDDIR/smartproxy-api
sp_require_prog "$API"
sp_need curl curl
sp_need python3 python3

pg_start
DB=$(pg_createdb ha)
make_certs "$SP_TMP/pki"
D=$SP_TMP
echo "admin-token-0123456789abc" >"$D/admin.token"
echo "proxy-token-0123456789abc" >"$D/proxy.token"
cat >"$D/event.sh" <<'EOF'
#!/bin/sh
printf '%s %s\n' "$SP_EVENT_TYPE" "$SP_EVENT_MESSAGE" >>"$(dirname "$0")/runs.txt"
EOF
chmod +x "$D/event.sh"

api_yaml() { # file database
	cat >"$1" <<-YAML
	listen: "127.0.0.1:0"
	tls:
	  certificate: $D/pki/server.pem
	  key: $D/pki/server.key
	database: "$2"
	tokens:
	  - name: ops
	    role: admin
	    file: $D/admin.token
	  - name: client
	    role: proxy
	    file: $D/proxy.token
	event_script:
	  path: $D/event.sh
	  timeout: 10
	logging:
	  level: debug
	  targets:
	    - type: stderr
	YAML
	chmod 600 "$1"
}
api_yaml "$D/api.yaml" "$DB"

# --check: the URL's syntax; a password in a file others can read is refused.
"$API" --config "$D/api.yaml" --check >"$D/check.out" 2>&1 ||
	{ cat "$D/check.out" >&2; sp_fail "--check refused a postgresql:// database"; }
api_yaml "$D/pw.yaml" "postgresql://sp:secret@/ha?host=$PG_SOCK"
chmod 644 "$D/pw.yaml"
"$API" --config "$D/pw.yaml" --check >"$D/pw.out" 2>&1 && sp_fail "--check accepted a password in a readable api.yaml"
sp_grep "key 'database': holds a password" "$D/pw.out"
api_yaml "$D/bad.yaml" "postgresql://sp@/ha?host=$PG_SOCK&nosuchoption=1"
"$API" --config "$D/bad.yaml" --check >"$D/bad.out" 2>&1 && sp_fail "--check accepted a bad connection string"
sp_grep "not a PostgreSQL connection string" "$D/bad.out"

cat >"$D/site.yaml" <<YAML
listeners:
  - name: partners
    address: "127.0.0.1:6619"
    tls:
      certificate_chain: $D/pki/server.pem
      private_key: $D/pki/server.key
partners:
  - odette_id: O0013000000ACME
    password: SECRET1
    allowed_networks: [127.0.0.0/8]
  - odette_id: O0013000000BETA
    password: SECRET2
    allowed_networks: [127.0.0.0/8]
YAML
"$API" --config "$D/api.yaml" --import "$D/site.yaml" >"$D/import.log" 2>&1 ||
	{ cat "$D/import.log" >&2; sp_fail "import failed"; }
sp_grep "as revision 1" "$D/import.log"

sp_start apiA "$API" --config "$D/api.yaml" --port-file "$D/portA"
A_PID=$SP_LAST_PID
sp_start apiB "$API" --config "$D/api.yaml" --port-file "$D/portB"
B_PID=$SP_LAST_PID
A=https://127.0.0.1:$(sp_wait_port_file "$D/portA")
B=https://127.0.0.1:$(sp_wait_port_file "$D/portB")

get() { # token url [curl args]; body to stdout, fails on HTTP errors
	local tok=$1 url=$2
	shift 2
	curl -sS -f --max-time $(sp_time 70) --cacert "$D/pki/ca.pem" \
		-H "Authorization: Bearer $(cat "$D/$tok.token")" "$@" "$url"
}
rev_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["revision"])'; }

# ---- 1. the same partners on both ----
get proxy "$A/v1/config" >"$D/a1.json" || sp_fail "GET config on A"
get proxy "$B/v1/config" >"$D/b1.json" || sp_fail "GET config on B"
python3 - "$D/a1.json" "$D/b1.json" <<'PY' || sp_fail "A and B serve different documents"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert a["revision"] == b["revision"] == 1, (a["revision"], b["revision"])
ids = lambda d: [p["odette_id"] for p in d["modules"]["partner"]["partners"]]
assert ids(a) == ids(b) == ["O0013000000ACME", "O0013000000BETA"], (ids(a), ids(b))
PY

# ---- 2. a change through A wakes B's long poll ----
nwait=$(grep -c "long poll waits up to 60 s" "$D/apiB.log")
( get proxy "$B/v1/config?wait=60" -H 'If-None-Match: "rev-1"' >"$D/poll.json"; echo $? >"$D/poll.rc" ) &
POLL=$!
SP_PIDS="$SP_PIDS $POLL"
i=0
until [ "$(grep -c "long poll waits up to 60 s" "$D/apiB.log")" -gt "$nwait" ]; do
	[ "$i" -ge $(($(sp_time 20) * 10)) ] && { sp_dump_logs; sp_fail "B's long poll never started to wait"; }
	sleep 0.1; i=$((i + 1))
done
[ -s "$D/poll.rc" ] && sp_fail "B's long poll returned before the change"
nnotified=$(grep -c "revision notified by PostgreSQL" "$D/apiB.log")
get admin "$A/v1/partners/O0013000000BETA/disable" -X POST >"$D/disable.json" ||
	sp_fail "disable through A"
sp_wait "$POLL" 80 || sp_fail "B's long poll client failed"
[ "$(cat "$D/poll.rc")" = 0 ] || sp_fail "B's long poll: curl exit $(cat "$D/poll.rc")"
[ "$(rev_of <"$D/poll.json")" = 2 ] || sp_fail "B's long poll returned revision $(rev_of <"$D/poll.json"), not 2"
python3 - "$D/poll.json" <<'PY' || sp_fail "B serves BETA still enabled"
import json, sys
d = json.load(open(sys.argv[1]))
p = {p["odette_id"]: p for p in d["modules"]["partner"]["partners"]}
assert p["O0013000000BETA"]["enabled"] is False and p["O0013000000ACME"]["enabled"] is True
PY
[ "$(grep -c "revision notified by PostgreSQL" "$D/apiB.log")" -gt "$nnotified" ] ||
	sp_fail "B's watcher was not notified by PostgreSQL"
sp_grep "serving revision 2" "$D/apiB.log"

# ---- 3. an event posted to both runs the script once ----
EV='{"type":"log.tunnel","severity":"crit","message":"control connection lost (ha test)"}'
get proxy "$A/v1/events" -X POST -H 'Content-Type: application/json' -d "$EV" >/dev/null ||
	sp_fail "POST event to A"
get proxy "$B/v1/events" -X POST -H 'Content-Type: application/json' -d "$EV" >/dev/null ||
	sp_fail "POST event to B"
# Both instances recorded it with a final outcome: that is the signal.
i=0
until get admin "$A/v1/events" | python3 -c '
import json, sys
ev = [e for e in json.load(sys.stdin)["events"] if e["message"] == "control connection lost (ha test)"]
out = sorted(e["outcome"] for e in ev)
sys.exit(0 if out == ["claimed_by_peer", "exit 0"] else 1)'; do
	[ "$i" -ge $(($(sp_time 20) * 10)) ] && {
		get admin "$A/v1/events" >&2; sp_dump_logs; sp_fail "the event was not processed by both (one run, one claimed_by_peer)"; }
	sleep 0.1; i=$((i + 1))
done
[ "$(grep -c 'control connection lost (ha test)' "$D/runs.txt")" = 1 ] ||
	{ cat "$D/runs.txt" >&2; sp_fail "the event script ran $(grep -c 'ha test' "$D/runs.txt") times, not once"; }
# Another kind of event, posted to B alone, runs on B.
EV2='{"type":"log.tunnel","severity":"crit","message":"only on B (ha test)"}'
get proxy "$B/v1/events" -X POST -H 'Content-Type: application/json' -d "$EV2" >/dev/null ||
	sp_fail "POST event to B"
sp_wait_file "$D/runs.txt" 20
i=0
until grep -q "only on B (ha test)" "$D/runs.txt"; do
	[ "$i" -ge $(($(sp_time 20) * 10)) ] && { sp_dump_logs; sp_fail "the event posted to B alone did not run"; }
	sleep 0.1; i=$((i + 1))
done
[ "$(wc -l <"$D/runs.txt")" = 2 ] || { cat "$D/runs.txt" >&2; sp_fail "unexpected script runs"; }

# ---- 4. the database restarts: both instances carry on ----
nlisten=$(grep -c "listening for revisions committed by other instances" "$D/apiB.log")
pg_restart
i=0
until [ "$(grep -c "listening for revisions committed by other instances" "$D/apiB.log")" -gt "$nlisten" ]; do
	[ "$i" -ge $(($(sp_time 30) * 10)) ] && { sp_dump_logs; sp_fail "B's watcher did not come back after the restart"; }
	sleep 0.1; i=$((i + 1))
done
nwait=$(grep -c "long poll waits up to 60 s" "$D/apiB.log")
( get proxy "$B/v1/config?wait=60" -H 'If-None-Match: "rev-2"' >"$D/poll2.json"; echo $? >"$D/poll2.rc" ) &
POLL=$!
SP_PIDS="$SP_PIDS $POLL"
i=0
until [ "$(grep -c "long poll waits up to 60 s" "$D/apiB.log")" -gt "$nwait" ]; do
	[ "$i" -ge $(($(sp_time 20) * 10)) ] && { sp_dump_logs; sp_fail "B's second long poll never started to wait"; }
	sleep 0.1; i=$((i + 1))
done
nnotified=$(grep -c "revision notified by PostgreSQL" "$D/apiB.log")
# A's request connection was cut by the restart: this opens it again.
get admin "$A/v1/partners/O0013000000BETA/enable" -X POST >/dev/null ||
	sp_fail "enable through A after the database restart"
sp_wait "$POLL" 80 || sp_fail "B's second long poll client failed"
[ "$(cat "$D/poll2.rc")" = 0 ] || sp_fail "B's second long poll: curl exit $(cat "$D/poll2.rc")"
[ "$(rev_of <"$D/poll2.json")" = 3 ] || sp_fail "B's second long poll returned revision $(rev_of <"$D/poll2.json"), not 3"
[ "$(grep -c "revision notified by PostgreSQL" "$D/apiB.log")" -gt "$nnotified" ] ||
	sp_fail "B's watcher was not notified after the restart"

# ---- --import --replace: the backup is an export next to the site file ----
"$API" --config "$D/api.yaml" --import "$D/site.yaml" --replace >"$D/replace.out" 2>&1 ||
	{ cat "$D/replace.out" >&2; sp_fail "--replace on PostgreSQL failed"; }
sp_grep "backup of the database before the replace: $D/site.yaml.backup-" "$D/replace.out"
BACKUP=$(sed -n 's/^backup of the database before the replace: //p' "$D/replace.out")
[ "$(stat -c %a "$BACKUP")" = 600 ] || sp_fail "backup mode $(stat -c %a "$BACKUP")"
# The backup holds the state before the replace: ACME and BETA, each
# with its password hash (the site file gives passwords).
python3 - "$BACKUP" <<'PY' || sp_fail "the backup does not hold the partners"
import sys
t = open(sys.argv[1]).read()
for p in ("O0013000000ACME", "O0013000000BETA"):
    i = t.index(p)
    assert "password_hash:" in t[i:i + 600], t[i:i + 600]
PY

for pid in $A_PID $B_PID; do
	kill -TERM "$pid"
	sp_wait "$pid" 20 || sp_fail "an instance exited with status $?"
done
exit 0
