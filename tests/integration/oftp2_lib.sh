# oftp2_lib.sh - the OFTP2 module in the chain (sourced after lib.sh and
# chain.sh by tests/integration/oftp2_*.sh).
#
#   o2_chain_up [MODULE_JSON]   chain with modules: [oftp2], one TLS partner
#                               listener ($PARTNER_PORT), modules.oftp2 =
#                               MODULE_JSON (default {}); backend, server and
#                               client started, revision 1 applied. With
#                               O2_ROUTE=1 also a route "out": the inside
#                               calls 127.0.0.1:$ROUTE_PORT, the server dials
#                               the partner (TLS, test CA) on $OUT_PORT
#   o2_inside NAME [opts]       oftp2-peer listen --once as the inside server
#                               on $INSIDE_PORT ($SP_TMP/NAME/in-inside holds
#                               what it receives); PID in INSIDE_PID
#   o2_send NAME [opts]         oftp2-peer send through the partner port (TLS);
#                               exit status in RC, trace in $SP_TMP/NAME-send.log

O2_PARTNER_ID=O0013000000ACME
O2_INSIDE_ID=O0013000000INSIDE

o2_chain_up() {
	local json=${1:-\{\}}
	[ -f "$SP_TOP_BUILDDIR/.libs/oftp2.so" ] || sp_skip "oftp2.so not built"
	sp_require_prog "$OFTP2_PEER"
	CHAIN_MODULES="modules:
  - name: oftp2
    path: $SP_TOP_BUILDDIR/.libs/oftp2.so"
	chain_init
	PARTNER_PORT=$(chain_free_port)
	ROUTE_PORT=$(chain_free_port)
	OUT_PORT=$(chain_free_port)
	CHAIN_CONFIG_OUT=$SP_TMP/next.json chain_config "$PARTNER_PORT" 1
	python3 - "$SP_TMP/next.json" "$json" "${O2_ROUTE:-0}" "$ROUTE_PORT" "$OUT_PORT" \
		"$SP_TMP/pki/ca.pem" "$O2_PARTNER_ID" <<-'PY' || sp_hard_error "module section"
	import json, sys
	path, mod, route, rport, oport, ca, pid = sys.argv[1:8]
	doc = json.load(open(path))
	doc["modules"]["oftp2"] = json.loads(mod)
	if route == "1":
	    doc["routes"] = [{
	        "name": "out", "client_listen": "127.0.0.1:%s" % rport,
	        "partner_odette_id": pid, "partner_address": "127.0.0.1:%s" % oport,
	        "source_address": None,
	        "tls": {"ca_bundle": open(ca).read(), "pins": [],
	                "client_certificate_chain": None, "client_private_key": None}}]
	json.dump(doc, open(path, "w"))
	PY
	mv "$SP_TMP/next.json" "$SP_TMP/config.json"
	chain_fake_backend
	chain_start_server
	chain_start_client
	chain_wait_log server "revision 1 applied"
	chain_wait_log client "server applied revision 1"
	if [ "${O2_ROUTE:-0}" = 1 ]; then
		chain_wait_log client "route out: inside calls accepted on 127.0.0.1:$ROUTE_PORT"
	fi
}

o2_inside() {
	local n=$1
	shift
	mkdir -p "$SP_TMP/$n/in-inside" "$SP_TMP/$n/in-partner"
	sp_start "$n-inside" "$OFTP2_PEER" listen -v --listen "127.0.0.1:$INSIDE_PORT" \
		--once --timeout $(sp_time 20) --id "$O2_INSIDE_ID" --password INPW \
		--partner "$O2_PARTNER_ID:PARTPW" --dir "$SP_TMP/$n/in-inside" "$@"
	INSIDE_PID=$SP_LAST_PID
	chain_wait_log "$n-inside" "listening on"
}

o2_send() {
	local n=$1
	shift
	sp_run "$OFTP2_PEER" send -v --connect "127.0.0.1:$PARTNER_PORT" --timeout $(sp_time 20) \
		--ca "$SP_TMP/pki/ca.pem" --id "$O2_PARTNER_ID" --password PARTPW \
		--partner "$O2_INSIDE_ID:INPW" --dir "$SP_TMP/$n/in-partner" "$@" \
		2>"$SP_TMP/$n-send.log"
	RC=$?
}
