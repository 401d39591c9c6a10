#!/usr/bin/env bash
# keyless_pkcs11.sh - keyless TLS end to end with the real smartproxy-api and
# the key in a PKCS#11 token (softhsm2, found through p11-kit):
#
#  1. the site file says `key: inside`; smartproxy-api stores no key and its
#     configuration for the proxy carries the chain and key "inside", no
#     private key; --export writes `key: inside` back;
#  2. the client signs with the token's key (pkcs11: URL in its bootstrap
#     file); a partner sends a file over OFTP2 through the keyless listener
#     with the oftp2 and partner modules on, the inside receives it byte for
#     byte, and the inside's file comes back the same way;
#  3. PUT /v1/listeners/partners/tls with "key": "inside" is accepted (200),
#     "key": "elsewhere" and key with private_key are refused (400).
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/partner_lib.sh"
sp_init 180

OFTP2_PEER=$SP_TOP_BUILDDIR/oftp2-peer
sp_require_prog "$SP_API" "$OFTP2_PEER"
sp_need softhsm2-util softhsm2
sp_need p11tool gnutls-bin
sp_need curl curl
# p11-kit finds the token's library through the module file softhsm2 installs.
[ -f /usr/share/p11-kit/modules/softhsm2.module ] ||
	sp_skip "softhsm2 registers no p11-kit module (/usr/share/p11-kit/modules/softhsm2.module)"
partner_init oftp2 partner
PKI=$SP_TMP/pki
PARTNER_PORT=$(chain_free_port)
INSIDE_ID=O0013000000INSIDE

# A token of our own: softhsm2 reads its configuration from SOFTHSM2_CONF.
mkdir -p "$SP_TMP/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$SP_TMP/tokens" >"$SP_TMP/softhsm2.conf"
export SOFTHSM2_CONF=$SP_TMP/softhsm2.conf
softhsm2-util --init-token --free --label sp-test --pin 1234 --so-pin 5678 >"$SP_TMP/hsm.out" 2>&1 ||
	{ cat "$SP_TMP/hsm.out" >&2; sp_hard_error "softhsm2-util --init-token"; }
GNUTLS_PIN=1234 p11tool --login --write --label listener --load-privkey "$PKI/server.key" \
	--load-certificate "$PKI/server.pem" \
	"pkcs11:token=sp-test" >"$SP_TMP/p11.out" 2>&1 ||
	{ cat "$SP_TMP/p11.out" >&2; sp_hard_error "p11tool --write"; }
# From here the only copy the client may use is in the token.
# The PIN in a file of its own (0600), not in the bootstrap file.
(umask 077 && printf 1234 >"$SP_TMP/hsm.pin")
URL="pkcs11:token=sp-test;object=listener;type=private?pin-source=$SP_TMP/hsm.pin"

echo "admin-token-0123456789abc" >"$SP_TMP/admin.token"
cp "$SP_TMP/token" "$SP_TMP/api-client.token"
cat >"$SP_TMP/api.yaml" <<YAML
listen: "127.0.0.1:0"
tls:
  certificate: $PKI/server.pem
  key: $PKI/server.key
database: $SP_TMP/api.db
tokens:
  - name: client
    role: proxy
    file: $SP_TMP/api-client.token
  - name: admin
    role: admin
    file: $SP_TMP/admin.token
logging:
  level: info
  targets:
    - type: stderr
YAML
cat >"$SP_TMP/site.yaml" <<YAML
listeners:
  - name: partners
    address: "127.0.0.1:$PARTNER_PORT"
    tls:
      certificate_chain: pki/server.pem
      key: inside
partners:
  - odette_id: ACME
    password: SECRET1
    allowed_networks: [127.0.0.0/8]
YAML

# ---- 1. the backend holds no key ----
"$SP_API" --config "$SP_TMP/api.yaml" --import "$SP_TMP/site.yaml" >"$SP_TMP/import.log" 2>&1 ||
	{ cat "$SP_TMP/import.log" >&2; sp_fail "site import failed"; }
sp_start api "$SP_API" --config "$SP_TMP/api.yaml" --port-file "$SP_TMP/api.port"
BACKEND_PORT=$(sp_wait_port_file "$SP_TMP/api.port")
curl -sS --cacert "$PKI/ca.pem" -H "Authorization: Bearer $(cat "$SP_TMP/api-client.token")" \
	"https://127.0.0.1:$BACKEND_PORT/v1/config" >"$SP_TMP/config.json" || sp_fail "GET /v1/config"
python3 - "$SP_TMP/config.json" <<-'PY' || sp_fail "the proxy's configuration: $(head -c 600 "$SP_TMP/config.json")"
	import json, sys
	text = open(sys.argv[1]).read()
	tls = json.loads(text)["listeners"][0]["tls"]
	assert tls["key"] == "inside" and "private_key" not in tls, tls.keys()
	assert "PRIVATE KEY" not in text
	assert "BEGIN CERTIFICATE" in tls["certificate_chain"]
	PY
mkdir -p "$SP_TMP/export"
"$SP_API" --config "$SP_TMP/api.yaml" --export "$SP_TMP/export/site.yaml" >"$SP_TMP/export.log" 2>&1 ||
	{ cat "$SP_TMP/export.log" >&2; sp_fail "--export failed"; }
sp_grep "key: inside" "$SP_TMP/export/site.yaml"
if ls -R "$SP_TMP/export" | grep -q "listener-partners-key"; then
	sp_fail "--export wrote a key file for a keyless listener"
fi

# ---- 2. a file each way over OFTP2 through the keyless listener ----
chain_write_client_conf "$PROXY_ID"
cat >>"$SP_TMP/client.yaml" <<EOF
keyless:
  keys:
    partners: "$URL"
EOF
mkdir -p "$SP_TMP/inbox" "$SP_TMP/outbox"
sp_make_file "$SP_TMP/to-inside.dat" $((512 * 1024))
sp_make_file "$SP_TMP/to-partner.dat" $((256 * 1024))
sp_start inside "$OFTP2_PEER" listen -v --listen "127.0.0.1:$INSIDE_PORT" --once --timeout $(sp_time 60) \
	--id "$INSIDE_ID" --password INSIDEPW --dir "$SP_TMP/inbox" --partner "ACME:SECRET1" \
	--send "$SP_TMP/to-partner.dat" --as BACK
INSIDE_PID=$SP_LAST_PID
chain_wait_log inside "listening on" 10
chain_start_server
chain_start_client
chain_wait_log client "keyless: the key of listener partners is held here"
chain_wait_log server "revision 1 applied"
chain_wait_log server "opened partner listener"
sp_run "$OFTP2_PEER" send -v --connect "127.0.0.1:$PARTNER_PORT" --timeout $(sp_time 30) \
	--ca "$PKI/ca.pem" --servername localhost --id ACME --password SECRET1 \
	--partner "$INSIDE_ID:INSIDEPW" --dir "$SP_TMP/outbox" \
	--send "$SP_TMP/to-inside.dat" --as FORTH 2>"$SP_TMP/send.log" ||
	{ sp_dump_logs; cat "$SP_TMP/send.log" >&2; sp_fail "the partner's OFTP2 session failed"; }
sp_wait "$INSIDE_PID" 30 || { sp_dump_logs; sp_fail "the inside OFTP2 server failed"; }
sp_cmp "$SP_TMP/to-inside.dat" "$SP_TMP/inbox/FORTH"
sp_cmp "$SP_TMP/to-partner.dat" "$SP_TMP/outbox/BACK"
sp_grep "keyless: signed request [0-9]* for listener partners" "$SP_TMP/client.log"
# The token's key is the certificate's (the client checked, found no mismatch).
if grep -q "is not the key held here" "$SP_TMP/client.log"; then sp_fail "key mismatch reported"; fi
sp_grep "session 1: TLS TLS1.3" "$SP_TMP/server.log"
sp_log "OFTP2 both ways through a keyless listener whose key is in softhsm2"

# ---- 3. the listener's certificate through the API, key inside ----
put() { # body -> HTTP status
	curl -sS -o "$SP_TMP/put.out" -w '%{http_code}' -X PUT --cacert "$PKI/ca.pem" \
		-H "Authorization: Bearer $(cat "$SP_TMP/admin.token")" -H "Content-Type: application/json" \
		--data-binary @- "https://127.0.0.1:$BACKEND_PORT/v1/listeners/partners/tls"
}
CHAIN_JSON=$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$PKI/server.pem")
KEY_JSON=$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$PKI/server.key")
[ "$(echo "{\"certificate_chain\": $CHAIN_JSON, \"key\": \"inside\"}" | put)" = 200 ] ||
	sp_fail "PUT tls with key inside: $(cat "$SP_TMP/put.out")"
sp_grep '"key": *"inside"' "$SP_TMP/put.out"
[ "$(echo "{\"certificate_chain\": $CHAIN_JSON, \"key\": \"elsewhere\"}" | put)" = 400 ] ||
	sp_fail "PUT tls with key elsewhere: $(cat "$SP_TMP/put.out")"
[ "$(echo "{\"certificate_chain\": $CHAIN_JSON, \"key\": \"inside\", \"private_key\": $KEY_JSON}" | put)" = 400 ] ||
	sp_fail "PUT tls with both: $(cat "$SP_TMP/put.out")"
sp_grep "exclude each other" "$SP_TMP/put.out"
chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
exit 0
