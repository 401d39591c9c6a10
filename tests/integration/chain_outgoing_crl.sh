#!/usr/bin/env bash
# chain_outgoing_crl.sh - a partner's *server* certificate can be revoked too:
# the route's tls.crl is checked when the server calls the partner.
#  1. the partner's certificate is listed in the route's CRL: the session
#     ends before any OFTP2 byte, the server writes certificate_revoked (with
#     dst, serial and issuer) and the partner receives the TLS alert
#     certificate_revoked;
#  2. a CRL past its nextUpdate: crl_expired fail_closed refuses the partner;
#  3. fail_open lets the call through with a warning, and the file arrives.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
OFTP2_PEER=${OFTP2_PEER:-$SP_TOP_BUILDDIR/oftp2-peer}
sp_require_prog "$OFTP2_PEER"
sp_init 180

chain_init
PKI=$SP_TMP/pki
LISTEN_PORT=$(chain_free_port)
PARTNER_PORT=$(chain_free_port)
ROUTE_PORT=$(chain_free_port)
INSIDE_ID=O0013000000INSIDE
PARTNER_ID=O0013000000PARTNER

crl() { # out number template-extra [revoked-cert]
	printf 'crl_number = %s\n%s' "$2" "$3" >"$PKI/crl.tmpl"
	certtool --generate-crl --load-ca-privkey "$PKI/ca.key" --load-ca-certificate \
		"$PKI/ca.pem" ${4:+--load-certificate "$4"} --template "$PKI/crl.tmpl" \
		--outfile "$1" >"$SP_TMP/certtool.out" 2>&1 ||
		{ cat "$SP_TMP/certtool.out" >&2; sp_hard_error "certtool --generate-crl"; }
}
crl "$PKI/revoking.crl" 1 "crl_next_update = 2
" "$PKI/server.pem"
crl "$PKI/expired.crl" 2 'crl_this_update_date = "2020-01-01 00:00:00"
crl_next_update_date = "2020-01-02 00:00:00"
'

# config REV CRL POLICY: one route "acme-out" to the partner, CA ca.pem.
config() {
	CHAIN_CONFIG_OUT=$SP_TMP/next.json chain_config "$LISTEN_PORT" "$1"
	python3 - "$SP_TMP/next.json" "$PKI/ca.pem" "$PKI/$2" "$3" "$PARTNER_PORT" "$ROUTE_PORT" "$PARTNER_ID" <<-'PY'
	import json, sys
	path, ca, crl, policy, pport, rport, pid = sys.argv[1:8]
	doc = json.load(open(path))
	doc["routes"] = [{
	    "name": "acme-out", "client_listen": "127.0.0.1:%s" % rport,
	    "partner_odette_id": pid, "partner_address": "127.0.0.1:%s" % pport,
	    "source_address": "127.0.0.1",
	    "tls": {"ca_bundle": open(ca).read(), "pins": [], "crl": open(crl).read(),
	            "crl_urls": [], "crl_expired": policy,
	            "client_certificate_chain": None, "client_private_key": None}}]
	json.dump(doc, open(path, "w"))
	PY
	mv "$SP_TMP/next.json" "$SP_TMP/config.json"
}

partner() { # NAME: a TLS OFTP2 responder with server.pem, for one session
	mkdir -p "$SP_TMP/$1-in"
	sp_start "$1" "$OFTP2_PEER" listen -v --listen "127.0.0.1:$PARTNER_PORT" --once \
		--timeout $(sp_time 20) --cert "$PKI/server.pem" --key "$PKI/server.key" \
		--id "$PARTNER_ID" --password PARTPW --partner "$INSIDE_ID:INPW" --dir "$SP_TMP/$1-in"
	PARTNER_PID=$SP_LAST_PID
	chain_wait_log "$1" "listening on"
}

call() { # NAME: the inside OFTP2 server calls the route; status in RC
	mkdir -p "$SP_TMP/$1-out"
	sp_run "$OFTP2_PEER" send -v --connect "127.0.0.1:$ROUTE_PORT" --timeout $(sp_time 20) \
		--id "$INSIDE_ID" --password INPW --partner "$PARTNER_ID:PARTPW" \
		--dir "$SP_TMP/$1-out" --send "$SP_TMP/ORDERS.OUT" 2>"$SP_TMP/$1-call.log"
	RC=$?
}
sp_make_file "$SP_TMP/ORDERS.OUT" 100000

config 1 revoking.crl fail_closed
chain_fake_backend
chain_start_server
chain_start_client
chain_wait_log server "revision 1 applied"
chain_wait_log client "route acme-out: inside calls accepted on 127.0.0.1:$ROUTE_PORT"

# 1. Revoked: its own line, the alert, nothing relayed.
partner p1
call revoked
[ "$RC" -ne 0 ] || sp_fail "call succeeded to a partner with a revoked certificate"
serial=$(certtool --certificate-info --infile "$PKI/server.pem" | sed -n 's/^[[:space:]]*Serial Number (hex): //p')
chain_wait_log server "certificate_revoked from 127.0.0.1: outgoing session [0-9]* on route acme-out: server certificate serial=$serial issuer=\"CN=smartproxy test CA\" is revoked by the route's CRL .*event=certificate_revoked dst=127.0.0.1"
sp_wait "$PARTNER_PID" 20 || true
sp_grep "TLS fatal alert has been received.: Certificate was revoked" "$SP_TMP/p1.log"
grep -q "partner_untrusted" "$SP_TMP/server.log" && sp_fail "a revoked certificate also logged partner_untrusted"
[ -z "$(ls -A "$SP_TMP/p1-in")" ] || sp_fail "a file reached the revoked partner"

# 2. An expired CRL, fail_closed.
config 2 expired.crl fail_closed
chain_wait_log server "revision 2 applied"
partner p2
call closed
[ "$RC" -ne 0 ] || sp_fail "fail_closed: call succeeded with an expired CRL"
chain_wait_log server "on route acme-out: partner 127.0.0.1 not trusted: the CRL of CN=smartproxy test CA is past its nextUpdate 2020-01-02T00:00:00Z; crl_expired fail_closed"
sp_wait "$PARTNER_PID" 20 || true

# 3. fail_open: through, with a warning.
config 3 expired.crl fail_open
chain_wait_log server "revision 3 applied"
partner p3
call open
[ "$RC" -eq 0 ] || { sp_dump_logs; cat "$SP_TMP/open-call.log" >&2; sp_fail "fail_open: call failed ($RC)"; }
sp_wait "$PARTNER_PID" 20 || { sp_dump_logs; sp_fail "partner failed"; }
sp_cmp "$SP_TMP/ORDERS.OUT" "$SP_TMP/p3-in/ORDERS.OUT"
chain_wait_log server "route acme-out: the CRL of CN=smartproxy test CA is past its nextUpdate 2020-01-02T00:00:00Z; crl_expired fail_open"

chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
exit 0
