#!/usr/bin/env bash
# oftp2_diagnose.sh - a partner's field quirk from refusal to admission,
# against the real smartproxy-api with the oftp2 and partner modules:
#
#  1. the partner ACME sends an SSID ending in LF instead of CR: refused with
#     ESID 06, the inside never hears of it;
#  2. `smartproxyctl partners diagnose ACME` names the refusal and the switch
#     that would admit it (tolerate_lf_trailer);
#  3. `smartproxyctl partners oftp2 ACME tolerate_lf_trailer=on` makes one
#     revision (stored in the oftp2 module's section, no schema change); the
#     same SSID now passes and one oftp2_deviation line names partner and
#     rule; diagnose lists the admitted deviation;
#  4. `partners oftp2 ACME tolerate_lf_trailer=default` and bad keys: the
#     switch is gone again (the one the site file set stays), a typo is 400
#     and commits nothing.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/partner_lib.sh"
sp_init 240

OFTP2_PEER=$SP_TOP_BUILDDIR/oftp2-peer
CTL=$SP_TOP_BUILDDIR/smartproxyctl
sp_require_prog "$SP_API" "$OFTP2_PEER" "$CTL"
sp_need python3 python3
sp_need curl curl
partner_init oftp2 partner
PKI=$SP_TMP/pki
PARTNER_PORT=$(chain_free_port)
INSIDE_ID=O0013000000INSIDE

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
    password: ACMEPW
    allowed_networks: [127.0.0.0/8]
limits:
  handshake_timeout_ms: 5000
modules:
  oftp2:
    partners:
      - odette_id: ACME
        tolerate_time_counter0: true
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
revision() {
	curl -sS --cacert "$PKI/ca.pem" "https://127.0.0.1:$BACKEND_PORT/v1/health" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["revision"])'
}

mkdir -p "$SP_TMP/inbox"
sp_start inside "$OFTP2_PEER" listen -v --listen "127.0.0.1:$INSIDE_PORT" --timeout $(sp_time 120) \
	--id "$INSIDE_ID" --password INSIDEPW --dir "$SP_TMP/inbox" --partner "ACME:ACMEPW"
INSIDE_PID=$SP_LAST_PID
chain_wait_log inside "listening on" 10
chain_start_server
chain_start_client
chain_wait_log server "revision 1 applied"
chain_wait_log server "opened partner listener"
inside_sessions() { grep -c "SSID level=.* code='" "$SP_TMP/inside.log"; }

# 1. Refused.
out=$(python3 "$SP_IT/oftp2_lf.py" "$PARTNER_PORT" "$PKI/ca.pem" ACME ACMEPW) ||
	{ sp_dump_logs; sp_fail "LF session: the script failed"; }
[ "$out" = "refused ESID 06" ] || { sp_dump_logs; sp_fail "LF SSID without the switch: $out"; }
chain_wait_log server "oftp2_violation from 127.0.0.1: SSID SSIDCR .*code=ACME admit=tolerate_lf_trailer"
[ "$(inside_sessions)" -eq 0 ] || sp_fail "the inside saw the refused session"

# 2. diagnose names the switch; the event travels server -> client -> API.
deadline=$(( $(date +%s) + $(sp_time 20) ))
until "$CTL" partners diagnose ACME >"$SP_TMP/diag1.out" 2>&1 &&
	grep -q "switch tolerate_lf_trailer .*SSID SSIDCR" "$SP_TMP/diag1.out"; do
	[ "$(date +%s)" -lt "$deadline" ] || { cat "$SP_TMP/diag1.out" >&2; sp_dump_logs; sp_fail "diagnose never named the switch"; }
	sleep 0.2   # poll interval: the event travels server -> client -> API
done
grep -q "^  tolerate_lf_trailer  *1 refusal" "$SP_TMP/diag1.out" ||
	{ cat "$SP_TMP/diag1.out" >&2; sp_fail "diagnose: no summary of the switch"; }
"$CTL" --json partners diagnose ACME >"$SP_TMP/diag1.json" || sp_fail "diagnose --json"
python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["switches_that_would_admit"] == {"tolerate_lf_trailer": 1}, d
assert d["refused"][-1]["switch"] == "tolerate_lf_trailer", d' "$SP_TMP/diag1.json" ||
	sp_fail "diagnose JSON"
sp_log "diagnose: the refusal and tolerate_lf_trailer are named"

# 3. The switch, per partner, through smartproxyctl: one revision.
rev=$(revision)
"$CTL" partners oftp2 ACME tolerate_lf_trailer=on >"$SP_TMP/on.out" 2>&1 ||
	{ cat "$SP_TMP/on.out" >&2; sp_fail "partners oftp2 ... =on"; }
grep -q "tolerate_lf_trailer  *on" "$SP_TMP/on.out" || { cat "$SP_TMP/on.out" >&2; sp_fail "switch not shown"; }
grep -q "tolerate_time_counter0  *on" "$SP_TMP/on.out" ||
	{ cat "$SP_TMP/on.out" >&2; sp_fail "the site file's switch was lost by the merge"; }
new=$(revision)
[ "$new" -eq $((rev + 1)) ] || sp_fail "revision $rev -> $new, expected one"
chain_wait_log server "revision $new applied"
out=$(python3 "$SP_IT/oftp2_lf.py" "$PARTNER_PORT" "$PKI/ca.pem" ACME ACMEPW) ||
	{ sp_dump_logs; sp_fail "LF session with the switch: the script failed"; }
[ "$out" = accepted ] || { sp_dump_logs; sp_fail "LF SSID with the switch: $out"; }
chain_wait_log server "oftp2_deviation from 127.0.0.1: partner code=ACME rule=lf_trailer field=SSIDCR admitted (switch tolerate_lf_trailer)"
chain_wait_log inside "SSID level=.* code='ACME"
deadline=$(( $(date +%s) + $(sp_time 20) ))
until "$CTL" --json partners diagnose ACME >"$SP_TMP/diag2.json" 2>&1 &&
	grep -q '"lf_trailer"' "$SP_TMP/diag2.json"; do
	[ "$(date +%s)" -lt "$deadline" ] || { cat "$SP_TMP/diag2.json" >&2; sp_fail "diagnose never listed the deviation"; }
	sleep 0.2   # poll interval: the event travels server -> client -> API
done
sp_log "tolerate_lf_trailer=on: admitted and named"

# 4. Back to the global value; bad requests commit nothing.
"$CTL" partners oftp2 ACME tolerate_lf_trailer=default >"$SP_TMP/def.out" 2>&1 ||
	{ cat "$SP_TMP/def.out" >&2; sp_fail "=default"; }
grep -q "tolerate_lf_trailer" "$SP_TMP/def.out" && { cat "$SP_TMP/def.out" >&2; sp_fail "=default kept the switch"; }
grep -q "tolerate_time_counter0  *on" "$SP_TMP/def.out" ||
	{ cat "$SP_TMP/def.out" >&2; sp_fail "=default lost the site file's switch"; }
rev=$(revision)
"$CTL" partners oftp2 ACME tolerate_lf_trailr=on 2>"$SP_TMP/typo.err" && sp_fail "a typo was accepted"
grep -q "'tolerate_lf_trailr' is not a switch" "$SP_TMP/typo.err" || { cat "$SP_TMP/typo.err" >&2; sp_fail "typo: no message"; }
"$CTL" partners oftp2 NOBODY detect=on 2>"$SP_TMP/nobody.err" && sp_fail "an unknown partner was accepted"
grep -q "no such partner" "$SP_TMP/nobody.err" || { cat "$SP_TMP/nobody.err" >&2; sp_fail "unknown partner: no 404"; }
[ "$(revision)" -eq "$rev" ] || sp_fail "a refused change committed a revision"

chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
chain_stop api "$API_PID"
kill -TERM "$INSIDE_PID" 2>/dev/null
exit 0
