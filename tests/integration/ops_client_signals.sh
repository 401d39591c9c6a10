#!/usr/bin/env bash
# ops_client_signals.sh - smartproxy-client on signals. SIGHUP: the client
# stays up (it used to die), re-reads the token file (an empty one is
# refused and the old token stays) and the logging section (a target added
# gets the reload line), reopens its log file after a logrotate moved it,
# says so, and a session works afterwards. SIGTERM with a transfer
# in flight: the control connection closes (the server closes the partner
# port), the file completes byte for byte, then the client exits 0. A second
# SIGTERM while draining closes the session's pipe at once.
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
sp_wait_file "$SP_TMP/logs/smartproxy-client-$today.log"
mv "$SP_TMP/logs/smartproxy-client-$today.log" "$SP_TMP/logs/rotated.log"
printf '    - type: file\n      dir: %s\n      prefix: extra\n' "$SP_TMP/logs" >>"$SP_TMP/client.yaml"
cp "$SP_TMP/token" "$SP_TMP/token.good"
: >"$SP_TMP/token"
kill -HUP "$CLIENT_PID"
chain_wait_log client "SIGHUP: backend token not reloaded, the one read before stays: backend.token_file $SP_TMP/token: empty; 2 log file(s) reopened"
cp "$SP_TMP/token.good" "$SP_TMP/token"
kill -HUP "$CLIENT_PID"
chain_wait_log client "SIGHUP: backend token reloaded from $SP_TMP/token; 2 log file(s) reopened"
kill -0 "$CLIENT_PID" || sp_fail "the client died on SIGHUP"
sp_grep "SIGHUP: backend token reloaded" "$SP_TMP/logs/smartproxy-client-$today.log"
sp_grep "SIGHUP: backend token reloaded .*(logging section re-read from $SP_TMP/client.yaml: 3 target(s))" \
	"$SP_TMP/logs/extra-$today.log"
grep -q "SIGHUP" "$SP_TMP/logs/rotated.log" && sp_fail "the moved file got lines after the reopen"

sp_make_file "$SP_TMP/small.bin" 20000
o2_inside hup
o2_send hup --send "$SP_TMP/small.bin"
[ "$RC" -eq 0 ] || { sp_dump_logs; sp_fail "session after SIGHUP: sender exit $RC"; }
sp_wait "$INSIDE_PID" 30 || sp_fail "inside server failed after SIGHUP"
sp_cmp "$SP_TMP/small.bin" "$SP_TMP/hup/in-inside/SMALL.BIN"

# ---- SIGTERM drains ----
sp_make_file "$SP_TMP/big.bin" 4000000
big_send() { # NAME
	mkdir -p "$SP_TMP/$1/in-partner"
	sp_start "$1-send" "$OFTP2_PEER" send -v --connect "127.0.0.1:$PARTNER_PORT" \
		--timeout $(sp_time 60) --ca "$SP_TMP/pki/ca.pem" --id "$O2_PARTNER_ID" \
		--password PARTPW --partner "$O2_INSIDE_ID:INPW" --dir "$SP_TMP/$1/in-partner" \
		--buffer-size 128 --credit 1 --send "$SP_TMP/big.bin"
	SEND_PID=$SP_LAST_PID
	chain_wait_log "$1-send" "SFPA"
}
o2_inside drain --buffer-size 128 --credit 1 --timeout $(sp_time 60)
big_send drain
kill -TERM "$CLIENT_PID"
chain_wait_log client "signal 15: draining: route listeners and the control connection closed, 1 session pipe(s) running"
chain_wait_log server "control connection lost"
! sp_connects 127.0.0.1 "$PARTNER_PORT" || sp_fail "the partner port is still open while the client drains"
sp_wait "$SEND_PID" 120 || { sp_dump_logs; sp_fail "the transfer in flight did not complete"; }
sp_wait "$INSIDE_PID" 30 || sp_fail "inside server failed during the drain"
sp_cmp "$SP_TMP/big.bin" "$SP_TMP/drain/in-inside/BIG.BIN"
chain_wait_log client "drained: every session pipe has closed; stopping"
sp_wait "$CLIENT_PID" 30 || sp_fail "the client did not exit 0 after the drain"

# ---- a second SIGTERM closes at once ----
sp_start client2 "$SP_CLIENT" -c "$SP_TMP/client.yaml"
CLIENT_PID=$SP_LAST_PID
chain_wait_log client2 "server applied revision 1" 60
o2_inside second --buffer-size 128 --credit 1 --timeout $(sp_time 60)
big_send second
kill -TERM "$CLIENT_PID"
chain_wait_log client2 "signal 15: draining: .*1 session pipe(s) running"
kill -TERM "$CLIENT_PID"
chain_wait_log client2 "signal 15 again: closing 1 session pipe(s) now; stopping"
rc=0
sp_wait "$SEND_PID" 30 || rc=$?
[ "$rc" -ne 0 ] || sp_fail "the partner's transfer succeeded although its pipe was closed"
sp_wait "$CLIENT_PID" 30 || sp_fail "the client did not exit 0 after the second SIGTERM"
sp_wait "$INSIDE_PID" 30 || true
chain_stop server "$SERVER_PID"
exit 0
