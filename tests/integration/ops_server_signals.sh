#!/usr/bin/env bash
# ops_server_signals.sh - smartproxy-server on signals. SIGHUP: the server
# stays up, re-reads the pairing file (a key added is counted), reopens its
# log file after a logrotate moved it (the new file gets the reload line,
# the moved one not), says so, and a session works afterwards. SIGTERM with a
# transfer in flight: the partner port closes at once, the file completes
# byte for byte, then the server exits 0. A second SIGTERM while draining
# ends the session at once with ESID 05 on both sides.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/oftp2_lib.sh"
sp_init 300

mkdir -p "$SP_TMP/logs"
CHAIN_LOG_DIR=$SP_TMP/logs
CHAIN_DRAIN_TIMEOUT=$(sp_time 120)
o2_chain_up

# ---- SIGHUP ----
today=$(date -u +%F)
sp_wait_file "$SP_TMP/logs/smartproxy-server-$today.log"
mv "$SP_TMP/logs/smartproxy-server-$today.log" "$SP_TMP/logs/rotated.log"
printf '%064d second-client\n' 7 >>"$SP_TMP/pairing"
kill -HUP "$SERVER_PID"
chain_wait_log server "SIGHUP: pairing file reloaded: 2 client key(s) from $SP_TMP/pairing; 1 log file(s) reopened"
kill -0 "$SERVER_PID" || sp_fail "the server died on SIGHUP"
sp_grep "SIGHUP: pairing file" "$SP_TMP/logs/smartproxy-server-$today.log"
[ "$(readlink "$SP_TMP/logs/smartproxy-server.log")" = "smartproxy-server-$today.log" ] ||
	sp_fail "the current-file link does not name the new file"
grep -q "SIGHUP" "$SP_TMP/logs/rotated.log" && sp_fail "the moved file got lines after the reopen"
# a broken pairing file: the keys read before stay, and the server too
cp "$SP_TMP/pairing" "$SP_TMP/pairing.good"
echo "not-a-key" >>"$SP_TMP/pairing"
kill -HUP "$SERVER_PID"
chain_wait_log server "SIGHUP: pairing file not reloaded, the 2 key(s) read before stay: $SP_TMP/pairing:3: "
cp "$SP_TMP/pairing.good" "$SP_TMP/pairing"

sp_make_file "$SP_TMP/small.bin" 20000
o2_inside hup
o2_send hup --send "$SP_TMP/small.bin"
[ "$RC" -eq 0 ] || { sp_dump_logs; sp_fail "session after SIGHUP: sender exit $RC"; }
sp_wait "$INSIDE_PID" 30 || sp_fail "inside server failed after SIGHUP"
sp_cmp "$SP_TMP/small.bin" "$SP_TMP/hup/in-inside/SMALL.BIN"

# ---- SIGTERM drains ----
# Small buffers and credit 1: the transfer takes many round trips, so it is
# still running when the signals come (the test waits for its SFPA first).
sp_make_file "$SP_TMP/big.bin" 4000000
big_send() { # NAME
	mkdir -p "$SP_TMP/$1/in-partner"
	sp_start "$1-send" "$OFTP2_PEER" send -v --connect "127.0.0.1:$PARTNER_PORT" \
		--timeout $(sp_time 60) --ca "$SP_TMP/pki/ca.pem" --id "$O2_PARTNER_ID" \
		--password PARTPW --partner "$O2_INSIDE_ID:INPW" --dir "$SP_TMP/$1/in-partner" \
		--buffer-size 128 --credit 1 --send "${2:-$SP_TMP/big.bin}"
	SEND_PID=$SP_LAST_PID
	chain_wait_log "$1-send" "SFPA"
}
o2_inside drain --buffer-size 128 --credit 1 --timeout $(sp_time 60)
big_send drain
kill -TERM "$SERVER_PID"
chain_wait_log server "signal 15: draining: partner listeners closed, 1 session(s) running"
! sp_connects 127.0.0.1 "$PARTNER_PORT" || sp_fail "the partner port is still open while draining"
sp_wait "$SEND_PID" 120 || { sp_dump_logs; sp_fail "the transfer in flight did not complete"; }
sp_wait "$INSIDE_PID" 30 || sp_fail "inside server failed during the drain"
sp_cmp "$SP_TMP/big.bin" "$SP_TMP/drain/in-inside/BIG.BIN"
chain_wait_log server "drained: every session has ended; stopping"
sp_wait "$SERVER_PID" 30 || sp_fail "the server did not exit 0 after the drain"

# ---- a second SIGTERM ends at once ----
chain_start_server
chain_wait_log server "revision 1 applied" 60
o2_inside second --buffer-size 128 --credit 1 --timeout $(sp_time 60)
big_send second
kill -TERM "$SERVER_PID"
chain_wait_log server "signal 15: draining: partner listeners closed, 1 session(s) running"
kill -TERM "$SERVER_PID"
chain_wait_log server "signal 15 again: ending 1 session(s) now (ESID 05); stopping"
rc=0
sp_wait "$SEND_PID" 30 || rc=$?
[ "$rc" -ne 0 ] || sp_fail "the partner's transfer succeeded although the session was ended"
sp_grep "ESID reason=05" "$SP_TMP/second-send.log"
sp_wait "$INSIDE_PID" 30 || true
sp_grep "ESID reason=05" "$SP_TMP/second-inside.log"
sp_wait "$SERVER_PID" 30 || sp_fail "the server did not exit 0 after the second SIGTERM"

# ---- drain_timeout ends the rest ----
# A file far too big for one second: the drain cannot outrun the timeout.
sed -i 's/^drain_timeout: .*/drain_timeout: 1/' "$SP_TMP/server.yaml"
sp_make_file "$SP_TMP/huge.bin" 40000000
chain_start_server
chain_wait_log server "revision 1 applied" 60
o2_inside third --buffer-size 128 --credit 1 --timeout $(sp_time 60)
big_send third "$SP_TMP/huge.bin"
kill -TERM "$SERVER_PID"
chain_wait_log server "drain_timeout of 1 s reached: ending 1 session(s) now (ESID 05); stopping"
rc=0
sp_wait "$SEND_PID" 30 || rc=$?
[ "$rc" -ne 0 ] || sp_fail "the partner's transfer succeeded past drain_timeout"
sp_grep "ESID reason=05" "$SP_TMP/third-send.log"
sp_wait "$INSIDE_PID" 30 || true
sp_wait "$SERVER_PID" 30 || sp_fail "the server did not exit 0 after drain_timeout"
chain_stop client "$CLIENT_PID"
exit 0
