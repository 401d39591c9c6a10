#!/usr/bin/env bash
# chain_outgoing_modules.sh - outgoing sessions (issue 8) through the full
# module chain (modules: oftp2, partner): the inside OFTP2 server calls the
# route's partner through client and server.
#
#  1. the right partner answers: files both ways pass unchanged, the partner
#     module accepts the route's partner (fact route.partner);
#  2. a WRONG partner answers on the route's address (another ODETTE ID):
#     ESID 03 to both sides, a wrong_partner security line, the inside's
#     oftp2-peer exits non-zero reporting ESID 03; the wrong partner's files
#     never reach the inside, and its refusal brakes nothing.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/partner_lib.sh"
OFTP2_PEER=${OFTP2_PEER:-$SP_TOP_BUILDDIR/oftp2-peer}
sp_require_prog "$OFTP2_PEER"
sp_init 180

partner_init oftp2 partner
LISTEN_PORT=$(chain_free_port)
ROUTE_PORT=$(chain_free_port)
OUT_PORT=$(chain_free_port)
INSIDE_ID=O0013000000INSIDE
PARTNER_ID=O0013000000PARTNER
WRONG_ID=O0013000000WRONG

# The partner section knows nobody who may call in: outgoing sessions need no
# incoming partner, only the route's partner_odette_id.
partner_config "$LISTEN_PORT"
python3 - "$SP_TMP/config.json" "$SP_TMP/pki/ca.pem" "$OUT_PORT" "$ROUTE_PORT" "$PARTNER_ID" <<-'PY' ||
import json, sys
path, ca, oport, rport, pid = sys.argv[1:6]
doc = json.load(open(path))
doc["routes"] = [{
    "name": "acme-out", "client_listen": "127.0.0.1:%s" % rport,
    "partner_odette_id": pid, "partner_address": "127.0.0.1:%s" % oport,
    "source_address": None,
    "tls": {"ca_bundle": open(ca).read(), "pins": [],
            "client_certificate_chain": None, "client_private_key": None}}]
doc["modules"]["oftp2"] = {}
doc["modules"]["partner"]["brake"] = {"max_failures": 1}
json.dump(doc, open(path + ".tmp", "w"))
PY
	sp_hard_error "cannot write the route"
mv "$SP_TMP/config.json.tmp" "$SP_TMP/config.json"
chain_fake_backend
chain_start_server
chain_start_client
chain_wait_log server "revision 1 applied"
chain_wait_log client "route acme-out: inside calls accepted on 127.0.0.1:$ROUTE_PORT"
sp_make_file "$SP_TMP/ORDERS.OUT" 200000
sp_make_file "$SP_TMP/reply.txt" 50000 runs

# partner NAME ID: an oftp2-peer answering on the route's address as ID,
# sending reply.txt back; PID in PARTNER_PID.
partner() {
	mkdir -p "$SP_TMP/$1-partner-in"
	sp_start "$1-partner" "$OFTP2_PEER" listen -v --listen "127.0.0.1:$OUT_PORT" --once \
		--timeout $(sp_time 20) --cert "$SP_TMP/pki/server.pem" --key "$SP_TMP/pki/server.key" \
		--id "$2" --password PARTPW --partner "$INSIDE_ID:INPW" \
		--dir "$SP_TMP/$1-partner-in" --send "$SP_TMP/reply.txt"
	PARTNER_PID=$SP_LAST_PID
	chain_wait_log "$1-partner" "listening on"
}

# call NAME: the inside OFTP2 server calls the route; status in RC. It
# expects the route's partner, whoever answers.
call() {
	mkdir -p "$SP_TMP/$1-inside-in"
	sp_run "$OFTP2_PEER" send -v --connect "127.0.0.1:$ROUTE_PORT" --timeout $(sp_time 20) \
		--id "$INSIDE_ID" --password INPW --partner "$PARTNER_ID:PARTPW" \
		--dir "$SP_TMP/$1-inside-in" \
		--send "$SP_TMP/ORDERS.OUT" 2>"$SP_TMP/$1-call.log"
	RC=$?
}

# 1. The route's partner: both files arrive unchanged.
partner ok "$PARTNER_ID"
call ok
[ "$RC" -eq 0 ] || { sp_dump_logs; sp_fail "the outgoing call failed (status $RC)"; }
sp_wait "$PARTNER_PID" 20 || { sp_dump_logs; sp_fail "the partner failed"; }
sp_cmp "$SP_TMP/ORDERS.OUT" "$SP_TMP/ok-partner-in/ORDERS.OUT"
sp_cmp "$SP_TMP/reply.txt" "$SP_TMP/ok-inside-in/REPLY.TXT"
chain_wait_log server "partner $PARTNER_ID accepted"
chain_wait_log server "session 1 ended: normal"
grep -q "WARN security" "$SP_TMP/server.log" && { sp_dump_logs; sp_fail "a security line for a valid session"; }
sp_log "right partner: files both ways, accepted as the route's partner"

# 2. A wrong partner answers on the route's address.
partner wrong "$WRONG_ID"
call wrong
[ "$RC" -ne 0 ] || { sp_dump_logs; sp_fail "the inside's call to a wrong partner succeeded"; }
sp_wait "$PARTNER_PID" 20 || true     # refused: its own exit status is its business
grep -q "ESID reason=03" "$SP_TMP/wrong-call.log" ||
	{ sed 's/^/  | /' "$SP_TMP/wrong-call.log" >&2; sp_dump_logs; sp_fail "the inside got no ESID 03"; }
grep -q "ESID 03" "$SP_TMP/wrong-call.log" || sp_fail "the inside's oftp2-peer did not report ESID 03"
grep -q "ESID reason=03" "$SP_TMP/wrong-partner.log" ||
	{ sed 's/^/  | /' "$SP_TMP/wrong-partner.log" >&2; sp_dump_logs; sp_fail "the wrong partner got no ESID 03"; }
chain_wait_log server "WARN security \[h_security\] wrong_partner from 127.0.0.1: route acme-out expects partner $PARTNER_ID, the SSID names '$WRONG_ID'; ESID 03"
grep -q "code='$WRONG_ID'" "$SP_TMP/wrong-call.log" &&
	sp_fail "the wrong partner's SSID reached the inside"
[ -e "$SP_TMP/wrong-inside-in/REPLY.TXT" ] && sp_fail "the wrong partner's file reached the inside"
[ -e "$SP_TMP/wrong-partner-in/ORDERS.OUT" ] && sp_fail "the inside's file reached the wrong partner"
grep -q "rate_limited" "$SP_TMP/server.log" && sp_fail "a refused outgoing partner was braked"
sp_log "wrong partner: ESID 03 to both sides, wrong_partner line, the inside exited $RC:" \
	"$(grep -v '^\[' "$SP_TMP/wrong-call.log" | tail -1)"

# The right partner still gets through afterwards.
partner again "$PARTNER_ID"
call again
[ "$RC" -eq 0 ] || { sp_dump_logs; sp_fail "the call after the refusal failed"; }
sp_wait "$PARTNER_PID" 20 || { sp_dump_logs; sp_fail "the partner failed"; }
sp_cmp "$SP_TMP/ORDERS.OUT" "$SP_TMP/again-partner-in/ORDERS.OUT"
chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
exit 0
