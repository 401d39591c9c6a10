#!/usr/bin/env bash
# api_partners.sh - changing a partner (PUT /v1/partners/<id>, smartproxyctl
# partners change) against the real smartproxy-api, with the chain running
# the oftp2 and partner modules:
#
#  1. the partner's file arrives with the old password (so the partner
#     module's cache of passwords that passed PBKDF2 holds it);
#  2. smartproxyctl changes the password; the new revision reaches the
#     server; the old password is refused at once with ESID 04 (the cache is
#     keyed by the stored hash), the inside sees nothing; the new one passes;
#  3. the API side: the clear password is nowhere in the database or the
#     document, other fields change alone (description, a cleared
#     valid_until, disable/enable), and bad requests are 404 / 400 naming
#     the field, with no new revision.
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
    description: before the change
    password: OLDPW1
    allowed_networks: [127.0.0.0/8]
    valid_until: 2099-01-01
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

# api METHOD PATH [JSON]: the admin's request; prints the HTTP status.
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
# field EXPR: a Python expression over the partner ACME as the API lists it.
field() {
	"$CTL" --json partners list >"$SP_TMP/list.json" || sp_fail "partners list"
	python3 -c 'import json,sys
p = {p["odette_id"]: p for p in json.load(open(sys.argv[1]))["partners"]}["ACME"]
print(eval(sys.argv[2]))' "$SP_TMP/list.json" "$1"
}

# ---- the chain ----
start_inside() {
	mkdir -p "$SP_TMP/inbox"
	sp_start inside "$OFTP2_PEER" listen -v --listen "127.0.0.1:$INSIDE_PORT" --timeout $(sp_time 120) \
		--id "$INSIDE_ID" --password INSIDEPW --dir "$SP_TMP/inbox" --partner "ACME:$1"
	INSIDE_PID=$SP_LAST_PID
	chain_wait_log inside "listening on" 10
}
start_inside OLDPW1
chain_start_server
chain_start_client
chain_wait_log server "revision 1 applied"
chain_wait_log server "opened partner listener"
sp_make_file "$SP_TMP/FILE1" 65536

inside_sessions() { grep -c "SSID level=.* code='" "$SP_TMP/inside.log"; }

send() {
	sp_run "$OFTP2_PEER" send -v --connect "127.0.0.1:$PARTNER_PORT" --ca "$PKI/ca.pem" \
		--timeout $(sp_time 30) --id ACME --password "$2" --partner "$INSIDE_ID:INSIDEPW" \
		--send "$SP_TMP/FILE1" 2>"$SP_TMP/$1.log"
}
allowed() {
	send "$1" "$2" || { sp_dump_logs; sed 's/^/  | /' "$SP_TMP/$1.log" >&2; sp_fail "$1: refused"; }
	sp_cmp "$SP_TMP/FILE1" "$SP_TMP/inbox/FILE1"
	rm -f "$SP_TMP/inbox/FILE1"
	sp_log "$1: password $2 accepted, the file arrived"
}

# 1. The old password, twice: the second session passes from the cache.
allowed old1 OLDPW1
allowed old2 OLDPW1

# 2. The password changed through smartproxyctl while the chain runs.
rev=$(revision)
printf 'NEWPW2\n' >"$SP_TMP/new.pw"
"$CTL" partners change ACME --password-file "$SP_TMP/new.pw" >"$SP_TMP/change.out" 2>&1 ||
	{ cat "$SP_TMP/change.out" >&2; sp_fail "smartproxyctl partners change failed"; }
grep -q "^ACME " "$SP_TMP/change.out" || { cat "$SP_TMP/change.out" >&2; sp_fail "no partner row printed"; }
new=$(revision)
[ "$new" -eq $((rev + 1)) ] || sp_fail "revision $rev -> $new, expected one new revision"
chain_wait_log api "partner ACME changed by admin (new password), revision $new"
chain_wait_log server "revision $new applied"

before=$(inside_sessions)
send oldpw OLDPW1 && { sp_dump_logs; sp_fail "the old password still works after the change"; }
grep -q "ESID reason=04" "$SP_TMP/oldpw.log" ||
	{ sed 's/^/  | /' "$SP_TMP/oldpw.log" >&2; sp_dump_logs; sp_fail "old password: no ESID 04"; }
chain_wait_log server "WARN security \[h_security\] bad_password from 127.0.0.1: .*ESID 04"
[ "$(inside_sessions)" -eq "$before" ] || sp_fail "old password: the inside saw the session"
sp_log "oldpw: the old password is refused with ESID 04 right after the change"

# The inside server learns the new password too (its own configuration).
kill -TERM "$INSIDE_PID"
sp_wait "$INSIDE_PID" 20 || true
mv "$SP_TMP/inside.log" "$SP_TMP/inside-old.log"
start_inside NEWPW2
allowed newpw NEWPW2

# 3. The clear passwords are nowhere; the hash changed and verifies NEWPW2.
for pw in NEWPW2 OLDPW1; do
	if sp_on_pg; then
		pg_dump "$SP_TEST_DATABASE" | grep -qa "$pw" && sp_fail "$pw in clear in the database"
	else
		grep -qa "$pw" "$SP_TMP/api.db" && sp_fail "$pw in clear in the database"
	fi
	grep -q "$pw" "$SP_TMP/api.log" && sp_fail "$pw in clear in the backend's log"
done
[ "$(field 'p["description"]')" = "before the change" ] || sp_fail "the description changed"
[ "$(field 'p["valid_until"]')" = "2099-01-01T00:00:00Z" ] || sp_fail "valid_until changed"

# Other fields change alone; a time is cleared with 'none'.
"$CTL" partners change ACME --description "after the change" --valid-until none \
	--max-sessions 3 --networks 127.0.0.0/8,192.0.2.0/24 >/dev/null || sp_fail "change description"
[ "$(field 'p["description"], p["valid_until"], p["max_sessions"], p["allowed_networks"]')" = \
	"('after the change', None, 3, ['127.0.0.0/8', '192.0.2.0/24'])" ] ||
	sp_fail "fields after the change: $(field 'p')"
"$CTL" partners change ACME --disable >/dev/null || sp_fail "change --disable"
[ "$(field 'p["enabled"]')" = False ] || sp_fail "--disable did not disable"
"$CTL" partners change ACME --enable >/dev/null || sp_fail "change --enable"
[ "$(field 'p["enabled"]')" = True ] || sp_fail "--enable did not enable"

# Bad requests: the field is named, nothing is committed.
rev=$(revision)
bad() {
	local status
	status=$(api PUT "$1" "$2")
	[ "$status" = "$3" ] || { cat "$SP_TMP/api-answer" >&2; sp_fail "PUT $1 $2: $status, expected $3"; }
	grep -q -- "$4" "$SP_TMP/api-answer" || { cat "$SP_TMP/api-answer" >&2; sp_fail "PUT $2: no '$4'"; }
}
bad v1/partners/NOBODY '{"description":"x"}' 404 not_found
bad v1/partners/bad-id '{"description":"x"}' 404 not_found
bad v1/partners/ACME '{"max_sessions":-1}' 400 "'max_sessions'"
bad v1/partners/ACME '{"password":"has space"}' 400 "'password'"
bad v1/partners/ACME '{"password":"waytoolong"}' 400 "'password'"
bad v1/partners/ACME '{"password_hash":"pbkdf2-sha256$1$00$00"}' 400 "'password_hash'"
bad v1/partners/ACME '{"odette_id":"OTHER"}' 400 "'odette_id' cannot change"
bad v1/partners/ACME '{"allowed_networks":["10.0.0.1/8"]}' 400 "'allowed_networks\[0\]'"
bad v1/partners/ACME '{"allowed_networks":null}' 400 "'allowed_networks'"
bad v1/partners/ACME '{"tls":{"require_client_cert":true}}' 400 "'tls.require_client_cert needs pins or ca_bundle"
bad v1/partners/ACME '{"tls":{"ca_bundle":"x"}}' 400 "'tls.ca_bundle'"
bad v1/partners/ACME '{"enabled":"yes"}' 400 "'enabled'"
bad v1/partners/ACME '{"valid_from":"2030-01-01","valid_until":"2029-01-01"}' 400 "'valid_until'"
bad v1/partners/ACME '{"colour":"blue"}' 400 "'colour'"
bad v1/partners/ACME '{"description":' 400 "malformed JSON"
[ "$(revision)" -eq "$rev" ] || sp_fail "a refused change committed a revision"
"$CTL" partners change NOBODY --description x 2>"$SP_TMP/ctl-404.err" && sp_fail "changed an unknown partner"
grep -q "no such partner" "$SP_TMP/ctl-404.err" || { cat "$SP_TMP/ctl-404.err" >&2; sp_fail "ctl: no 404 message"; }
"$CTL" partners change ACME >/dev/null 2>&1; [ $? -eq 2 ] || sp_fail "change without a field: not a usage error"

chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
chain_stop api "$API_PID"
exit 0
