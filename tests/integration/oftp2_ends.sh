#!/usr/bin/env bash
# oftp2_ends.sh - sessions end truthfully (docs/oftp2-module.md §1), through
# the real smartproxy-api, server (modules oftp2, partner), client and
# oftp2-peer on both sides:
#
#  1. the inside OFTP2 server knows another password for the partner than
#     the proxy (changed there): it answers ESID 04, which reaches the
#     partner; the server's session line and the audit record in the backend
#     say "esid", ESID 04, from the inside (not "normal"), and smartproxyctl
#     shows it;
#  2. the inside OFTP2 server is killed in the middle of a file: the partner
#     receives ESID 08 (resources not available, retry later) from the proxy
#     instead of a bare close; the audit names inside_closed, ESID 08, proxy;
#     the same when the client (the way inside) stops mid-file;
#  3. the server is stopped in the middle of a file: the partner receives
#     ESID 05 (local site emergency close down), and the session's audit
#     record still reaches the backend.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/partner_lib.sh"
sp_init 300

OFTP2_PEER=$SP_TOP_BUILDDIR/oftp2-peer
CTL=$SP_TOP_BUILDDIR/smartproxyctl
sp_require_prog "$SP_API" "$OFTP2_PEER" "$CTL"
sp_need python3 python3
partner_init oftp2 partner
PKI=$SP_TMP/pki
PARTNER_PORT=$(chain_free_port)
INSIDE_ID=O0013000000INSIDE

# ---- the real backend ----
chain_api_yaml
cat >"$SP_TMP/site.yaml" <<YAML
listeners:
  - name: partners
    address: "127.0.0.1:$PARTNER_PORT"
    tls:
      certificate_chain: pki/server.pem
      private_key: pki/server.key
partners:
  - odette_id: ACME
    password: ACMEPW
    allowed_networks: [127.0.0.0/8]
limits:
  handshake_timeout_ms: 5000
YAML
"$SP_API" --config "$SP_TMP/api.yaml" --import "$SP_TMP/site.yaml" >"$SP_TMP/import.log" 2>&1 ||
	{ cat "$SP_TMP/import.log" >&2; sp_fail "site import failed"; }
sp_start api "$SP_API" --config "$SP_TMP/api.yaml" --port-file "$SP_TMP/api.port"
API_PID=$SP_LAST_PID
BACKEND_PORT=$(sp_wait_port_file "$SP_TMP/api.port")
chain_write_client_conf "$PROXY_ID"
export SMARTPROXYCTL_URL=https://127.0.0.1:$BACKEND_PORT/
export SMARTPROXYCTL_TOKEN_FILE=$SP_TMP/admin.token SMARTPROXYCTL_CA=$PKI/ca.pem
export SMARTPROXYCTL_RC=/dev/null

# start_inside NAME PASSWORD: an inside OFTP2 server knowing ACME by PASSWORD.
start_inside() {
	mkdir -p "$SP_TMP/inbox"
	sp_start "$1" "$OFTP2_PEER" listen -v --listen "127.0.0.1:$INSIDE_PORT" --timeout $(sp_time 120) \
		--id "$INSIDE_ID" --password INSIDEPW --dir "$SP_TMP/inbox" --partner "ACME:$2"
	INSIDE_PID=$SP_LAST_PID
	chain_wait_log "$1" "listening on" 10
}

# audit_of SESSION EXPR: wait for the backend's audit record of the session
# (the server posts it through the client), then check a Python expression
# over it (r).
audit_of() {
	local i=0
	until "$CTL" --json sessions >"$SP_TMP/sessions.json" 2>&1 &&
		python3 -c 'import json,sys
sys.exit(0 if [r for r in json.load(open(sys.argv[1]))["sessions"] if r["session"] == sys.argv[2]] else 1)' \
			"$SP_TMP/sessions.json" "$1"; do
		[ "$i" -ge $(($(sp_time 10) * 10)) ] && { cat "$SP_TMP/sessions.json" >&2; sp_dump_logs; sp_fail "no audit record of session $1"; }
		sleep 0.1
		i=$((i + 1))
	done
	python3 -c 'import json,sys
r = [r for r in json.load(open(sys.argv[1]))["sessions"] if r["session"] == sys.argv[2]][0]
assert eval(sys.argv[3]), r' "$SP_TMP/sessions.json" "$1" "$2" ||
		{ sp_dump_logs; sp_fail "audit record of session $1: not $2"; }
}

# The id of the last session that ended with REASON in the server's log.
ended_session() {
	chain_wait_log server "session [0-9]* ended: $1"
	grep "session [0-9]* ended: $1" "$SP_TMP/server.log" | tail -1 | sed -E 's/.*session ([0-9]+) ended.*/\1/'
}

# send NAME [options]: one session of ACME with its proxy password.
send() {
	local name=$1
	shift
	sp_run "$OFTP2_PEER" send -v --connect "127.0.0.1:$PARTNER_PORT" --ca "$PKI/ca.pem" \
		--timeout $(sp_time 60) --id ACME --password ACMEPW --partner "$INSIDE_ID:INSIDEPW" \
		"$@" 2>"$SP_TMP/$name.log"
}

start_inside inside1 NEWPW
chain_start_server
chain_start_client
chain_wait_log server "revision 1 applied"
chain_wait_log server "opened partner listener"
sp_make_file "$SP_TMP/FILE1" 65536

# 1. ESID 04 from the inside.
send pw04 --send "$SP_TMP/FILE1" && { sp_dump_logs; sp_fail "pw04: the session succeeded"; }
grep -q "ESID reason=04" "$SP_TMP/pw04.log" ||
	{ sed 's/^/  | /' "$SP_TMP/pw04.log" >&2; sp_dump_logs; sp_fail "pw04: the partner got no ESID 04"; }
sid=$(ended_session "esid: ESID 04 (invalid password) from the inside")
grep -q "session $sid ended: esid: .* reason=esid esid=04 esid_from=inside" "$SP_TMP/server.log" ||
	{ grep "session $sid ended" "$SP_TMP/server.log" >&2; sp_fail "pw04: the session line lacks esid=04 esid_from=inside"; }
audit_of "$sid" 'r["end_reason"] == "esid" and r["esid"] == "04" and r["esid_from"] == "inside" and r["partner"] == "ACME"'
"$CTL" sessions --partner ACME >"$SP_TMP/sessions.txt" || sp_fail "smartproxyctl sessions"
grep -q "esid:04/inside" "$SP_TMP/sessions.txt" || { cat "$SP_TMP/sessions.txt" >&2; sp_fail "smartproxyctl shows no esid:04/inside"; }
sp_log "pw04: ESID 04 from the inside reached the partner; session $sid audited as esid 04 from the inside"
kill -TERM "$INSIDE_PID" 2>/dev/null
sp_wait "$INSIDE_PID" 20 || true

# 2. The inside killed mid-file. A slow transfer (credit 1, 128-octet
#    buffers) keeps the file open long enough to be cut.
start_inside inside2 ACMEPW
sp_make_file "$SP_TMP/BIG" $((8 * 1024 * 1024))
sp_start cut "$OFTP2_PEER" send -v --connect "127.0.0.1:$PARTNER_PORT" --ca "$PKI/ca.pem" \
	--timeout $(sp_time 60) --id ACME --password ACMEPW --partner "$INSIDE_ID:INSIDEPW" \
	--credit 1 --buffer-size 128 --send "$SP_TMP/BIG"
CUT_PID=$SP_LAST_PID
chain_wait_log inside2 "SFID dsn='BIG'"
kill -KILL "$INSIDE_PID"
sp_wait "$INSIDE_PID" 20 || true
sp_wait "$CUT_PID" 60 && sp_fail "cut: the partner's transfer succeeded"
grep -q "ESID reason=08" "$SP_TMP/cut.log" ||
	{ tail -5 "$SP_TMP/cut.log" | sed 's/^/  | /' >&2; sp_dump_logs; sp_fail "cut: the partner got no ESID 08"; }
chain_wait_log server "session ended by the proxy (inside_closed): ESID 08 to the partner"
sid=$(ended_session "inside_closed")
audit_of "$sid" 'r["end_reason"] == "inside_closed" and r["esid"] == "08" and r["esid_from"] == "proxy"'
# The file the module noted (host->note_file) reaches the audit record.
audit_of "$sid" 'any(f["name"] == "BIG" and f["direction"] == "from_partner" and f["format"] == "U" and f["result"].startswith("aborted") for f in r["files"])'
sp_log "cut: inside killed mid-file, the partner got ESID 08; session $sid audited as inside_closed, esid 08 from the proxy"

# 2b. The client (the way inside) stopped mid-file: ESID 08 too.
start_inside inside2b ACMEPW
sp_start lost "$OFTP2_PEER" send -v --connect "127.0.0.1:$PARTNER_PORT" --ca "$PKI/ca.pem" \
	--timeout $(sp_time 60) --id ACME --password ACMEPW --partner "$INSIDE_ID:INSIDEPW" \
	--credit 1 --buffer-size 128 --send "$SP_TMP/BIG"
LOST_PID=$SP_LAST_PID
chain_wait_log inside2b "SFID dsn='BIG'"
opened=$(grep -c "opened partner listener" "$SP_TMP/server.log")
chain_stop client "$CLIENT_PID"
sp_wait "$LOST_PID" 60 && sp_fail "lost: the partner's transfer succeeded"
grep -q "ESID reason=08" "$SP_TMP/lost.log" ||
	{ tail -5 "$SP_TMP/lost.log" | sed 's/^/  | /' >&2; sp_dump_logs; sp_fail "lost: the partner got no ESID 08"; }
sp_log "lost: the client stopped mid-file, the partner got ESID 08"
kill -TERM "$INSIDE_PID" 2>/dev/null
sp_wait "$INSIDE_PID" 20 || true
# The client back: the server opens its listener again (closed while no
# client was there).
mv "$SP_TMP/client.log" "$SP_TMP/client-1.log"
chain_start_client
i=0
until [ "$(grep -c "opened partner listener" "$SP_TMP/server.log")" -gt "$opened" ]; do
	[ "$i" -ge $(($(sp_time 20) * 10)) ] && { sp_dump_logs; sp_fail "the listener did not reopen"; }
	sleep 0.1
	i=$((i + 1))
done

# 3. The server stopped mid-file: ESID 05.
start_inside inside3 ACMEPW
sp_start stop "$OFTP2_PEER" send -v --connect "127.0.0.1:$PARTNER_PORT" --ca "$PKI/ca.pem" \
	--timeout $(sp_time 60) --id ACME --password ACMEPW --partner "$INSIDE_ID:INSIDEPW" \
	--credit 1 --buffer-size 128 --send "$SP_TMP/BIG"
STOP_PID=$SP_LAST_PID
chain_wait_log inside3 "SFID dsn='BIG'"
chain_stop server "$SERVER_PID"
sp_wait "$STOP_PID" 60 && sp_fail "stop: the partner's transfer succeeded"
grep -q "ESID reason=05" "$SP_TMP/stop.log" ||
	{ tail -5 "$SP_TMP/stop.log" | sed 's/^/  | /' >&2; sp_dump_logs; sp_fail "stop: the partner got no ESID 05"; }
grep -q "session ended by the proxy (shutdown): ESID 05 to the partner and the inside" "$SP_TMP/server.log" ||
	sp_fail "stop: no line about the ESID 05"
# Its audit record reached the backend: the control connection outlives
# the sessions the stop ends (before, it closed first and the record was
# lost without a word).
sid=$(ended_session shutdown)
audit_of "$sid" 'r["end_reason"] == "shutdown" and r["esid"] == "05" and r["esid_from"] == "proxy"'
sp_log "stop: the server stopped mid-file, the partner got ESID 05, the backend the audit record"

kill -TERM "$INSIDE_PID" 2>/dev/null
sp_wait "$INSIDE_PID" 20 || true
chain_stop client "$CLIENT_PID"
chain_stop api "$API_PID"
exit 0
