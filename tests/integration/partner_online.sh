#!/usr/bin/env bash
# partner_online.sh - the partner module's online decision (modules.partner.
# online) through the running chain (modules: oftp2, partner) with the real
# smartproxy-api answering POST /v1/decisions/ssid:
#
#  1. an allowed partner's file arrives; the backend logged the question;
#  2. an online block set through the API refuses the next session with the
#     block's ESID (08, then the default 03), with an online_refused security
#     line, and the inside sees nothing; lifting it lets the partner in again;
#  3. a backend that does not answer (SIGSTOP) refuses within the online
#     timeout with ESID 08 (fail closed), and so does a backend that is gone
#     (killed by PID); the inside sees none of them.
# A local refusal (wrong password) never reaches the backend.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/partner_lib.sh"
sp_init 240

OFTP2_PEER=$SP_TOP_BUILDDIR/oftp2-peer
sp_require_prog "$SP_API" "$OFTP2_PEER"
sp_need python3 python3
partner_init oftp2 partner
PKI=$SP_TMP/pki
sp_need curl curl
PARTNER_PORT=$(chain_free_port)
INSIDE_ID=O0013000000INSIDE
ONLINE_MS=$((2000 * SP_TIME_FACTOR))
# The client's own backend timeout must outlast the online timeout.
CHAIN_BACKEND_TIMEOUT=$((ONLINE_MS / 1000 + 5))

# ---- the real backend ----
chain_api_yaml
cat >"$SP_TMP/site.yaml" <<YAML
listeners:
  - name: partners
    address: "127.0.0.1:$PARTNER_PORT"
    tls:
      certificate_chain: pki/server.pem
      private_key: pki/server.key
      require_client_cert: false
partners:
  - odette_id: ACME
    description: allowed unless blocked
    password: ACMEPW
    allowed_networks: [127.0.0.0/8]
    tls:
      require_client_cert: false
limits:
  handshake_timeout_ms: 5000
modules:
  partner:
    online:
      path: v1/decisions/ssid
      timeout_ms: $ONLINE_MS
YAML
"$SP_API" --config "$SP_TMP/api.yaml" --import "$SP_TMP/site.yaml" >"$SP_TMP/import.log" 2>&1 ||
	{ cat "$SP_TMP/import.log" >&2; sp_fail "site import failed"; }
sp_start api "$SP_API" --config "$SP_TMP/api.yaml" --port-file "$SP_TMP/api.port"
API_PID=$SP_LAST_PID
BACKEND_PORT=$(sp_wait_port_file "$SP_TMP/api.port")
chain_write_client_conf "$PROXY_ID"

# api METHOD PATH [JSON]: the admin's request; prints the HTTP status.
api() {
	curl -sS -o "$SP_TMP/api-answer" -w '%{http_code}' --cacert "$PKI/ca.pem" \
		-H "Authorization: Bearer $(cat "$SP_TMP/admin.token")" \
		-H 'Content-Type: application/json' -X "$1" ${3:+--data "$3"} \
		"https://127.0.0.1:$BACKEND_PORT/$2"
}

# ---- the chain ----
mkdir -p "$SP_TMP/inbox"
sp_start inside "$OFTP2_PEER" listen -v --listen "127.0.0.1:$INSIDE_PORT" --timeout $(sp_time 120) \
	--id "$INSIDE_ID" --password INSIDEPW --dir "$SP_TMP/inbox" --partner ACME:ACMEPW
chain_wait_log inside "listening on" 10
chain_start_server
chain_start_client
chain_wait_log server "revision [0-9]* applied"
chain_wait_log server "opened partner listener"
sp_make_file "$SP_TMP/FILE1" 65536

inside_sessions() { grep -c "SSID level=.* code='" "$SP_TMP/inside.log"; }
questions() { grep -c "SSID of ACME from 127.0.0.1" "$SP_TMP/api.log"; }

send() {
	local name=$1 pw=$2
	sp_run "$OFTP2_PEER" send -v --connect "127.0.0.1:$PARTNER_PORT" --ca "$PKI/ca.pem" \
		--timeout $(sp_time 30) --id ACME --password "$pw" --partner "$INSIDE_ID:INSIDEPW" \
		--send "$SP_TMP/FILE1" 2>"$SP_TMP/$name.log"
}

allowed() {
	send "$1" ACMEPW || { sp_dump_logs; sed 's/^/  | /' "$SP_TMP/$1.log" >&2; sp_fail "$1: refused"; }
	sp_cmp "$SP_TMP/FILE1" "$SP_TMP/inbox/FILE1"
	rm -f "$SP_TMP/inbox/FILE1"
	sp_log "$1: allowed, the file arrived"
}

# refused NAME ESID EVENT DETAIL: ESID to the partner, the security line,
# nothing inside; the seconds it took in $TOOK.
refused() {
	local name=$1 esid=$2 event=$3 detail=$4 before t0
	before=$(inside_sessions)
	t0=$(date +%s%N)
	send "$name" ACMEPW && { sp_dump_logs; sp_fail "$name: the session succeeded"; }
	TOOK=$((($(date +%s%N) - t0) / 1000000))
	grep -q "ESID reason=$esid" "$SP_TMP/$name.log" ||
		{ sed 's/^/  | /' "$SP_TMP/$name.log" >&2; sp_dump_logs; sp_fail "$name: no ESID $esid"; }
	chain_wait_log server "WARN security \[h_security\] $event from 127.0.0.1: .*$detail.*; ESID $esid"
	[ "$(inside_sessions)" -eq "$before" ] || sp_fail "$name: the inside saw the session"
	sp_log "$name: ESID $esid, $event, after $TOOK ms"
}

# 1. Allowed by the backend.
allowed first
chain_wait_log server "partner ACME allowed by the backend: partner known and enabled"
chain_wait_log api "SSID of ACME from 127.0.0.1 (listener partners, session [0-9]*, certificate -) allowed"
grep -q "ACMEPW" "$SP_TMP/api.log" && sp_fail "the password reached the backend's log"

# A wrong password is refused by the module itself; the backend is not asked.
n=$(questions)
send wrongpw WRONGPW && sp_fail "wrong password accepted"
grep -q "ESID reason=04" "$SP_TMP/wrongpw.log" || sp_fail "wrong password: no ESID 04"
[ "$(questions)" -eq "$n" ] || sp_fail "the backend was asked about a wrong password"

# 2. Online blocks: no new revision, effective at the next SSID.
[ "$(api POST v1/partners/ACME/online_block '{"esid_reason": "08"}')" = 200 ] ||
	{ cat "$SP_TMP/api-answer" >&2; sp_fail "cannot block ACME"; }
refused block08 08 online_refused "partner ACME refused by the backend: online block"
[ "$(api POST v1/partners/ACME/online_block)" = 200 ] || sp_fail "cannot block ACME (03)"
refused block03 03 online_refused "partner ACME refused by the backend: online block"
[ "$(api POST v1/partners/NOBODY/online_block)" = 404 ] || sp_fail "blocked an unknown partner"
[ "$(api POST v1/partners/ACME/online_block '{"esid_reason": "05"}')" = 400 ] ||
	sp_fail "accepted ESID 05 for a block"
[ "$(api DELETE v1/partners/ACME/online_block)" = 204 ] || sp_fail "cannot lift the block"
allowed unblocked

# 3. A backend that does not answer: refused when the online timeout expires.
kill -STOP "$API_PID"
refused stopped 08 online_unavailable "no answer from the backend in time, or no tunnel (online timeout $ONLINE_MS ms); failing closed"
kill -CONT "$API_PID"
[ "$TOOK" -ge "$ONLINE_MS" ] || sp_fail "refused after $TOOK ms, before the online timeout"
[ "$TOOK" -lt $((ONLINE_MS + $(sp_time 3000))) ] || sp_fail "refused only after $TOOK ms"
allowed resumed

# ... and a backend that is gone: refused at once, still within the timeout.
kill -TERM "$API_PID"
sp_wait "$API_PID" 20 || { sp_dump_logs; sp_fail "smartproxy-api did not stop"; }
refused killed 08 online_unavailable "failing closed"
[ "$TOOK" -lt $((ONLINE_MS + $(sp_time 3000))) ] || sp_fail "refused only after $TOOK ms"

# None of these refusals is an attack: the fail2ban filter matches none.
sp_need fail2ban-regex fail2ban
grep -E 'online_(refused|unavailable) from' "$SP_TMP/server.log" >"$SP_TMP/online.log"
fail2ban-regex -o ip "$SP_TMP/online.log" \
	"$SP_TOP_SRCDIR/contrib/fail2ban/filter.d/smartproxy.conf" >"$SP_TMP/f2b" 2>/dev/null
[ -s "$SP_TMP/f2b" ] && sp_fail "the fail2ban filter matches online refusals"
chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
exit 0
