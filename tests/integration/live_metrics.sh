#!/usr/bin/env bash
# live_metrics.sh - live state and metrics through the whole chain (real
# smartproxy-api, server with the oftp2 and partner modules, client with a
# heartbeat of 1 s, oftp2-peer both sides):
#
#  1. a transfer held in the middle (pause_relay.py stops the bytes towards
#     the inside OFTP2 server at 1 MiB, then at 2 MiB) is listed by
#     `smartproxyctl sessions --live` with its partner, listener, state and
#     the file in transfer, and its octets grow from one hold to the next;
#  2. GET /metrics (read token) passes `promtool check metrics`, and its
#     byte, session and latency figures move with the transfer;
#  3. after SIGTERM to the client during the transfer, `smartproxyctl
#     status` says disconnected (the client's last report) and the live list
#     is empty; three heartbeats later status says stale, the live list is
#     marked stale, /metrics says smartproxy_proxy_stale 1, and the backend
#     raised a proxy_stale event;
#  4. the client back: status fresh again (proxy_resumed), the ended session
#     counted by its end reason, and a refused password counted as a
#     refusal (ESID 04 and the security event).
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_init 240

OFTP2_PEER=$SP_TOP_BUILDDIR/oftp2-peer
CTL=$SP_TOP_BUILDDIR/smartproxyctl
LIBS=$SP_TOP_BUILDDIR/.libs
sp_require_prog "$SP_SERVER" "$SP_CLIENT" "$SP_API" "$OFTP2_PEER" "$CTL"
for m in oftp2 partner; do
	[ -f "$LIBS/$m.so" ] || sp_hard_error "module $m.so not built"
done
sp_need python3 python3
sp_need curl curl
sp_need promtool prometheus
PARTNER_ID=O0013000000ACME
INSIDE_ID=O0013000000INSIDE
MIB=1048576

CHAIN_MODULES="modules:
  - name: oftp2
    path: $LIBS/oftp2.so
  - name: partner
    path: $LIBS/partner.so"
CHAIN_HEARTBEAT=1
chain_init
PARTNER_PORT=$(chain_free_port)

# ---- backend: the client's proxy token, an admin and a monitoring token ----
cp "$SP_TMP/token" "$SP_TMP/api-client.token"
echo "admin-token-0123456789abc" >"$SP_TMP/admin.token"
echo "read-token-0123456789abcd" >"$SP_TMP/read.token"
cat >"$SP_TMP/api.yaml" <<YAML
listen: "127.0.0.1:0"
tls:
  certificate: $SP_TMP/pki/server.pem
  key: $SP_TMP/pki/server.key
database: $SP_TMP/api.db
tokens:
  - name: client
    role: proxy
    file: $SP_TMP/api-client.token
  - name: admin
    role: admin
    file: $SP_TMP/admin.token
  - name: monitoring
    role: read
    file: $SP_TMP/read.token
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
      require_client_cert: false
partners:
  - odette_id: $PARTNER_ID
    description: ACME
    password: ACMEPW
    allowed_networks: [127.0.0.0/8]
    tls:
      require_client_cert: false
limits:
  handshake_timeout_ms: 5000
YAML
"$SP_API" --config "$SP_TMP/api.yaml" --import "$SP_TMP/site.yaml" >/dev/null ||
	sp_fail "site import failed"
sp_start api "$SP_API" --config "$SP_TMP/api.yaml" --port-file "$SP_TMP/api.port"
API_PID=$SP_LAST_PID
BACKEND_PORT=$(sp_wait_port_file "$SP_TMP/api.port")
chain_write_client_conf "$PROXY_ID"
export SMARTPROXYCTL_URL=https://127.0.0.1:$BACKEND_PORT/
export SMARTPROXYCTL_TOKEN_FILE=$SP_TMP/read.token SMARTPROXYCTL_CA=$SP_TMP/pki/ca.pem
export SMARTPROXYCTL_RC=/dev/null

# until_ok WHAT SECONDS CMD...: poll CMD (every 0.1 s) until it succeeds.
until_ok() {
	local what=$1 limit=$2 i=0
	shift 2
	until "$@"; do
		[ "$i" -ge $(($(sp_time "$limit") * 10)) ] && { sp_dump_logs; sp_fail "$what"; }
		sleep 0.1; i=$((i + 1))
	done
}
# metrics FILE: scrape with the read token and check the format.
metrics() {
	curl -sS --fail --cacert "$SP_TMP/pki/ca.pem" -H "Authorization: Bearer $(cat "$SP_TMP/read.token")" \
		-D "$1.headers" "https://127.0.0.1:$BACKEND_PORT/metrics" >"$1" ||
		sp_fail "GET /metrics failed"
	grep -qi '^content-type: text/plain; version=0.0.4' "$1.headers" ||
		sp_fail "GET /metrics: not the Prometheus text format: $(cat "$1.headers")"
	promtool check metrics <"$1" >"$1.lint" 2>&1 ||
		{ cat "$1.lint" >&2; sp_fail "promtool check metrics refused $1"; }
}
# value FILE SAMPLE: the value of one sample line ("" when absent).
# value FILE SERIES: the sample of SERIES, a node's from this test's one
# node (the client's token "client") named without its node label.
value() {
	awk -v s="$2" '{ n = $1; if (n ~ /node="/ && !sub(/node="client",?/, "", n)) next; sub(/\{\}/, "", n) } n == s { print $2 }' "$1"
}
# live_json: the live list as JSON into $SP_TMP/live.json.
live_json() { "$CTL" --json sessions --live >"$SP_TMP/live.json" 2>"$SP_TMP/live.err"; }
# live_octets MIN: the one live session carries a file past MIN octets.
live_octets() {
	live_json && python3 - "$SP_TMP/live.json" "$1" <<-'PY'
	import json, sys
	d = json.load(open(sys.argv[1]))
	s = d["sessions"]
	sys.exit(0 if len(s) == 1 and s[0]["file"] and s[0]["file"]["octets"] > int(sys.argv[2]) else 1)
	PY
}
status_says() { "$CTL" status >"$SP_TMP/status.txt" 2>&1 && grep -q "$1" "$SP_TMP/status.txt"; }

# ---- the chain: partner -> server -> client -> pause_relay -> inside ----
mkdir -p "$SP_TMP/inbox" "$SP_TMP/relay"
sp_start inside "$OFTP2_PEER" listen -v --listen 127.0.0.1:0 --port-file "$SP_TMP/inside.port" \
	--once --timeout $(sp_time 120) --id "$INSIDE_ID" --password INSIDEPW \
	--partner "$PARTNER_ID:ACMEPW" --dir "$SP_TMP/inbox"
INSIDE_PID=$SP_LAST_PID
INSIDE_PEER_PORT=$(sp_wait_port_file "$SP_TMP/inside.port")
sp_start relay python3 "$SP_IT/pause_relay.py" "$INSIDE_PORT" "$INSIDE_PEER_PORT" "$SP_TMP/relay" $MIB
sp_wait_file "$SP_TMP/relay/ready" || sp_hard_error "pause_relay.py did not start"
chain_start_server
chain_start_client
chain_wait_log server "opened partner listener" 30
until_ok "status never said connected" 20 status_says "connected: *true"
grep -q "heartbeat: *1000 ms" "$SP_TMP/status.txt" || sp_fail "status: no heartbeat: $(cat "$SP_TMP/status.txt")"
# The report at connect carries no snapshot yet; the first heartbeat does.
at_rest() {
	metrics "$SP_TMP/m0" && [ -n "$(value "$SP_TMP/m0" smartproxy_sessions_active)" ] &&
		[ "$(value "$SP_TMP/m0" smartproxy_proxy_stale)" = 0 ]
}
until_ok "no heartbeat with the server's snapshot" 20 at_rest
[ "$(value "$SP_TMP/m0" smartproxy_proxy_stale)" = 0 ] || sp_fail "stale before anything happened"
[ "$(value "$SP_TMP/m0" smartproxy_tunnel_up)" = 1 ] || sp_fail "tunnel_up not 1"
[ "$(value "$SP_TMP/m0" smartproxy_sessions_active)" = 0 ] || sp_fail "sessions_active not 0 at rest"
[ "$(value "$SP_TMP/m0" smartproxy_config_revision_applied)" = 1 ] || sp_fail "revision applied not 1"
# The proxy's series name the node: the token its client reports with.
grep -q '^smartproxy_tunnel_up{node="client"} 1$' "$SP_TMP/m0" || sp_fail "no node label: $(grep tunnel_up "$SP_TMP/m0")"

# 1. a transfer of 8 MiB, held at 1 MiB and at 2 MiB towards the inside
sp_make_file "$SP_TMP/BIG.DAT" $((8 * MIB))
sp_start partner "$OFTP2_PEER" send --connect "127.0.0.1:$PARTNER_PORT" --ca "$SP_TMP/pki/ca.pem" \
	--timeout $(sp_time 120) --id "$PARTNER_ID" --password ACMEPW --partner "$INSIDE_ID:INSIDEPW" \
	--send "$SP_TMP/BIG.DAT"
sp_wait_file "$SP_TMP/relay/paused.1" 60 || { sp_dump_logs; sp_fail "the transfer never reached 1 MiB"; }
until_ok "the held transfer never showed in sessions --live with progress" 20 live_octets 0
python3 - "$SP_TMP/live.json" "$PARTNER_ID" <<'PY' || { cat "$SP_TMP/live.json" >&2; sp_fail "live session"; }
import json, sys
d = json.load(open(sys.argv[1]))
s = d["sessions"][0]
assert d["stale"] is False and d["connected"] is True and d["sessions_total"] == 1, d
assert s["partner"] == sys.argv[2] and s["via"] == "partners" and s["direction"] == "incoming", s
assert s["state"] == "active" and s["source_address"] == "127.0.0.1" and s["started"].endswith("Z"), s
f = s["file"]
assert f["name"] == "BIG.DAT" and f["direction"] == "from_partner" and f["size_kib"] == 8192, f
assert s["bytes_from_partner"] >= f["octets"] > 0, s
PY
octets1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sessions"][0]["file"]["octets"])' "$SP_TMP/live.json")
"$CTL" sessions --live >"$SP_TMP/live.txt" || sp_fail "sessions --live (table) failed"
grep -q "BIG.DAT from_partner" "$SP_TMP/live.txt" || sp_fail "live table: $(cat "$SP_TMP/live.txt")"
metrics "$SP_TMP/m1"
[ "$(value "$SP_TMP/m1" smartproxy_sessions_active)" = 1 ] || sp_fail "sessions_active not 1 during the transfer"
b0=$(value "$SP_TMP/m0" 'smartproxy_bytes_total{direction="from_partner"}')
b1=$(value "$SP_TMP/m1" 'smartproxy_bytes_total{direction="from_partner"}')
[ "$b1" -gt $((b0 + MIB / 2)) ] || sp_fail "bytes from partner did not move: $b0 -> $b1"

touch "$SP_TMP/relay/go.1"
sp_wait_file "$SP_TMP/relay/paused.2" 60 || { sp_dump_logs; sp_fail "the transfer never reached 2 MiB"; }
until_ok "the live octets did not grow past $octets1" 20 live_octets "$octets1"
octets2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sessions"][0]["file"]["octets"])' "$SP_TMP/live.json")
metrics "$SP_TMP/m2"
b2=$(value "$SP_TMP/m2" 'smartproxy_bytes_total{direction="from_partner"}')
[ "$b2" -gt "$b1" ] || sp_fail "bytes from partner did not move: $b1 -> $b2"
n2=$(value "$SP_TMP/m2" smartproxy_backend_request_duration_seconds_count)
[ "$n2" -gt "$(value "$SP_TMP/m0" smartproxy_backend_request_duration_seconds_count)" ] ||
	sp_fail "backend request count did not move"
sp_log "live: file octets $octets1 then $octets2; bytes from partner $b0 -> $b1 -> $b2"

# 3. SIGTERM the client in the middle of the transfer: its last report says
#    "not connected" at once; its silence makes it stale after three beats.
t0=$(date +%s%N)
chain_stop client "$CLIENT_PID"
until_ok "status never said disconnected after the client stopped" 20 \
	status_says "connected: *\(false\|stale\)"
t1=$(date +%s%N)
live_json || sp_fail "sessions --live failed: $(cat "$SP_TMP/live.err")"
python3 - "$SP_TMP/live.json" <<'PY' || { cat "$SP_TMP/live.json" >&2; sp_fail "live list after the client stopped"; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["connected"] is False and d["sessions"] == [] and d["sessions_total"] is None, d
PY
until_ok "status never said stale after the client stopped" 20 status_says "connected: *stale"
t2=$(date +%s%N)
sp_log "after SIGTERM to the client: disconnected in $(((t1 - t0) / 1000000)) ms," \
	"stale in $(((t2 - t0) / 1000000)) ms (heartbeat 1 s)"
grep -q "sessions: *unknown (stale)" "$SP_TMP/status.txt" || sp_fail "status: $(cat "$SP_TMP/status.txt")"
live_json || sp_fail "sessions --live failed: $(cat "$SP_TMP/live.err")"
python3 - "$SP_TMP/live.json" <<'PY' || { cat "$SP_TMP/live.json" >&2; sp_fail "live list once stale"; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["stale"] is True and d["connected"] is False and d["sessions"] == [], d
PY
metrics "$SP_TMP/m3"
[ "$(value "$SP_TMP/m3" smartproxy_proxy_stale)" = 1 ] || sp_fail "metrics: not stale"
[ "$(value "$SP_TMP/m3" smartproxy_tunnel_up)" = 0 ] || sp_fail "metrics: tunnel still up"
[ -z "$(value "$SP_TMP/m3" smartproxy_sessions_active)" ] || sp_fail "metrics: stale sessions_active shown"
until_ok "no proxy_stale event" 20 sh -c '"$0" events >"$1" 2>&1 && grep -q proxy_stale "$1"' "$CTL" "$SP_TMP/events.txt"

# 4. the client back: fresh again; the cut session counted; a refusal counted
touch "$SP_TMP/relay/go.2" "$SP_TMP/relay/go.3" "$SP_TMP/relay/go.4" "$SP_TMP/relay/go.5" \
	"$SP_TMP/relay/go.6" "$SP_TMP/relay/go.7" "$SP_TMP/relay/go.8"
mv "$SP_TMP/client.log" "$SP_TMP/client.1.log"
chain_start_client
until_ok "status never fresh again" 20 status_says "connected: *true"
until_ok "no proxy_resumed event" 20 sh -c '"$0" events >"$1" 2>&1 && grep -q proxy_resumed "$1"' "$CTL" "$SP_TMP/events.txt"
# A whole file through a new inside server behind the same relay (far below
# its first hold): counted as a file and a normal end.
sp_wait "$INSIDE_PID" 30 >/dev/null 2>&1 || true
sp_start inside2 "$OFTP2_PEER" listen -v --listen "127.0.0.1:$INSIDE_PEER_PORT" \
	--once --timeout $(sp_time 60) --id "$INSIDE_ID" --password INSIDEPW \
	--partner "$PARTNER_ID:ACMEPW" --dir "$SP_TMP/inbox"
INSIDE_PID=$SP_LAST_PID
chain_wait_log inside2 "listening on" 10
sp_make_file "$SP_TMP/SMALL.DAT" 100000
sp_run "$OFTP2_PEER" send --connect "127.0.0.1:$PARTNER_PORT" --ca "$SP_TMP/pki/ca.pem" \
	--timeout $(sp_time 60) --id "$PARTNER_ID" --password ACMEPW --partner "$INSIDE_ID:INSIDEPW" \
	--send "$SP_TMP/SMALL.DAT" 2>"$SP_TMP/small.log" || { sp_dump_logs; sp_fail "the small transfer failed"; }
sp_wait "$INSIDE_PID" 30 || { sp_dump_logs; sp_fail "the second inside server failed"; }
sp_cmp "$SP_TMP/SMALL.DAT" "$SP_TMP/inbox/SMALL.DAT"
sp_run "$OFTP2_PEER" send --connect "127.0.0.1:$PARTNER_PORT" --ca "$SP_TMP/pki/ca.pem" \
	--timeout $(sp_time 30) --id "$PARTNER_ID" --password WRONGPW --partner "$INSIDE_ID:INSIDEPW" \
	--send "$SP_TMP/BIG.DAT" 2>"$SP_TMP/refused.log" && sp_fail "a wrong password was let in"
refusals() {
	metrics "$SP_TMP/m4" &&
	[ -n "$(value "$SP_TMP/m4" 'smartproxy_refusals_total{kind="esid",reason="04"}')" ] &&
	[ -n "$(value "$SP_TMP/m4" 'smartproxy_refusals_total{kind="security",reason="bad_password"}')" ] &&
	[ "$(value "$SP_TMP/m4" smartproxy_sessions_active)" = 0 ]
}
until_ok "the refusal was not counted: $(grep refusals "$SP_TMP/m4" 2>/dev/null)" 20 refusals
[ "$(value "$SP_TMP/m4" 'smartproxy_sessions_ended_total{result="normal"}')" = 1 ] ||
	sp_fail "the whole transfer not counted as a normal end: $(grep ended_total "$SP_TMP/m4")"
[ "$(value "$SP_TMP/m4" 'smartproxy_files_total{direction="from_partner"}')" = 1 ] ||
	sp_fail "the file not counted: $(grep files_total "$SP_TMP/m4")"
[ "$(value "$SP_TMP/m4" 'smartproxy_files_failed_total{direction="from_partner"}')" = 1 ] ||
	sp_fail "the cut file not counted as failed: $(grep files_failed "$SP_TMP/m4")"
[ "$(value "$SP_TMP/m4" smartproxy_sessions_started_total)" -ge 3 ] || sp_fail "sessions_started below 3"
# proxy_stale and proxy_resumed went to the event runner (no script here).
[ "$(value "$SP_TMP/m4" 'smartproxy_event_script_runs_total{outcome="no_script"}')" -ge 2 ] ||
	sp_fail "event runs not counted: $(grep event_script "$SP_TMP/m4")"
[ "$(value "$SP_TMP/m4" smartproxy_tunnel_reconnects_total)" = 0 ] ||
	sp_fail "a new client process counts its own reconnects from 0"

# Roles: no token 401, the proxy token 403 on /metrics and the live list.
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$SP_TMP/pki/ca.pem" "https://127.0.0.1:$BACKEND_PORT/metrics")
[ "$code" = 401 ] || sp_fail "GET /metrics without a token: $code"
for p in metrics v1/sessions/live; do
	code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$SP_TMP/pki/ca.pem" \
		-H "Authorization: Bearer $(cat "$SP_TMP/api-client.token")" "https://127.0.0.1:$BACKEND_PORT/$p")
	[ "$code" = 403 ] || sp_fail "GET /$p with the proxy token: $code"
done

chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
chain_stop api "$API_PID"
exit 0
