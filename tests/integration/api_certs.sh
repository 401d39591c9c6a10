#!/usr/bin/env bash
# api_certs.sh - certificates change through smartproxyctl, without a site
# import and without a restart, with the real smartproxy-api and the chain
# running the oftp2 and partner modules:
#
#  1. listener certificate rotation: a session that did its TLS handshake
#     with the old certificate and waits before its SSID keeps going after
#     the new revision was applied (its SSID reaches the inside, which
#     answers); a new session is served the new certificate;
#  2. a key that does not belong to the chain is refused, naming --key, and
#     commits nothing;
#  3. a partner's CA bundle rotates: a client certificate of the new CA is
#     refused before the change and accepted after it, the old CA's is
#     refused after it;
#  4. smartproxyctl blocks lists the brake block the proxy reported (a new
#     data path: the partner module posts v1/blocks when a block starts)
#     and the online blocks set with partners block / unblock.
#  5. listeners set-certificate --key-inside makes the listener keyless:
#     the configuration the backend renders for the proxy carries the chain
#     and "key": "inside" and no key (nor does the backend's database), and
#     a partner's handshake is signed by the client (which holds the key).
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/partner_lib.sh"
sp_init 180

OFTP2_PEER=$SP_TOP_BUILDDIR/oftp2-peer
CTL=$SP_TOP_BUILDDIR/smartproxyctl
sp_require_prog "$SP_API" "$OFTP2_PEER" "$CTL"
sp_need python3 python3
sp_need curl curl
partner_init oftp2 partner
PKI=$SP_TMP/pki
PARTNER_PORT=$(chain_free_port)
INSIDE_ID=O0013000000INSIDE
PROBE="python3 $SP_IT/rotate_probe.py"

# The next listener certificate: a new key, the same CA.
certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --outfile "$PKI/server2.key" \
	>/dev/null 2>&1 || sp_hard_error "certtool: key"
certtool --generate-certificate --load-privkey "$PKI/server2.key" --load-ca-certificate "$PKI/ca.pem" \
	--load-ca-privkey "$PKI/ca.key" --template "$PKI/server.tmpl" --outfile "$PKI/server2.pem" \
	>/dev/null 2>&1 || sp_hard_error "certtool: server2"
# The keyless certificate of part 5: its key is only ever in the client's
# bootstrap file.
certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --outfile "$PKI/server3.key" \
	>/dev/null 2>&1 || sp_hard_error "certtool: key 3"
chmod 600 "$PKI/server3.key"
certtool --generate-certificate --load-privkey "$PKI/server3.key" --load-ca-certificate "$PKI/ca.pem" \
	--load-ca-privkey "$PKI/ca.key" --template "$PKI/server.tmpl" --outfile "$PKI/server3.pem" \
	>/dev/null 2>&1 || sp_hard_error "certtool: server3"
sha_of() { python3 -c 'import hashlib,ssl,sys; print(hashlib.sha256(ssl.PEM_cert_to_DER_cert(open(sys.argv[1]).read())).hexdigest())' "$1"; }
OLD_SHA=$(sha_of "$PKI/server.pem")
NEW_SHA=$(sha_of "$PKI/server2.pem")

echo "admin-token-0123456789abc" >"$SP_TMP/admin.token"
cp "$SP_TMP/token" "$SP_TMP/api-client.token"
cat >"$SP_TMP/api.yaml" <<YAML
listen: "127.0.0.1:0"
tls:
  certificate: $PKI/server.pem
  key: $PKI/server.key
database: $(sp_api_database "$SP_TMP/api.db")
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
      private_key: pki/server.key
partners:
  - odette_id: ACME
    password: SECRET1
    allowed_networks: [127.0.0.0/8]
    tls:
      require_client_cert: true
      ca_bundle: pki/ca.pem
      # Rotation is this test's subject; the test PKI's client certificate
      # names another ID, and binding is partner_bind.sh's.
      bind: none
modules:
  partner:
    brake: {max_failures: 4, window_ms: 60000, block_ms: 300000}
YAML
"$SP_API" --config "$SP_TMP/api.yaml" --import "$SP_TMP/site.yaml" >"$SP_TMP/import.log" 2>&1 ||
	{ cat "$SP_TMP/import.log" >&2; sp_fail "site import failed"; }
sp_start api "$SP_API" --config "$SP_TMP/api.yaml" --port-file "$SP_TMP/api.port"
BACKEND_PORT=$(sp_wait_port_file "$SP_TMP/api.port")
chain_write_client_conf "$PROXY_ID"
cat >>"$SP_TMP/client.yaml" <<YAML
keyless:
  keys:
    partners: "$PKI/server3.key"
YAML
export SMARTPROXYCTL_URL=https://127.0.0.1:$BACKEND_PORT/
export SMARTPROXYCTL_TOKEN_FILE=$SP_TMP/admin.token SMARTPROXYCTL_CA=$PKI/ca.pem
export SMARTPROXYCTL_RC=/dev/null

mkdir -p "$SP_TMP/inbox" "$SP_TMP/probe"
sp_start inside "$OFTP2_PEER" listen -v --listen "127.0.0.1:$INSIDE_PORT" --timeout $(sp_time 120) \
	--id "$INSIDE_ID" --password INSIDEPW --dir "$SP_TMP/inbox" --partner "ACME:SECRET1"
chain_wait_log inside "listening on" 10
chain_start_server
chain_start_client
chain_wait_log server "revision 1 applied"
chain_wait_log server "opened partner listener"

# probe NAME CERT [hold]: one session (rotate_probe.py); in the background
# with hold.
probe() {
	local name=$1 cert=$2
	shift 2
	$PROBE "$PARTNER_PORT" "$PKI/$cert.pem" "$PKI/$cert.key" ACME SECRET1 "$SP_TMP/probe" "$name" "$@"
}

# ---- 1. rotation with a session in flight ----
probe inflight client hold &
HOLD_PID=$!
SP_PIDS="$SP_PIDS $HOLD_PID"
sp_wait_file "$SP_TMP/probe/inflight.ready" 20
[ "$(cat "$SP_TMP/probe/inflight.sha")" = "$OLD_SHA" ] || sp_fail "the held session did not see the old certificate"

"$CTL" listeners set-certificate partners --chain "$PKI/server2.pem" --key "$PKI/server2.key" \
	>"$SP_TMP/set.out" 2>&1 || { cat "$SP_TMP/set.out" >&2; sp_fail "listeners set-certificate"; }
sp_grep "$NEW_SHA" "$SP_TMP/set.out"
chain_wait_log api "listener partners: new certificate sha256=$NEW_SHA by admin, revision 2"
chain_wait_log server "revision 2 applied"
"$CTL" --json listeners list >"$SP_TMP/listeners.json" || sp_fail "listeners list"
python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))["listeners"][0]; assert l["tls"]["certificate_sha256"]==sys.argv[2] and "private_key" not in l["tls"], l' \
	"$SP_TMP/listeners.json" "$NEW_SHA" || sp_fail "listeners list: $(cat "$SP_TMP/listeners.json")"

probe fresh client
[ "$(cat "$SP_TMP/probe/fresh.sha")" = "$NEW_SHA" ] || sp_fail "a new session was not served the new certificate"
[ "$(cat "$SP_TMP/probe/fresh.result")" = ssid ] || { sp_dump_logs; sp_fail "new session: $(cat "$SP_TMP/probe/fresh.result")"; }

touch "$SP_TMP/probe/go"
sp_wait "$HOLD_PID" 60 || sp_fail "the held session's probe failed"
[ "$(cat "$SP_TMP/probe/inflight.result")" = ssid ] ||
	{ sp_dump_logs; sp_fail "the session in flight did not go on: $(cat "$SP_TMP/probe/inflight.result")"; }
kill -0 "$SERVER_PID" || sp_fail "the server is gone"
sp_log "rotation: the session in flight went on with the old certificate, a new one got the new certificate"

# ---- 2. a key of another certificate is refused ----
rc=0
"$CTL" listeners set-certificate partners --chain "$PKI/server2.pem" --key "$PKI/server.key" \
	>"$SP_TMP/bad.out" 2>"$SP_TMP/bad.err" || rc=$?
[ "$rc" -eq 1 ] || sp_fail "a mismatched key: exit $rc"
sp_grep "\-\-key does not load with \-\-chain" "$SP_TMP/bad.err"
curl -sS --cacert "$PKI/ca.pem" "https://127.0.0.1:$BACKEND_PORT/v1/health" | grep -q '"revision":2' ||
	sp_fail "a refused certificate committed a revision"
sp_log "a key that does not belong to the chain is refused, naming --key"

# ---- 3. a partner's CA bundle rotates ----
probe rogue1 rogue-client
[ "$(cat "$SP_TMP/probe/rogue1.result")" != ssid ] || sp_fail "a certificate of the rogue CA passed before the change"
"$CTL" partners change ACME --ca-bundle "$PKI/rogue-ca.pem" >"$SP_TMP/ca.out" 2>&1 ||
	{ cat "$SP_TMP/ca.out" >&2; sp_fail "partners change --ca-bundle"; }
chain_wait_log api "partner ACME changed by admin (new CA bundle), revision 3"
chain_wait_log server "revision 3 applied"
probe rogue2 rogue-client
[ "$(cat "$SP_TMP/probe/rogue2.result")" = ssid ] ||
	{ sp_dump_logs; sp_fail "the new CA's certificate was refused: $(cat "$SP_TMP/probe/rogue2.result")"; }
probe old client
[ "$(cat "$SP_TMP/probe/old.result")" != ssid ] || sp_fail "the old CA's certificate still passes"
rc=0
"$CTL" partners change ACME --ca-bundle "$PKI/server.key" >/dev/null 2>"$SP_TMP/ca-bad.err" || rc=$?
[ "$rc" -eq 1 ] || sp_fail "a key as CA bundle: exit $rc"
sp_grep "\-\-ca-bundle holds no PEM CERTIFICATE" "$SP_TMP/ca-bad.err"
sp_log "CA bundle: the new CA's certificate passes, the old one's is refused, no import"

# ---- 4. the blocks in force ----
for i in 1 2 3 4; do
	sp_run python3 "$SP_IT/partner_probe.py" 127.0.0.9 "$PARTNER_PORT" garbage >/dev/null
done
chain_wait_log server "rate_limited from 127.0.0.9: 4 failures within 60 s: address blocked for 300 s"
chain_wait_log api "the proxy blocked 127.0.0.9 until "
"$CTL" partners block ACME --esid 04 >"$SP_TMP/block.out" 2>&1 || { cat "$SP_TMP/block.out" >&2; sp_fail "partners block"; }
sp_grep "partner ACME blocked" "$SP_TMP/block.out"
"$CTL" blocks >"$SP_TMP/blocks.out" || sp_fail "blocks"
grep -q "^brake .*127\.0\.0\.9 .*4 failures" "$SP_TMP/blocks.out" || { cat "$SP_TMP/blocks.out" >&2; sp_fail "no brake block listed"; }
grep -q "^online .*ACME .*ESID 04" "$SP_TMP/blocks.out" || { cat "$SP_TMP/blocks.out" >&2; sp_fail "no online block listed"; }
"$CTL" blocks --json >"$SP_TMP/blocks.json" || sp_fail "blocks --json"
python3 - "$SP_TMP/blocks.json" <<'PY' || sp_fail "blocks --json: $(cat "$SP_TMP/blocks.json")"
import json, sys, time
d = json.load(open(sys.argv[1]))
b = [x for x in d["brake"] if x["address"] == "127.0.0.9"]
assert len(b) == 1 and b[0]["block_ms"] == 300000 and b[0]["reported_by"] == "client", d
assert b[0]["blocked_until"] > time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), b
assert d["online"] == [{"odette_id": "ACME", "esid_reason": "04", "since": d["online"][0]["since"]}], d
PY
"$CTL" partners unblock ACME >/dev/null || sp_fail "partners unblock"
"$CTL" --json blocks >"$SP_TMP/blocks.json" || sp_fail "blocks --json"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["online"]==[]' "$SP_TMP/blocks.json" ||
	sp_fail "the online block was not lifted"
sp_log "blocks: the brake block the proxy reported and the online block are listed"

# ---- 5. the listener goes keyless ----
rc=0
"$CTL" listeners set-certificate partners --chain "$PKI/server3.pem" --key "$PKI/server3.key" --key-inside \
	>/dev/null 2>"$SP_TMP/both.err" || rc=$?
[ "$rc" -eq 2 ] || sp_fail "--key with --key-inside: exit $rc"
sp_grep "\-\-key and \-\-key-inside exclude each other" "$SP_TMP/both.err"
SHA3=$(sha_of "$PKI/server3.pem")
"$CTL" listeners set-certificate partners --chain "$PKI/server3.pem" --key-inside \
	>"$SP_TMP/inside.out" 2>&1 || { cat "$SP_TMP/inside.out" >&2; sp_fail "listeners set-certificate --key-inside"; }
sp_grep "$SHA3" "$SP_TMP/inside.out"
chain_wait_log api "listener partners: new certificate sha256=$SHA3 by admin, revision [0-9]* (keyless"
REV=$(sed -n "s/.*listener partners: new certificate sha256=$SHA3 by admin, revision \([0-9]*\).*/\1/p" \
	"$SP_TMP/api.log" | head -n 1)
chain_wait_log server "revision $REV applied"
# What the proxy is served (GET /v1/config with the client's token) and what
# the backend keeps: the chain, "key": "inside", no private key.
curl -sS --cacert "$PKI/ca.pem" -H "Authorization: Bearer $(cat "$SP_TMP/api-client.token")" \
	"https://127.0.0.1:$BACKEND_PORT/v1/config" >"$SP_TMP/rendered.json" || sp_fail "GET /v1/config"
# The backend's store as bytes: the SQLite file, or a dump of PostgreSQL.
if sp_on_pg; then
	pg_dump "$SP_TEST_DATABASE" >"$SP_TMP/store.bytes" || sp_fail "pg_dump"
else
	cp "$SP_TMP/api.db" "$SP_TMP/store.bytes"
fi
python3 - "$SP_TMP/rendered.json" "$PKI/server3.key" "$SP_TMP/store.bytes" "$REV" <<'PY' ||
import json, sys
raw = open(sys.argv[1]).read()
doc = json.loads(raw)
assert doc["revision"] == int(sys.argv[4]), doc["revision"]
tls = [l for l in doc["listeners"] if l["name"] == "partners"][0]["tls"]
assert tls.get("key") == "inside" and "private_key" not in tls, tls
assert "-----BEGIN CERTIFICATE-----" in tls["certificate_chain"], tls
assert "PRIVATE KEY" not in raw, "a private key in the rendered configuration"
body = "".join(l for l in open(sys.argv[2]).read().splitlines() if not l.startswith("-----"))
for f in (sys.argv[1], sys.argv[3]):
    assert body[:40].encode() not in open(f, "rb").read(), "server3.key is in " + f
PY
	sp_fail "the rendered configuration: $(cat "$SP_TMP/rendered.json")"
"$CTL" --json listeners list >"$SP_TMP/listeners.json" || sp_fail "listeners list"
python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["listeners"][0]["tls"]; assert t["key"]=="inside" and t["certificate_sha256"]==sys.argv[2], t' \
	"$SP_TMP/listeners.json" "$SHA3" || sp_fail "listeners list: $(cat "$SP_TMP/listeners.json")"
probe keyless rogue-client
[ "$(cat "$SP_TMP/probe/keyless.sha")" = "$SHA3" ] || sp_fail "the keyless listener did not serve its certificate"
[ "$(cat "$SP_TMP/probe/keyless.result")" = ssid ] ||
	{ sp_dump_logs; sp_fail "keyless session: $(cat "$SP_TMP/probe/keyless.result")"; }
sp_grep "keyless: signed request [0-9]* for listener partners" "$SP_TMP/client.log"
sp_log "set-certificate --key-inside: no key rendered or stored, the client signed the handshake"
