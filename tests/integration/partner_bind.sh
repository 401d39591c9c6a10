#!/usr/bin/env bash
# partner_bind.sh - a client certificate binds to the partner it names
# (tls.bind, docs/api.md), through the real smartproxy-api, server, client and
# oftp2-peer on both sides. Two partners trust the same CA, which issued one
# certificate to each (CN O0013000000TEST and CN O0013000000CERT):
#
#  1. TEST with its own certificate: the file arrives, byte for byte;
#  2. TEST's certificate used to log in as CERT (the right password): ESID 03,
#     a certificate_refused security line naming the binding, the inside sees
#     nothing; CERT with its own certificate passes;
#  3. smartproxyctl binds CERT to the exact subject DN of TEST's certificate
#     (--bind-dn): the new revision lets that certificate in as CERT, the
#     file arrives; bad bind values are refused by the API naming the field,
#     a new partner (POST) may name its binding;
#  4. the fail2ban filter matches exactly the refused attempt.
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

# A second client certificate of the same CA, for another ODETTE ID.
sed 's/O0013000000TEST/O0013000000CERT/' "$PKI/client.tmpl" >"$PKI/cert.tmpl"
certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --outfile "$PKI/cert.key" \
	>/dev/null 2>&1 || sp_hard_error "certtool: key"
certtool --generate-certificate --load-privkey "$PKI/cert.key" --load-ca-certificate "$PKI/ca.pem" \
	--load-ca-privkey "$PKI/ca.key" --template "$PKI/cert.tmpl" --outfile "$PKI/cert.pem" \
	>"$PKI/certtool.out" 2>&1 || { cat "$PKI/certtool.out" >&2; sp_hard_error "certtool: cert"; }
TEST_DN=$(certtool -i --infile "$PKI/client.pem" | sed -n 's/^[[:space:]]*Subject: //p')
[ "$TEST_DN" = "CN=O0013000000TEST" ] || sp_hard_error "unexpected subject '$TEST_DN'"

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
  - odette_id: O0013000000TEST
    password: TESTPW
    allowed_networks: [127.0.0.0/8]
    tls:
      require_client_cert: true
      ca_bundle: pki/ca.pem
  - odette_id: O0013000000CERT
    password: CERTPW
    allowed_networks: [127.0.0.0/8]
    tls:
      require_client_cert: true
      ca_bundle: pki/ca.pem
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

api() {
	curl -sS -o "$SP_TMP/api-answer" -w '%{http_code}' --cacert "$PKI/ca.pem" \
		-H "Authorization: Bearer $(cat "$SP_TMP/admin.token")" \
		-H 'Content-Type: application/json' -X "$1" ${3:+--data "$3"} \
		"https://127.0.0.1:$BACKEND_PORT/$2"
}
revision() {
	curl -sS --cacert "$PKI/ca.pem" "https://127.0.0.1:$BACKEND_PORT/v1/health" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["revision"])'
}

# ---- the chain ----
mkdir -p "$SP_TMP/inbox"
sp_start inside "$OFTP2_PEER" listen -v --listen "127.0.0.1:$INSIDE_PORT" --timeout $(sp_time 120) \
	--id "$INSIDE_ID" --password INSIDEPW --dir "$SP_TMP/inbox" \
	--partner O0013000000TEST:TESTPW --partner O0013000000CERT:CERTPW
chain_wait_log inside "listening on" 10
chain_start_server
chain_start_client
chain_wait_log server "revision 1 applied"
chain_wait_log server "opened partner listener"
sp_make_file "$SP_TMP/FILE1" 65536

inside_sessions() { grep -c "SSID level=.* code='" "$SP_TMP/inside.log"; }

# send NAME ID PASSWORD CERTNAME: one session with pki/CERTNAME.{pem,key}.
send() {
	sp_run "$OFTP2_PEER" send -v --connect "127.0.0.1:$PARTNER_PORT" --ca "$PKI/ca.pem" \
		--timeout $(sp_time 30) --id "$2" --password "$3" --partner "$INSIDE_ID:INSIDEPW" \
		--cert "$PKI/$4.pem" --key "$PKI/$4.key" --send "$SP_TMP/FILE1" 2>"$SP_TMP/$1.log"
}
allowed() {
	send "$@" || { sp_dump_logs; sed 's/^/  | /' "$SP_TMP/$1.log" >&2; sp_fail "$1: refused"; }
	sp_cmp "$SP_TMP/FILE1" "$SP_TMP/inbox/FILE1"
	rm -f "$SP_TMP/inbox/FILE1"
	chain_wait_log server "partner $2 accepted, client certificate sha256="
	sp_log "$1: $2 with $4.pem accepted, the file arrived"
}

# 1. The right certificate.
allowed own O0013000000TEST TESTPW client

# 2. TEST's certificate, CERT's code and password: refused before the inside.
before=$(inside_sessions)
send stolen O0013000000CERT CERTPW client &&
	{ sp_dump_logs; sp_fail "stolen: a certificate of TEST logged in as CERT"; }
grep -q "ESID reason=03" "$SP_TMP/stolen.log" ||
	{ sed 's/^/  | /' "$SP_TMP/stolen.log" >&2; sp_fail "stolen: no ESID 03"; }
chain_wait_log server "WARN security \[h_security\] certificate_refused from 127.0.0.1: client certificate sha256=[0-9a-f]\{64\} from a CA of partner O0013000000CERT does not name it (bind cn); ESID 03"
[ "$(inside_sessions)" -eq "$before" ] || sp_fail "stolen: the inside saw the session"
sp_log "stolen: TEST's certificate as CERT refused with ESID 03 and certificate_refused"
allowed cert O0013000000CERT CERTPW cert

# 3. Bound to an exact subject DN through smartproxyctl: TEST's certificate
#    now is CERT's (an operator's choice, e.g. one certificate for two IDs).
rev=$(revision)
"$CTL" partners change O0013000000CERT --bind-dn "$TEST_DN" >"$SP_TMP/change.out" 2>&1 ||
	{ cat "$SP_TMP/change.out" >&2; sp_fail "smartproxyctl partners change --bind-dn failed"; }
new=$(revision)
[ "$new" -eq $((rev + 1)) ] || sp_fail "revision $rev -> $new, expected one new revision"
chain_wait_log server "revision $new applied"
"$CTL" --json partners list >"$SP_TMP/list.json" || sp_fail "partners list"
python3 - "$SP_TMP/list.json" "$TEST_DN" <<-'PY' || sp_fail "the API does not show the binding"
	import json, sys
	p = {p["odette_id"]: p for p in json.load(open(sys.argv[1]))["partners"]}
	assert p["O0013000000CERT"]["tls"]["bind"] == "dn", p["O0013000000CERT"]["tls"]
	assert p["O0013000000CERT"]["tls"]["bind_dn"] == sys.argv[2]
	assert p["O0013000000TEST"]["tls"]["bind"] == "cn" and p["O0013000000TEST"]["tls"]["bind_dn"] is None
	PY
allowed bound_dn O0013000000CERT CERTPW client

# Bad values are refused naming the field, with no new revision.
bad() {
	local status
	status=$(api PUT v1/partners/O0013000000CERT "$1")
	[ "$status" = 400 ] || { cat "$SP_TMP/api-answer" >&2; sp_fail "PUT $1: $status, expected 400"; }
	grep -q -- "$2" "$SP_TMP/api-answer" || { cat "$SP_TMP/api-answer" >&2; sp_fail "PUT $1: no '$2'"; }
}
rev=$(revision)
bad '{"tls":{"bind":"subject"}}' "'tls.bind: expected cn, san, dn or none"
bad '{"tls":{"bind":"dn","bind_dn":null}}' "'tls.bind_dn: required with bind dn"
bad '{"tls":{"bind":"cn","bind_dn":"CN=X"}}' "'tls.bind_dn: only with bind dn"
bad '{"tls":{"bind":7}}' "'bind'"
[ "$(revision)" -eq "$rev" ] || sp_fail "a refused change committed a revision"
# Back to the CN: leaving "dn" drops the DN.
"$CTL" partners change O0013000000CERT --bind cn >/dev/null || sp_fail "--bind cn"
"$CTL" --json partners list >"$SP_TMP/list.json" || sp_fail "partners list"
python3 -c 'import json,sys
p = {p["odette_id"]: p for p in json.load(open(sys.argv[1]))["partners"]}["O0013000000CERT"]
assert p["tls"]["bind"] == "cn" and p["tls"]["bind_dn"] is None, p["tls"]' "$SP_TMP/list.json" ||
	sp_fail "--bind cn did not restore the default"

# A new partner may name its binding too.
status=$(api POST v1/partners '{"odette_id":"O0013000000NEW","password":"NEWPW","allowed_networks":[],"tls":{"require_client_cert":false,"pins":[],"bind":"san"}}')
[ "$status" = 201 ] || { cat "$SP_TMP/api-answer" >&2; sp_fail "POST with tls.bind: $status"; }
python3 -c 'import json,sys; t = json.load(open(sys.argv[1]))["tls"]; assert t["bind"] == "san" and t["bind_dn"] is None, t' \
	"$SP_TMP/api-answer" || sp_fail "POST: the binding is not shown"
status=$(api POST v1/partners '{"odette_id":"O0013000000BAD","password":"X","allowed_networks":[],"tls":{"bind":"dn"}}')
[ "$status" = 400 ] && grep -q "'tls.bind_dn: required with bind dn" "$SP_TMP/api-answer" ||
	{ cat "$SP_TMP/api-answer" >&2; sp_fail "POST bind dn without bind_dn: $status"; }

# 4. fail2ban sees the refused attempt and nothing else.
partner_fail2ban "$SP_TMP/server.log"

chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
chain_stop api "$API_PID"
exit 0
