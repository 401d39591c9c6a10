#!/usr/bin/env bash
# ha_balancer.sh - the reference high-availability layout (docs/deployment.md):
# HAProxy on 127.0.0.1 in front of two DMZ nodes (smartproxy-server on
# 127.0.0.2 and 127.0.0.3, the same revision, each with its own paired
# client and Proxy ID), one smartproxy-api behind both clients, `send-proxy-v2`
# to listeners with `proxy_protocol: {trusted: [127.0.0.1/32]}`.
#
#  1. both nodes apply the same revision; GET /v1/status lists both nodes,
#     each with its own heartbeat freshness (stale false, age_ms);
#  2. transfers from a partner at 127.0.0.7 (allowed from it and from
#     192.0.2.0/24 only, which only step 3's headers carry) spread over
#     both nodes; every audit record carries the node and the partner's
#     real address; the same partner from 127.0.0.8 is refused
#     (address_not_allowed src=127.0.0.8): the checks see the real source;
#  3. the listener refuses what did not come through the balancer: a direct
#     connection from 127.0.0.9 (proxy_untrusted), a trusted one without a
#     header (TLS at once: proxy_header_bad) and a silent one
#     (proxy_header_missing, closed after the handshake timeout); a v1 and
#     a v2 header sent in pieces are read without eating the ClientHello;
#     the per-address pre-auth limit counts the address the header carries
#     (the 9th unverified session for 192.0.2.10 refused, 192.0.2.11 let in);
#  4. with sessions running on both nodes, the backend's live list shows
#     each node's sessions, each naming its node, merged into one list, and
#     /metrics counts them per node (label node); node A is killed
#     (SIGKILL): only A's sessions end, B's stay open, new transfers all go
#     to B, and the backend hears of it (node A disconnected in /v1/status,
#     a node_lost event that names node dmz-a);
#  5. node A's client stops too: node A alone turns stale while B reports
#     on (proxy_stale naming dmz-a, smartproxy_proxy_stale{node="dmz-a"} 1
#     and {node="dmz-b"} 0, the live list's nodes say which is stale).
# Figures printed (docs/deployment.md): sessions/s through the balancer,
# failover time (kill to the first transfer completed after it).
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_init 300

OFTP2_PEER=$SP_TOP_BUILDDIR/oftp2-peer
LIBS=$SP_TOP_BUILDDIR/.libs
sp_require_prog "$SP_SERVER" "$SP_CLIENT" "$SP_API" "$OFTP2_PEER"
sp_need haproxy haproxy
sp_need python3 python3
sp_need curl curl
for m in oftp2 partner; do
	[ -f "$LIBS/$m.so" ] || sp_hard_error "module $m.so not built"
done
PARTNER_ID=O0013000000ACME
INSIDE_ID=O0013000000INSIDE
D=$SP_TMP
make_certs "$D/pki"
PARTNER_PORT=$(chain_free_port)
LB_PORT=$(chain_free_port)

# ---- backend: one api, a token per DMZ node's client ----
echo "node-a-token-0123456789abcdef" >"$D/a.token"
echo "node-b-token-0123456789abcdef" >"$D/b.token"
echo "read-token-0123456789abcdef" >"$D/read.token"
chmod 600 "$D"/*.token
cat >"$D/api.yaml" <<YAML
listen: "127.0.0.1:0"
tls:
  certificate: $D/pki/server.pem
  key: $D/pki/server.key
database: $D/api.db
tokens:
  - name: dmz-a
    role: proxy
    file: $D/a.token
  - name: dmz-b
    role: proxy
    file: $D/b.token
  - name: monitor
    role: read
    file: $D/read.token
logging:
  level: info
  targets:
    - type: stderr
YAML
cat >"$D/site.yaml" <<YAML
listeners:
  - name: partners
    address: "0.0.0.0:$PARTNER_PORT"
    proxy_protocol:
      trusted: [127.0.0.1/32]
    tls:
      certificate_chain: pki/server.pem
      private_key: pki/server.key
partners:
  - odette_id: $PARTNER_ID
    description: ACME
    password: ACMEPW
    allowed_networks: [127.0.0.7/32, 192.0.2.0/24]
limits:
  handshake_timeout_ms: 4000
  ssid_timeout_ms: 300000
  max_sessions_per_address: 1000
YAML
"$SP_API" --config "$D/api.yaml" --import "$D/site.yaml" >"$D/import.log" 2>&1 ||
	{ cat "$D/import.log" >&2; sp_fail "site import failed"; }
sp_start api "$SP_API" --config "$D/api.yaml" --port-file "$D/api.port"
BACKEND_PORT=$(sp_wait_port_file "$D/api.port")
api_get() {
	curl -sS --max-time $(sp_time 10) --cacert "$D/pki/ca.pem" \
		-H "Authorization: Bearer $(cat "$D/read.token")" "https://127.0.0.1:$BACKEND_PORT/$1"
}

# ---- two DMZ nodes, each with its own client ----
declare -A HOST=([a]=127.0.0.2 [b]=127.0.0.3) SPID CPID INSIDE
for n in a b; do
	mkdir -p "$D/$n/server-state" "$D/$n/client-state" "$D/$n/inbox"
	tport=$(chain_free_port)
	cat >"$D/$n/server.yaml" <<-YAML
	tunnel:
	  listen: 127.0.0.1:$tport
	state_dir: $D/$n/server-state
	pairing_file: $D/$n/pairing
	partner_host: ${HOST[$n]}
	user: $(id -un)
	modules:
	  - name: oftp2
	    path: $LIBS/oftp2.so
	  - name: partner
	    path: $LIBS/partner.so
	logging:
	  level: debug
	  targets:
	    - type: stderr
	YAML
	pid=$("$SP_SERVER" -c "$D/$n/server.yaml" -L | sed -n 's/^Proxy ID: //p')
	[ ${#pid} -eq 64 ] || sp_hard_error "no Proxy ID for node $n"
	INSIDE[$n]=$(chain_free_port)
	cat >"$D/$n/client.yaml" <<-YAML
	server:
	  address: 127.0.0.1:$tport
	  proxy_id: $pid
	backend:
	  url: https://127.0.0.1:$BACKEND_PORT/
	  token_file: $D/$n.token
	  ca_file: $D/pki/ca.pem
	  heartbeat: 1
	inside:
	  address: 127.0.0.1:${INSIDE[$n]}
	state_dir: $D/$n/client-state
	logging:
	  level: debug
	  targets:
	    - type: stderr
	YAML
	"$SP_CLIENT" -c "$D/$n/client.yaml" --pairing-line >"$D/$n/pairing" ||
		sp_hard_error "pairing line for node $n"
	# The inside OFTP2 server of this node (sequential sessions).
	sp_start inside-$n "$OFTP2_PEER" listen --listen "127.0.0.1:${INSIDE[$n]}" \
		--timeout $(sp_time 60) --id "$INSIDE_ID" --password INSIDEPW \
		--partner "$PARTNER_ID:ACMEPW" --dir "$D/$n/inbox"
	sp_start server-$n "$SP_SERVER" -c "$D/$n/server.yaml"
	SPID[$n]=$SP_LAST_PID
	chain_wait_log server-$n "listening for the client"
	sp_start client-$n "$SP_CLIENT" -c "$D/$n/client.yaml"
	CPID[$n]=$SP_LAST_PID
done
for n in a b; do
	chain_wait_log server-$n "opened partner listener partners on ${HOST[$n]}:$PARTNER_PORT" 30
done

# 1. the same revision on both nodes, and both in the backend's status.
ra=$(sed -n 's/.*revision \([0-9]*\) applied.*/\1/p' "$D/server-a.log" | tail -1)
rb=$(sed -n 's/.*revision \([0-9]*\) applied.*/\1/p' "$D/server-b.log" | tail -1)
[ -n "$ra" ] && [ "$ra" = "$rb" ] || sp_fail "nodes applied revisions '$ra' and '$rb'"
nodes_ok() {
	api_get v1/status >"$D/status.json" && python3 - "$D/status.json" "$@" <<-'PY'
	import json, sys
	doc = json.load(open(sys.argv[1]))
	nodes = {n["node"]: n["status"] for n in doc.get("nodes") or []}
	fresh = {n["node"]: n.get("stale") is False and n.get("age_ms", -1) >= 0
	         for n in doc.get("nodes") or []}
	for want in sys.argv[2:]:
	    name, connected, rev = want.split(":")
	    st = nodes.get(name)
	    # Each node's report judged on its own (heartbeat): a live client's is fresh.
	    if st is None or st.get("connected") != (connected == "up") or not fresh[name]:
	        sys.exit(1)
	    if rev and st.get("revision_applied") != int(rev):
	        sys.exit(1)
	PY
}
i=0
until nodes_ok "dmz-a:up:$ra" "dmz-b:up:$ra"; do
	[ "$i" -ge $(($(sp_time 20) * 10)) ] && { cat "$D/status.json" >&2; sp_fail "status: both nodes up at revision $ra"; }
	sleep 0.1; i=$((i + 1))
done

# ---- the balancer ----
cat >"$D/haproxy.cfg" <<CFG
global
  maxconn 500
defaults
  mode tcp
  timeout connect 2s
  timeout client 300s
  timeout server 300s
  retries 3
  option redispatch
frontend oftp2
  bind 127.0.0.1:$LB_PORT
  default_backend dmz
backend dmz
  balance roundrobin
  server a ${HOST[a]}:$PARTNER_PORT send-proxy-v2 check inter 200ms fall 1 rise 1
  server b ${HOST[b]}:$PARTNER_PORT send-proxy-v2 check inter 200ms fall 1 rise 1
CFG
haproxy -c -f "$D/haproxy.cfg" >"$D/haproxy-check.log" 2>&1 ||
	{ cat "$D/haproxy-check.log" >&2; sp_hard_error "haproxy refuses its configuration"; }
sp_start haproxy haproxy -db -f "$D/haproxy.cfg"
# Wait for it from 127.0.0.6: a partner to the nodes (an address_not_allowed
# there), never the balancer's own address.
python3 - "$LB_PORT" <<'PY' || sp_hard_error "haproxy does not listen"
import os, socket, sys, time
end = time.time() + 20 * int(os.environ.get("SP_TIME_FACTOR", "1"))
while True:
    s = socket.socket(); s.bind(("127.0.0.6", 0))
    try:
        s.connect(("127.0.0.1", int(sys.argv[1]))); break
    except OSError:
        s.close()
        if time.time() > end: sys.exit(1)
        time.sleep(0.1)
PY

send() {   # send SOURCE FILE: one transfer through the balancer
	"$OFTP2_PEER" send --connect "127.0.0.1:$LB_PORT" --source "$1" --ca "$D/pki/ca.pem" \
		--timeout $(sp_time 30) --id "$PARTNER_ID" --password ACMEPW \
		--partner "$INSIDE_ID:INSIDEPW" --send "$2" --as "$(basename "$2")" 2>>"$D/partner.log"
}

# 2. transfers from 127.0.0.7 spread over both nodes.
N=20
t0=$(date +%s.%N)
for k in $(seq 1 $N); do
	sp_make_file "$D/F$k" 2000
	sp_run send 127.0.0.7 "$D/F$k" || { sp_dump_logs; sp_fail "transfer $k through the balancer failed"; }
done
t1=$(date +%s.%N)
ca=0 cb=0
for k in $(seq 1 $N); do
	if [ -f "$D/a/inbox/F$k" ]; then sp_cmp "$D/F$k" "$D/a/inbox/F$k"; ca=$((ca + 1))
	elif [ -f "$D/b/inbox/F$k" ]; then sp_cmp "$D/F$k" "$D/b/inbox/F$k"; cb=$((cb + 1))
	else sp_fail "F$k reached neither inside server"; fi
done
[ "$ca" -gt 0 ] && [ "$cb" -gt 0 ] || sp_fail "sessions not spread: $ca on node a, $cb on node b"
grep -q "connection from 127.0.0.7:[0-9]* on partners through balancer 127.0.0.1" "$D/server-a.log" ||
	sp_fail "node a did not see the partner's own address"
rate=$(python3 -c "print('%.1f' % ($N / ($t1 - $t0)))")
sp_log "figure: $N sequential transfers through the balancer: $ca on node a, $cb on node b, $rate sessions/s"

# Audit: every record names its node and the partner's real address.
i=0
until api_get "v1/sessions?limit=1000" >"$D/sessions.json" &&
	python3 - "$D/sessions.json" "$N" <<-'PY'
	import json, sys
	recs = json.load(open(sys.argv[1]))["sessions"]
	sys.exit(0 if len([r for r in recs if r.get("source_address") == "127.0.0.7"]) >= int(sys.argv[2]) else 1)
	PY
do
	[ "$i" -ge $(($(sp_time 20) * 10)) ] && { cat "$D/sessions.json" >&2; sp_fail "fewer than $N audit records"; }
	sleep 0.1; i=$((i + 1))
done
python3 - "$D/sessions.json" "$ca" "$cb" <<'PY' || sp_fail "audit records"
import json, sys
recs = json.load(open(sys.argv[1]))["sessions"]
by = {}
for r in recs:
    if r.get("source_address") == "127.0.0.6":
        continue            # the readiness probe: refused, as it should be
    if r.get("source_address") != "127.0.0.7":
        sys.exit("record with source %r: %r" % (r.get("source_address"), r))
    by[r.get("node")] = by.get(r.get("node"), 0) + 1
if by != {"dmz-a": int(sys.argv[2]), "dmz-b": int(sys.argv[3])}:
    sys.exit("records by node: %r" % by)
PY

# Optional (HA_BENCH_SECONDS=S): the set-up rate through the balancer with
# bench-load, concurrent OFTP2 starts and ends from 127.0.0.7 (a measurement
# for docs/deployment.md, not an assertion).
if [ -n "${HA_BENCH_SECONDS:-}" ] && [ -x "$SP_TOP_BUILDDIR/bench/bench-load" ]; then
	"$SP_TOP_BUILDDIR/bench/bench-load" rate --connect "127.0.0.1:$LB_PORT" --ca "$D/pki/ca.pem" \
		--conns "${HA_BENCH_CONNS:-4}" --seconds "$HA_BENCH_SECONDS" --oftp2 "$PARTNER_ID:ACMEPW" \
		--bind 127.0.0.7 >"$D/bench.out" 2>&1 || { cat "$D/bench.out" >&2; sp_fail "bench-load rate"; }
	sp_log "figure: bench-load rate through the balancer: $(tail -1 "$D/bench.out")"
fi

# The partner from an address it is not allowed from: refused on the real one.
sp_make_file "$D/X" 100
send 127.0.0.8 "$D/X" && sp_fail "a transfer from 127.0.0.8 got through"
grep -hq 'WARN security .*address_not_allowed from 127.0.0.8: .* event=address_not_allowed src=127.0.0.8' \
	"$D/server-a.log" "$D/server-b.log" || { sp_dump_logs; sp_fail "no address_not_allowed for 127.0.0.8"; }
grep -hq 'address_not_allowed.*127\.0\.0\.1' "$D/server-a.log" "$D/server-b.log" &&
	sp_fail "a refusal named the balancer's address"

# 3. what did not come through the balancer.
python3 - "${HOST[a]}" "$PARTNER_PORT" "$D/pki/ca.pem" <<'PY' || sp_fail "direct connections"
import os, socket, ssl, sys, time
host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tf = int(os.environ.get("SP_TIME_FACTOR", "1"))
def closed_by_peer(s, limit):
    s.settimeout(limit)
    try:
        while s.recv(4096):
            pass
    except ConnectionResetError:
        pass
# From an untrusted address: closed before anything is read.
s = socket.socket(); s.bind(("127.0.0.9", 0)); s.connect((host, port))
closed_by_peer(s, 10 * tf)
# Trusted, but TLS at once instead of a header.
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.connect((host, port))
try:
    ssl.create_default_context(cafile=ca).wrap_socket(s, server_hostname="127.0.0.1")
    sys.exit("TLS without a PROXY header succeeded")
except (ssl.SSLError, OSError):
    pass
# Trusted and silent: the node closes it when the handshake timeout is up.
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.connect((host, port))
closed_by_peer(s, 30 * tf)
PY
# A header that arrives in pieces (v1 in three, v2 byte by byte) is read
# without taking a byte of the ClientHello behind it: TLS and the SSRM follow.
python3 - "${HOST[a]}" "$PARTNER_PORT" "$D/pki/ca.pem" <<'PY' || sp_fail "PROXY header in pieces"
import os, socket, ssl, struct, sys, time
host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tf = int(os.environ.get("SP_TIME_FACTOR", "1"))
v1 = b"PROXY TCP4 127.0.0.7 %s 40001 %d\r\n" % (host.encode(), port)
v2 = (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" + socket.inet_aton("127.0.0.7") +
      socket.inet_aton(host) + struct.pack(">HH", 40002, port))
for pieces in ([v1[:5], v1[5:20], v1[20:]], [v2[i:i + 1] for i in range(len(v2))]):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.settimeout(20 * tf)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.connect((host, port))
    for p in pieces:
        s.sendall(p)
        time.sleep(0.005)   # pacing only: separate segments, not a wait for anything
    t = ssl.create_default_context(cafile=ca).wrap_socket(s, server_hostname="127.0.0.1")
    if not t.recv(64):
        sys.exit("no SSRM after the header")
    t.close()
PY
sp_grep 'connection from 127.0.0.7:40001 on partners through balancer 127.0.0.1' "$D/server-a.log"
sp_grep 'connection from 127.0.0.7:40002 on partners through balancer 127.0.0.1' "$D/server-a.log"
sp_grep 'WARN security .*proxy_untrusted from 127.0.0.9: not a trusted balancer of listener partners' "$D/server-a.log"
sp_grep 'WARN security .*proxy_header_bad from 127.0.0.1: not a valid PROXY header on listener partners' "$D/server-a.log"
sp_grep 'WARN security .*proxy_header_missing from 127.0.0.1: no complete PROXY header within 4000 ms' "$D/server-a.log"
# Admission (admit.c) counts the address the header carries, not the
# balancer's: 8 (max_unverified_per_address) sessions held at the SSRM for
# 192.0.2.10, the 9th for it is refused before TLS; one for 192.0.2.11 still
# gets through, though all of them come from the one balancer 127.0.0.1.
python3 - "${HOST[a]}" "$PARTNER_PORT" "$D/pki/ca.pem" <<'PY' || { sp_dump_logs; sp_fail "admission by carried address"; }
import os, socket, ssl, sys
host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tf = int(os.environ.get("SP_TIME_FACTOR", "1"))
ctx = ssl.create_default_context(cafile=ca)
def session(src, sport):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.settimeout(20 * tf)
    s.connect((host, port))
    s.sendall(b"PROXY TCP4 %s %s %d %d\r\n" % (src.encode(), host.encode(), sport, port))
    t = ctx.wrap_socket(s, server_hostname="127.0.0.1")
    if not t.recv(64):
        raise OSError("no SSRM")
    return t
held = [session("192.0.2.10", 41000 + k) for k in range(8)]
try:
    session("192.0.2.10", 41008)
    sys.exit("a 9th session for 192.0.2.10 was admitted")
except (ssl.SSLError, OSError):
    pass
held.append(session("192.0.2.11", 41009))
for t in held:
    t.close()
PY
sp_grep 'WARN security .*address_limit from 192.0.2.10: 8 sessions from this address without a verified partner is the limit' "$D/server-a.log"
sp_grep 'connection from 192.0.2.11:41009 on partners through balancer 127.0.0.1' "$D/server-a.log"
grep -q 'address_limit from 127.0.0.1' "$D/server-a.log" && sp_fail "a limit counted the balancer's address"

# 4. sessions running on both nodes; node a dies.
python3 "$SP_IT/ha_hold.py" 127.0.0.7 "$LB_PORT" "$D/pki/ca.pem" 6 "$D/held" "$D/go" "$D/held.out" \
	>"$D/hold.log" 2>&1 &
HOLD=$!
sp_wait_file "$D/held" 60 || { sp_dump_logs; sp_fail "sessions not held open"; }
: >"$D/go.a"
held_a=0 held_b=0
while read -r p; do
	if grep -q "connection from 127.0.0.7:$p on" "$D/server-a.log"; then
		echo "$p" >>"$D/go.a"; held_a=$((held_a + 1))
	elif grep -q "connection from 127.0.0.7:$p on" "$D/server-b.log"; then
		held_b=$((held_b + 1))
	else
		sp_fail "held session from port $p on neither node"
	fi
done <"$D/held"
[ "$held_a" -gt 0 ] && [ "$held_b" -gt 0 ] || sp_fail "held sessions: $held_a on a, $held_b on b"
# The backend's view of them: one live list of both nodes' sessions, and
# per-node gauges (each client reports every second).
live_both() {
	api_get v1/sessions/live >"$D/live.json" && api_get metrics >"$D/metrics.txt" &&
		python3 - "$D/live.json" "$D/metrics.txt" "$held_a" "$held_b" <<-'PY'
	import json, re, sys
	d = json.load(open(sys.argv[1]))
	want = {"dmz-a": int(sys.argv[3]), "dmz-b": int(sys.argv[4])}
	held = {}
	for s in d["sessions"]:
	    if s.get("source_address") == "127.0.0.7":
	        held[s["node"]] = held.get(s["node"], 0) + 1
	if held != want:
	    sys.exit(1)
	assert d["stale"] is False and d["connected"] is True, d
	assert d["sessions_total"] == len(d["sessions"]), d
	nodes = {n["node"]: n for n in d["nodes"]}
	assert sorted(nodes) == ["dmz-a", "dmz-b"], d["nodes"]
	for name, n in nodes.items():
	    assert n["stale"] is False and n["connected"] is True, n
	    assert n["sessions_total"] == len([s for s in d["sessions"] if s["node"] == name]), d
	m = {}
	for line in open(sys.argv[2]):
	    r = re.match(r'smartproxy_sessions_active\{node="([^"]*)"\} (\d+)$', line.strip())
	    if r:
	        m[r.group(1)] = int(r.group(2))
	if m != {k: held[k] for k in held}:
	    sys.exit(1)
	PY
}
i=0
until live_both; do
	[ "$i" -ge $(($(sp_time 20) * 10)) ] && { cat "$D/live.json" "$D/metrics.txt" >&2; sp_fail "live list / metrics per node"; }
	sleep 0.1; i=$((i + 1))
done
SMARTPROXYCTL_URL=https://127.0.0.1:$BACKEND_PORT/ SMARTPROXYCTL_TOKEN_FILE=$D/read.token \
	SMARTPROXYCTL_CA=$D/pki/ca.pem SMARTPROXYCTL_RC=/dev/null \
	"$SP_TOP_BUILDDIR/smartproxyctl" sessions --live >"$D/live.txt" 2>&1 || sp_fail "smartproxyctl sessions --live"
[ "$(grep -c '^dmz-a .* 127\.0\.0\.7 ' "$D/live.txt")" -eq "$held_a" ] &&
	[ "$(grep -c '^dmz-b .* 127\.0\.0\.7 ' "$D/live.txt")" -eq "$held_b" ] ||
	{ cat "$D/live.txt" >&2; sp_fail "sessions --live: not $held_a on dmz-a and $held_b on dmz-b"; }
sp_log "live list: $held_a sessions on dmz-a and $held_b on dmz-b, /metrics per node"
tk=$(date +%s.%N)
kill -KILL "${SPID[a]}"
sp_wait "${SPID[a]}" 10 >/dev/null
sp_forget_pid "${SPID[a]}"
mv "$D/go.a" "$D/go"
wait "$HOLD" || { cat "$D/hold.log" >&2; sp_fail "held sessions of the killed node did not end"; }
grep -q ' open$' "$D/held.out" || sp_fail "no held session left open"
[ "$(grep -c ' open$' "$D/held.out")" -eq "$held_b" ] ||
	{ cat "$D/held.out" >&2; sp_fail "node b's sessions did not all survive"; }
# New transfers: all on node b. The first one measures the failover.
M=6
for k in $(seq 1 $M); do
	sp_make_file "$D/G$k" 2000
	sp_run send 127.0.0.7 "$D/G$k" || { sp_dump_logs; sp_fail "transfer $k after the failover failed"; }
	[ "$k" -eq 1 ] && tf=$(date +%s.%N)
	sp_cmp "$D/G$k" "$D/b/inbox/G$k"
done
fail_ms=$(python3 -c "print(int(($tf - $tk) * 1000))")
sp_log "figure: node a killed with $held_a sessions of $((held_a + held_b)) running; $held_b on node b stayed open;" \
	"first transfer after the kill completed in $fail_ms ms; $M of $M on node b"
if [ -n "${HA_BENCH_SECONDS:-}" ] && [ -x "$SP_TOP_BUILDDIR/bench/bench-load" ]; then
	"$SP_TOP_BUILDDIR/bench/bench-load" rate --connect "127.0.0.1:$LB_PORT" --ca "$D/pki/ca.pem" \
		--conns "${HA_BENCH_CONNS:-4}" --seconds "$HA_BENCH_SECONDS" --oftp2 "$PARTNER_ID:ACMEPW" \
		--bind 127.0.0.7 >"$D/bench1.out" 2>&1 || { cat "$D/bench1.out" >&2; sp_fail "bench-load rate"; }
	sp_log "figure: bench-load rate through the balancer, node b alone: $(tail -1 "$D/bench1.out")"
fi
# The backend hears of it: node a disconnected, a node_lost event.
i=0
until nodes_ok "dmz-a:down:" "dmz-b:up:$ra"; do
	[ "$i" -ge $(($(sp_time 20) * 10)) ] && { cat "$D/status.json" >&2; sp_fail "status: node a down, b up"; }
	sleep 0.1; i=$((i + 1))
done
SMARTPROXYCTL_URL=https://127.0.0.1:$BACKEND_PORT/ SMARTPROXYCTL_TOKEN_FILE=$D/read.token \
	SMARTPROXYCTL_CA=$D/pki/ca.pem SMARTPROXYCTL_RC=/dev/null \
	"$SP_TOP_BUILDDIR/smartproxyctl" status >"$D/ctl-status.txt" 2>&1 || sp_fail "smartproxyctl status"
sp_grep '^node dmz-a  *connected false' "$D/ctl-status.txt"
sp_grep "^node dmz-b  *connected true, server 127.0.0.1:[0-9]*, revision $ra," "$D/ctl-status.txt"
i=0
until api_get "v1/events" >"$D/events.json" && grep -q '"type": *"node_lost"' "$D/events.json"; do
	[ "$i" -ge $(($(sp_time 20) * 10)) ] && { cat "$D/events.json" >&2; sp_fail "no node_lost event"; }
	sleep 0.1; i=$((i + 1))
done
python3 - "$D/events.json" <<'PY' || { cat "$D/events.json" >&2; sp_fail "events: nodes"; }
import json, sys
ev = json.load(open(sys.argv[1]))["events"]
lost = [e for e in ev if e["type"] == "node_lost"]
# Posted by node a's client with its token: the backend names the node.
assert lost and all(e["node"] == "dmz-a" for e in lost), lost
PY
sp_log "node a reported lost: $(python3 -c 'import json,sys; print([e["message"] for e in json.load(open(sys.argv[1]))["events"] if e["type"]=="node_lost"][0])' "$D/events.json")"

# 5. node a's client stops: node a alone goes stale, b reports on.
chain_stop client-a "${CPID[a]}"
stale_a() {
	api_get v1/events >"$D/events.json" && api_get metrics >"$D/metrics.txt" &&
		api_get v1/sessions/live >"$D/live.json" &&
		python3 - "$D/events.json" "$D/metrics.txt" "$D/live.json" <<-'PY'
	import json, sys
	ev = json.load(open(sys.argv[1]))["events"]
	stale = [e for e in ev if e["type"] == "proxy_stale"]
	if not stale:
	    sys.exit(1)
	assert all(e["node"] == "dmz-a" for e in stale), stale
	m = open(sys.argv[2]).read().splitlines()
	assert 'smartproxy_proxy_stale{node="dmz-a"} 1' in m and \
	    'smartproxy_proxy_stale{node="dmz-b"} 0' in m, [l for l in m if "stale" in l]
	assert 'smartproxy_tunnel_up{node="dmz-b"} 1' in m, [l for l in m if "tunnel_up" in l]
	d = json.load(open(sys.argv[3]))
	nodes = {n["node"]: n for n in d["nodes"]}
	assert nodes["dmz-a"]["stale"] is True and nodes["dmz-b"]["stale"] is False, d
	assert d["stale"] is False and d["connected"] is True, d
	assert all(s["node"] == "dmz-b" for s in d["sessions"]), d
	PY
}
i=0
until stale_a; do
	[ "$i" -ge $(($(sp_time 20) * 10)) ] && { cat "$D/events.json" "$D/metrics.txt" >&2; sp_fail "node a not stale alone"; }
	sleep 0.1; i=$((i + 1))
done
sp_grep "proxy stale: node dmz-a sent no status report" "$D/api.log"
sp_log "node a's client stopped: proxy_stale for dmz-a alone, dmz-b fresh"
chain_stop server-b "${SPID[b]}"
exit 0
