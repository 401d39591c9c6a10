#!/usr/bin/env bash
# preauth_fds.sh - descriptor exhaustion and connection floods, driven as an
# attacker would (preauth_drive.py hold):
#
# 1. The server's descriptor limit is lowered to what it uses plus 24
#    (prlimit on the running process, as a low `ulimit -n` would), then 200
#    silent TCP connections are held on the partner port: accept() fails
#    with EMFILE. The listener must pause (one line), not spin, and a valid
#    partner waiting in the backlog gets through once they are released.
# 2. 600 silent connections to the tunnel port from 3 addresses: at most 32
#    per address wait for their handshake (descriptors counted), the rest are
#    refused, and the security lines of each address are summarised after the
#    first 20 ("N more from ADDR in 10 s").
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/partner_lib.sh"
sp_init 240

partner_init oftp2 partner
PKI=$SP_TMP/pki
PARTNER_PORT=$(chain_free_port)
INSIDE_ID=O0013000000INSIDE
DRIVE=$SP_TOP_SRCDIR/tests/integration/preauth_drive.py
# Held connections must stay: no handshake timeout and no session limit
# gets in the way of running out of descriptors.
PARTNER_LIMITS='{"handshake_timeout_ms": 600000, "max_unverified": 1000,
	"max_unverified_per_address": 1000}' \
partner_config "$PARTNER_PORT" "ACME ACMEPW 127.0.0.0/8"
chain_fake_backend
mkdir -p "$SP_TMP/inbox"
sp_start inside "$OFTP2_PEER" listen -v --listen "127.0.0.1:$INSIDE_PORT" --timeout $(sp_time 200) \
	--id "$INSIDE_ID" --password INSIDEPW --dir "$SP_TMP/inbox" --partner ACME:ACMEPW
chain_wait_log inside "listening on" 10
chain_start_server
chain_start_client
chain_wait_log server "revision 1 applied"
sp_make_file "$SP_TMP/FILE" 65536

valid_cmd() {
	"$OFTP2_PEER" send --connect "127.0.0.1:$PARTNER_PORT" --ca "$PKI/ca.pem" \
		--timeout $(sp_time 60) --id ACME --password ACMEPW --partner "$INSIDE_ID:INSIDEPW" \
		--send "$SP_TMP/FILE"
}
nfds() { ls "/proc/$SERVER_PID/fd" | wc -l; }
# CPU time of the server in clock ticks (user + system).
cpu() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }
setfd() { python3 -c 'import resource, sys; p = int(sys.argv[1]); h = resource.prlimit(p, resource.RLIMIT_NOFILE)[1]; resource.prlimit(p, resource.RLIMIT_NOFILE, (int(sys.argv[2]), h))' "$SERVER_PID" "$1"; }
getfd() { python3 -c 'import resource, sys; print(resource.prlimit(int(sys.argv[1]), resource.RLIMIT_NOFILE)[0])' "$SERVER_PID"; }

# Warm: a first session (the client's warm pool is up afterwards).
valid_cmd >"$SP_TMP/valid0.log" 2>&1 || { sp_dump_logs; sp_fail "the valid partner was refused"; }
rm -f "$SP_TMP/inbox/FILE"
chain_wait_log server "session [0-9]* ended"

# ---- 1. out of descriptors on the partner port ----
base=$(nfds)
orig=$(getfd)
setfd $((base + 24))
sp_log "server uses $base descriptors; limit lowered from $orig to $((base + 24))"
cpu0=$(cpu)
t0=$(date +%s.%N)
sp_start hold1 python3 "$DRIVE" hold "$PARTNER_PORT" 200 "$SP_TMP/hold1.ready" "$SP_TMP/hold1.release" \
	127.0.0.2 127.0.0.3
HOLD1_PID=$SP_LAST_PID
sp_wait_file "$SP_TMP/hold1.ready" 60
chain_wait_log server "accept on partner listener partners on 127.0.0.1:$PARTNER_PORT: Too many open files; pausing it"
# The valid partner now waits in the backlog.
sp_start valid1 valid_cmd
VALID1_PID=$SP_LAST_PID
# The attack's duration (not a proof of anything by itself): the listener
# stays out of descriptors this long before the connections are released.
sleep 2
touch "$SP_TMP/hold1.release"
chain_wait_log server "accepting on partner listener partners on 127.0.0.1:$PARTNER_PORT again after" 60
sp_wait "$VALID1_PID" 60 || { sp_dump_logs; sp_fail "the valid partner did not get through after the shortage"; }
sp_cmp "$SP_TMP/FILE" "$SP_TMP/inbox/FILE"
rm -f "$SP_TMP/inbox/FILE"
t1=$(date +%s.%N)
cpu1=$(cpu)
sp_wait "$HOLD1_PID" 30 || true
nemfile=$(grep -c "Too many open files" "$SP_TMP/server.log")
bytes=$(grep "Too many open files" "$SP_TMP/server.log" | wc -c)
tick=$(getconf CLK_TCK)
sp_log "phase 1: $(cat "$SP_TMP/hold1.ready"); $(grep -o 'again after .*' "$SP_TMP/server.log" | head -1);" \
	"$nemfile 'Too many open files' lines ($bytes bytes);" \
	"server CPU $(awk "BEGIN { printf \"%.2f\", ($cpu1 - $cpu0) / $tick }") s over" \
	"$(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s"
[ "$nemfile" -le 3 ] || sp_fail "phase 1: $nemfile lines for one shortage: the accept loop spins"
setfd "$orig"

# ---- 2. a flood of silent connections on the tunnel port ----
base=$(nfds)
sp_start hold2 python3 "$DRIVE" hold "$TUNNEL_PORT" 600 "$SP_TMP/hold2.ready" "$SP_TMP/hold2.release" \
	127.0.0.5 127.0.0.6 127.0.0.7
HOLD2_PID=$SP_LAST_PID
sp_wait_file "$SP_TMP/hold2.ready" 60
for a in 127.0.0.5 127.0.0.6 127.0.0.7; do
	chain_wait_log server "tunnel: refused a connection from $a: 32 handshakes from this address is the limit"
done
held=$(nfds)
sp_log "phase 2: $(cat "$SP_TMP/hold2.ready"); server descriptors $base before, $held while held"
[ "$held" -le $((base + 3 * 32 + 24)) ] || sp_fail "phase 2: $((held - base)) descriptors for silent tunnel connections"
# The security lines of each address: the first 20, then one summary.
for a in 127.0.0.5 127.0.0.6 127.0.0.7; do
	chain_wait_log server "WARN security \[burst_report\] [0-9]* more from $a in 10 s" 30
	n=$(grep -c "tunnel_limit from $a\|refused a connection from $a" "$SP_TMP/server.log")
	sp_log "phase 2: $a: $n lines, then: $(grep -o "[0-9]* more from $a in 10 s" "$SP_TMP/server.log" | head -1)"
	w=$(grep -c "more from $a in 10 s" "$SP_TMP/server.log")
	[ "$n" -le $((20 * w)) ] || sp_fail "phase 2: $n security lines from $a in $w window(s)"
done
touch "$SP_TMP/hold2.release"
sp_wait "$HOLD2_PID" 30 || true
# The paired client still works.
valid_cmd >"$SP_TMP/valid2.log" 2>&1 || { sp_dump_logs; sp_fail "the valid partner was refused after the tunnel flood"; }
sp_cmp "$SP_TMP/FILE" "$SP_TMP/inbox/FILE"

chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
exit 0
