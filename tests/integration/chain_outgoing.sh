#!/usr/bin/env bash
# chain_outgoing.sh - outgoing sessions (issue 8): the inside OFTP2 server
# calls a partner through client and server, leaving the DMZ from the
# configured source address 127.0.0.2; then the failures: partner certificate
# not trusted, partner down, source address not available.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
OFTP2_PEER=${OFTP2_PEER:-$SP_TOP_BUILDDIR/oftp2-peer}
sp_require_prog "$OFTP2_PEER"
sp_init 180

chain_init
LISTEN_PORT=$(chain_free_port)
PARTNER_PORT=$(chain_free_port)
ROUTE_PORT=$(chain_free_port)
DOWN_PORT=$(chain_free_port)
INSIDE_ID=O0013000000INSIDE
PARTNER_ID=O0013000000PARTNER

# config REV ROUTE_CA SOURCE PARTNER_PORT: one route "acme-out".
config() {
	CHAIN_CONFIG_OUT=$SP_TMP/next.json chain_config "$LISTEN_PORT" "$1"
	python3 - "$SP_TMP/next.json" "$SP_TMP/pki/$2" "$3" "$4" "$ROUTE_PORT" "$PARTNER_ID" <<-'PY'
	import json, sys
	path, ca, src, pport, rport, pid = sys.argv[1:7]
	doc = json.load(open(path))
	doc["routes"] = [{
	    "name": "acme-out", "client_listen": "127.0.0.1:%s" % rport,
	    "partner_odette_id": pid, "partner_address": "127.0.0.1:%s" % pport,
	    "source_address": src,
	    "tls": {"ca_bundle": open(ca).read(), "pins": [],
	            "client_certificate_chain": None, "client_private_key": None}}]
	json.dump(doc, open(path, "w"))
	PY
	# One rename: the backend never serves a half-made revision.
	mv "$SP_TMP/next.json" "$SP_TMP/config.json"
}

# call NAME: the inside OFTP2 server calls the route; status in RC.
call() {
	mkdir -p "$SP_TMP/$1-in"
	sp_run "$OFTP2_PEER" send -v --connect "127.0.0.1:$ROUTE_PORT" --timeout $(sp_time 20) \
		--id "$INSIDE_ID" --password INPW --partner "$PARTNER_ID:PARTPW" \
		--dir "$SP_TMP/$1-in" --send "$SP_TMP/ORDERS.OUT" 2>"$SP_TMP/$1-call.log"
	RC=$?
}

config 1 ca.pem 127.0.0.2 "$PARTNER_PORT"
chain_fake_backend
chain_start_server
chain_start_client
chain_wait_log server "revision 1 applied"
chain_wait_log client "route acme-out: inside calls accepted on 127.0.0.1:$ROUTE_PORT"

# 1. A real OFTP2 session out to the partner, from 127.0.0.2.
mkdir -p "$SP_TMP/partner-in" "$SP_TMP/ok-in"
sp_start partner "$OFTP2_PEER" listen -v --listen "127.0.0.1:$PARTNER_PORT" --once --timeout $(sp_time 20) \
	--cert "$SP_TMP/pki/server.pem" --key "$SP_TMP/pki/server.key" \
	--id "$PARTNER_ID" --password PARTPW --partner "$INSIDE_ID:INPW" --dir "$SP_TMP/partner-in"
PARTNER_PID=$SP_LAST_PID
chain_wait_log partner "listening on"
sp_make_file "$SP_TMP/ORDERS.OUT" 3000000
call ok
[ "$RC" -eq 0 ] || { sp_dump_logs; cat "$SP_TMP/ok-call.log" >&2; sp_fail "outgoing call failed ($RC)"; }
sp_wait "$PARTNER_PID" 20 || { sp_dump_logs; sp_fail "partner failed"; }
sp_cmp "$SP_TMP/ORDERS.OUT" "$SP_TMP/partner-in/ORDERS.OUT"
sp_grep "connection from 127.0.0.2" "$SP_TMP/partner.log"
chain_wait_log server "outgoing on route acme-out to 127.0.0.1:$PARTNER_PORT from 127.0.0.2"

# 2. The partner's certificate is not from the route's CA.
config 2 rogue-ca.pem 127.0.0.2 "$PARTNER_PORT"
chain_wait_log server "revision 2 applied"
sp_start partner2 "$OFTP2_PEER" listen -v --listen "127.0.0.1:$PARTNER_PORT" --once --timeout $(sp_time 10) \
	--cert "$SP_TMP/pki/server.pem" --key "$SP_TMP/pki/server.key" \
	--id "$PARTNER_ID" --password PARTPW --partner "$INSIDE_ID:INPW" --dir "$SP_TMP/partner-in"
chain_wait_log partner2 "listening on"
call untrusted
[ "$RC" -ne 0 ] || sp_fail "call succeeded to an untrusted partner"
chain_wait_log server "on route acme-out: partner 127.0.0.1 not trusted"
sp_wait "$SP_LAST_PID" 20

# 3. The partner is down.
config 3 ca.pem 127.0.0.2 "$DOWN_PORT"
chain_wait_log server "revision 3 applied"
call down
[ "$RC" -ne 0 ] || sp_fail "call succeeded to a partner that is down"
chain_wait_log server "on route acme-out: cannot reach partner 127.0.0.1: connect: Connection refused"

# 4. The source address is not on this host.
config 4 ca.pem 192.0.2.1 "$PARTNER_PORT"
chain_wait_log server "revision 4 applied"
call nosource
[ "$RC" -ne 0 ] || sp_fail "call succeeded from a source address this host does not have"
chain_wait_log server "cannot connect to 127.0.0.1:$PARTNER_PORT: from 192.0.2.1: Cannot assign requested address"

chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
exit 0
