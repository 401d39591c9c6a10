#!/usr/bin/env bash
# keyless_haproxy.sh - a keyless listener behind HAProxy (send-proxy-v2), with
# the real smartproxy-api and the oftp2 and partner modules:
#
#  1. the site names the listener `key: inside` and `proxy_protocol.trusted`
#     (the balancer's 127.0.0.1); the revision the server receives carries
#     the chain and no key, the client holds the key;
#  2. a partner at 127.0.0.7, allowed from that address only, completes TLS
#     1.3 through HAProxy (the client signs the handshake through the tunnel)
#     and an OFTP2 transfer to the inside server (file compared byte for
#     byte); the server saw the partner's own address behind the balancer;
#  3. the audit record names the partner, the listener and the partner's
#     real source address (127.0.0.7, not the balancer's).
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/partner_lib.sh"
sp_init 180

OFTP2_PEER=$SP_TOP_BUILDDIR/oftp2-peer
sp_require_prog "$SP_API" "$OFTP2_PEER"
sp_need haproxy haproxy
sp_need python3 python3
sp_need curl curl
sp_need certtool gnutls-bin
partner_init oftp2 partner
PKI=$SP_TMP/pki
chmod 600 "$PKI/server.key"   # the client refuses a key file others may read
PARTNER_ID=O0013000000ACME
INSIDE_ID=O0013000000INSIDE
PARTNER_PORT=$(chain_free_port)
LB_PORT=$(chain_free_port)

# ---- the backend: the listener keeps its key inside, behind a balancer ----
chain_api_yaml
cat >"$SP_TMP/site.yaml" <<YAML
listeners:
  - name: partners
    address: "127.0.0.2:$PARTNER_PORT"
    proxy_protocol:
      trusted: [127.0.0.1/32]
    tls:
      certificate_chain: pki/server.pem
      key: inside
partners:
  - odette_id: $PARTNER_ID
    password: ACMEPW
    allowed_networks: [127.0.0.7/32]
YAML
"$SP_API" --config "$SP_TMP/api.yaml" --import "$SP_TMP/site.yaml" >"$SP_TMP/import.log" 2>&1 ||
	{ cat "$SP_TMP/import.log" >&2; sp_fail "site import failed"; }
sp_start api "$SP_API" --config "$SP_TMP/api.yaml" --port-file "$SP_TMP/api.port"
BACKEND_PORT=$(sp_wait_port_file "$SP_TMP/api.port")
api_get() {
	curl -sS --max-time $(sp_time 10) --cacert "$PKI/ca.pem" \
		-H "Authorization: Bearer $(cat "$2")" "https://127.0.0.1:$BACKEND_PORT/$1"
}
api_get v1/config "$SP_TMP/api-client.token" >"$SP_TMP/rendered.json" || sp_fail "GET /v1/config"
python3 - "$SP_TMP/rendered.json" <<'PY' || sp_fail "rendered configuration: $(cat "$SP_TMP/rendered.json")"
import json, sys
raw = open(sys.argv[1]).read()
l = json.loads(raw)["listeners"][0]
assert l["tls"]["key"] == "inside" and "private_key" not in l["tls"], l
assert l["proxy_protocol"]["trusted"] == ["127.0.0.1/32"], l
assert "PRIVATE KEY" not in raw
PY

chain_write_client_conf "$PROXY_ID"
cat >>"$SP_TMP/client.yaml" <<YAML
keyless:
  keys:
    partners: "$PKI/server.key"
YAML
mkdir -p "$SP_TMP/inbox"
sp_start inside "$OFTP2_PEER" listen -v --listen "127.0.0.1:$INSIDE_PORT" --timeout $(sp_time 60) \
	--id "$INSIDE_ID" --password INSIDEPW --dir "$SP_TMP/inbox" --partner "$PARTNER_ID:ACMEPW"
chain_wait_log inside "listening on" 10
chain_start_server
chain_start_client
chain_wait_log client "keyless: the key of listener partners is held here"
chain_wait_log server "opened partner listener partners on 127.0.0.2:$PARTNER_PORT"

# ---- the balancer ----
cat >"$SP_TMP/haproxy.cfg" <<CFG
global
  maxconn 100
defaults
  mode tcp
  timeout connect 2s
  timeout client 60s
  timeout server 60s
frontend oftp2
  bind 127.0.0.1:$LB_PORT
  default_backend dmz
backend dmz
  server a 127.0.0.2:$PARTNER_PORT send-proxy-v2
CFG
haproxy -c -f "$SP_TMP/haproxy.cfg" >"$SP_TMP/haproxy-check.log" 2>&1 ||
	{ cat "$SP_TMP/haproxy-check.log" >&2; sp_hard_error "haproxy refuses its configuration"; }
sp_start haproxy haproxy -db -f "$SP_TMP/haproxy.cfg"
sp_wait_port 127.0.0.1 "$LB_PORT" 20 || sp_hard_error "haproxy does not listen"

# ---- 2. a transfer through the balancer and the keyless listener ----
sp_make_file "$SP_TMP/ORDERS.DAT" $((256 * 1024))
sp_run "$OFTP2_PEER" send --connect "127.0.0.1:$LB_PORT" --source 127.0.0.7 --ca "$PKI/ca.pem" \
	--timeout $(sp_time 30) --id "$PARTNER_ID" --password ACMEPW \
	--partner "$INSIDE_ID:INSIDEPW" --send "$SP_TMP/ORDERS.DAT" --as ORDERS.DAT \
	2>"$SP_TMP/partner.log" || { sp_dump_logs; cat "$SP_TMP/partner.log" >&2; sp_fail "transfer through the balancer failed"; }
sp_cmp "$SP_TMP/ORDERS.DAT" "$SP_TMP/inbox/ORDERS.DAT"
sp_grep "connection from 127.0.0.7:[0-9]* on partners through balancer 127.0.0.1" "$SP_TMP/server.log"
sp_grep "TLS TLS1.3" "$SP_TMP/server.log"
sp_grep "keyless: signed request [0-9]* for listener partners" "$SP_TMP/client.log"
sp_log "256 KiB through HAProxy and a keyless listener, the client signed the handshake"

# ---- 3. the audit names the partner's real address ----
i=0
until api_get "v1/sessions?partner=$PARTNER_ID" "$SP_TMP/admin.token" >"$SP_TMP/sessions.json" &&
	python3 - "$SP_TMP/sessions.json" <<-'PY'
	import json, sys
	sys.exit(0 if json.load(open(sys.argv[1]))["sessions"] else 1)
	PY
do
	[ "$i" -ge $(($(sp_time 20) * 10)) ] && { cat "$SP_TMP/sessions.json" >&2; sp_fail "no audit record"; }
	sleep 0.1; i=$((i + 1))
done
python3 - "$SP_TMP/sessions.json" "$PARTNER_ID" <<'PY' || sp_fail "audit record: $(cat "$SP_TMP/sessions.json")"
import json, sys
recs = json.load(open(sys.argv[1]))["sessions"]
assert len(recs) == 1, recs
r = recs[0]
assert r["source_address"] == "127.0.0.7", r
assert r["partner"] == sys.argv[2] and r.get("listener") == "partners", r
assert r.get("node") == "client", r
PY
sp_log "audit: partner $PARTNER_ID from 127.0.0.7 (its own address, not the balancer's)"
exit 0
