#!/usr/bin/env bash
# chain_reconfig.sh - a new revision moves the partner listener to another
# port while a session is running: the old port closes, the new one opens,
# and the running session goes on to the end, intact.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_init 120

chain_init
PORT_A=$(chain_free_port)
PORT_B=$(chain_free_port)
chain_config "$PORT_A" 1
chain_fake_backend
chain_start_server
chain_start_client
chain_wait_log server "revision 1 applied"

sp_start inside python3 "$SP_IT/relay_peer.py" sink "$INSIDE_PORT"
INSIDE_PID=$SP_LAST_PID
chain_wait_log inside listening
sp_start partner python3 "$SP_IT/relay_peer.py" stream 127.0.0.1 "$PORT_A" \
	"$SP_TMP/pki/ca.pem" $((32 * 1024 * 1024)) "$SP_TMP/go-on"
PARTNER_PID=$SP_LAST_PID
chain_wait_log partner paused

chain_config "$PORT_B" 2
chain_wait_log server "revision 2 applied" 30
chain_wait_log server "closed partner listener partners on 127.0.0.1:$PORT_A"
sp_connects 127.0.0.1 "$PORT_A" && sp_fail "old port $PORT_A still open"
sp_wait_port 127.0.0.1 "$PORT_B" 5 || sp_fail "new port $PORT_B not open"

touch "$SP_TMP/go-on"
sp_wait "$PARTNER_PID" 30 || { sp_dump_logs; sp_fail "the running session broke"; }
sp_wait "$INSIDE_PID" 30 || { sp_dump_logs; sp_fail "sink failed"; }
sent=$(tail -n 1 "$SP_TMP/partner.log")
got=$(tail -n 1 "$SP_TMP/inside.log")
[ "$sent" = "$got" ] || sp_fail "sent '$sent' but the inside got '$got'"
chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
exit 0
