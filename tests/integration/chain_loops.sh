#!/usr/bin/env bash
# chain_loops.sh - smartproxy-server with several session loops (loops: 2,
# then loops: 1): 8 OFTP2 transfers at once cross the DMZ (oftp2-peer on both
# sides, files compared byte for byte), both loops carry sessions (the
# server's "session loop N carried M session(s)" lines at the stop), and
# sessions end every way: the partner resets, the inside refuses (no inside
# server), the TLS handshake times out, a reload (SIGHUP and a new revision)
# during a transfer, and a drain (SIGTERM) that lets a transfer finish (those
# two with relay_peer.py, which pauses half-way: count and SHA-256 compared).
# Last, `loops: auto` under taskset: one allowed CPU, one loop.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_init 400

OFTP2_PEER=$SP_TOP_BUILDDIR/oftp2-peer
sp_require_prog "$OFTP2_PEER"
sp_need python3 python3
PARTNER_ID=O0013000000ACME
INSIDE_ID=O0013000000INSIDE
PARALLEL=8

# start_inside NAME: the inside OFTP2 server, a process per session.
start_inside() {
	rm -rf "$SP_TMP/inbox" "$SP_TMP/$1.port"
	mkdir -p "$SP_TMP/inbox"
	sp_start "$1" "$OFTP2_PEER" listen --parallel --listen "127.0.0.1:$INSIDE_PORT" \
		--timeout $(sp_time 120) --id "$INSIDE_ID" --password INSIDEPW \
		--partner "$PARTNER_ID:ACMEPW" --dir "$SP_TMP/inbox" --port-file "$SP_TMP/$1.port"
	INSIDE_PID=$SP_LAST_PID
	sp_wait_port_file "$SP_TMP/$1.port" >/dev/null
}

# send NAME FILE: one partner session sending FILE (in the background).
send() {
	sp_start "$1" "$OFTP2_PEER" send --connect "127.0.0.1:$PARTNER_PORT" --ca "$SP_TMP/pki/ca.pem" \
		--timeout $(sp_time 120) --id "$PARTNER_ID" --password ACMEPW \
		--partner "$INSIDE_ID:INSIDEPW" --send "$2"
	SEND_PID=$SP_LAST_PID
}

# ended N: wait until the server logged N session ends in all.
ended() {
	local i=0
	until [ "$(grep -c 'INFO session .* ended: ' "$SP_TMP/server.log")" -ge "$1" ]; do
		[ "$i" -ge $(($(sp_time 30) * 10)) ] && { sp_dump_logs; sp_fail "fewer than $1 session ends logged"; }
		sleep 0.1
		i=$((i + 1))
	done
}

# parallel TAG: PARALLEL transfers at once, each file arrives whole.
parallel() {
	local i pids=
	for i in $(seq $PARALLEL); do
		sp_make_file "$SP_TMP/F$1$i" $(((1 + i) * 256 * 1024))
		send "send-$1-$i" "$SP_TMP/F$1$i"
		pids="$pids $SEND_PID"
	done
	for i in $pids; do
		sp_wait "$i" 120 || { sp_dump_logs; sp_fail "a parallel transfer ($1) failed"; }
	done
	for i in $(seq $PARALLEL); do
		sp_cmp "$SP_TMP/F$1$i" "$SP_TMP/inbox/F$1$i"
	done
}

# start LOOPS: the chain with that many session loops.
start() {
	rm -f "$SP_TMP/backend.port"     # the first round's
	CHAIN_LOOPS=$1 CHAIN_DRAIN_TIMEOUT=$(sp_time 60) chain_init
	PARTNER_PORT=$(chain_free_port)
	chain_config "$PARTNER_PORT" 1
	chain_fake_backend
	chain_start_server
	chain_wait_log server "$1 session loop(s)"
	chain_start_client
	chain_wait_log server "revision 1 applied"
	chain_wait_log client "server applied revision 1"
	start_inside "inside-$1"
}

# ---- loops: 2 ----
start 2
parallel A
sp_log "loops 2: $PARALLEL transfers at once, byte for byte"

# The partner resets its connection after the handshake.
python3 - "$PARTNER_PORT" "$SP_TMP/pki/ca.pem" <<-'PY' || sp_fail "reset client failed"
import socket, ssl, struct, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.check_hostname = False
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t = ctx.wrap_socket(s)
t.recv(64)          # the inside's SSRM: the session is relaying
t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
t.close()           # RST
PY
ended $((PARALLEL + 1))

# No inside server: the client cannot open the inside, the session ends.
kill -TERM "$INSIDE_PID"
sp_wait "$INSIDE_PID" 20 >/dev/null
send refused "$SP_TMP/FA1"
sp_wait "$SEND_PID" 60 && sp_fail "a transfer without an inside server succeeded"
chain_wait_log server "inside_unreachable"
ended $((PARALLEL + 2))

# A TCP connection that never starts TLS: the handshake times out (5 s).
exec 5<>"/dev/tcp/127.0.0.1/$PARTNER_PORT"
chain_wait_log server "handshake_timeout" 30
exec 5>&-
ended $((PARALLEL + 3))

# stream NAME SIZE: a partner streams SIZE octets to an inside sink and
# pauses half-way until $SP_TMP/go-NAME exists.
stream() {
	sp_start "sink-$1" python3 "$SP_IT/relay_peer.py" sink "$INSIDE_PORT"
	SINK_PID=$SP_LAST_PID
	chain_wait_log "sink-$1" listening
	sp_start "$1" python3 "$SP_IT/relay_peer.py" stream 127.0.0.1 "$PARTNER_PORT" \
		"$SP_TMP/pki/ca.pem" "$2" "$SP_TMP/go-$1"
	STREAM_PID=$SP_LAST_PID
	chain_wait_log "$1" paused
}
# stream_done NAME: it ends, and the sink got every octet (count, SHA-256).
stream_done() {
	touch "$SP_TMP/go-$1"
	sp_wait "$STREAM_PID" 60 || { sp_dump_logs; sp_fail "$1: the session broke"; }
	sp_wait "$SINK_PID" 60 || { sp_dump_logs; sp_fail "$1: the sink failed"; }
	sent=$(tail -n 1 "$SP_TMP/$1.log")
	got=$(tail -n 1 "$SP_TMP/sink-$1.log")
	[ "$sent" = "$got" ] || sp_fail "$1: sent '$sent' but the inside got '$got'"
}

# Reload during a transfer: SIGHUP and a new revision; every octet arrives.
stream reload $((16 * 1024 * 1024))
kill -HUP "$SERVER_PID"
chain_wait_log server "SIGHUP: pairing file reloaded"
chain_config "$PARTNER_PORT" 2
chain_wait_log server "revision 2 applied" 30
stream_done reload

# Drain: SIGTERM while a transfer runs; it finishes, then the server stops.
stream drain $((16 * 1024 * 1024))
kill -TERM "$SERVER_PID"
chain_wait_log server "draining"
stream_done drain
sp_wait "$SERVER_PID" 30 || { sp_dump_logs; sp_fail "the server did not stop after the drain"; }
chain_stop client "$CLIENT_PID"
for l in 0 1; do
	n=$(sed -n "s/.*session loop $l carried \([0-9]*\) session(s).*/\1/p" "$SP_TMP/server.log")
	[ "${n:-0}" -gt 0 ] || { sp_dump_logs; sp_fail "session loop $l carried no session"; }
	sp_log "loops 2: loop $l carried $n session(s)"
done
sp_grep "reason=outside_closed\|reason=io_error" "$SP_TMP/server.log"
kill -TERM "$BACKEND_PID"; sp_wait "$BACKEND_PID" 20 >/dev/null
mv "$SP_TMP/server.log" "$SP_TMP/server-2.log"

# ---- loops: 1 (the main loop carries the sessions, same messages) ----
start 1
parallel B
kill -TERM "$SERVER_PID"
sp_wait "$SERVER_PID" 30 || { sp_dump_logs; sp_fail "the server (loops 1) did not stop"; }
sp_grep "session loop 0 carried $PARALLEL session(s)" "$SP_TMP/server.log"
chain_stop client "$CLIENT_PID"
sp_log "loops 1: $PARALLEL transfers at once, byte for byte"
kill -TERM "$BACKEND_PID"; sp_wait "$BACKEND_PID" 20 >/dev/null
mv "$SP_TMP/server.log" "$SP_TMP/server-1.log"

# ---- loops: auto counts the CPUs the server may use, not the machine's ----
# As under taskset or systemd's CPUAffinity=: one CPU allowed, one loop (and
# none of the per-loop threads).
sp_need taskset util-linux
CPU=$(taskset -pc $$ | sed -n 's/.*: *\([0-9][0-9]*\).*/\1/p')
[ -n "$CPU" ] || sp_fail "cannot read this shell's CPU affinity"
CHAIN_LOOPS="" chain_init
chain_config "$(chain_free_port)" 1
sp_start server taskset -c "$CPU" "$SP_SERVER" -c "$SP_TMP/server.yaml"
SERVER_PID=$SP_LAST_PID
chain_wait_log server "loops: auto: 1 CPU(s) usable"
chain_wait_log server "1 session loop(s) (the main loop)"
chain_stop server "$SERVER_PID"
mv "$SP_TMP/server.log" "$SP_TMP/server-auto1.log"
# Without the mask: at most what nproc allows (a cgroup CPU quota may lower it).
MAXN=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
chain_start_server
chain_wait_log server "session loop(s)"
N=$(sed -n 's/.*\[sloops_start\] \([0-9]*\) session loop(s).*/\1/p' "$SP_TMP/server.log" | head -n 1)
[ -n "$N" ] && [ "$N" -ge 1 ] && [ "$N" -le "$MAXN" ] ||
	{ sp_dump_logs; sp_fail "loops auto: ${N:-no} session loop(s) with $MAXN CPU(s) allowed"; }
chain_stop server "$SERVER_PID"
sp_log "loops auto: 1 loop on one allowed CPU, $N with $MAXN"
exit 0
