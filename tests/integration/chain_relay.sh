#!/usr/bin/env bash
# chain_relay.sh - a partner's TLS session crosses the DMZ: backend, client,
# server and an inside TCP server on loopback; 20 MiB go in and 20 MiB come
# back, compared byte for byte; the server's memory stays flat meanwhile.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_init 180

chain_init
PARTNER_PORT=$(chain_free_port)
chain_config "$PARTNER_PORT" 1
chain_fake_backend
chain_start_server
chain_start_client
chain_wait_log server "revision 1 applied"
chain_wait_log client "server applied revision 1"

sp_make_file "$SP_TMP/to-inside" $((20 * 1024 * 1024))
python3 -c 'import os,sys; sys.stdout.buffer.write((b"\0" * 4000 + os.urandom(96)) * 5120)' >"$SP_TMP/to-outside" # 20 MiB with runs
sp_start inside python3 "$SP_IT/relay_peer.py" server "$INSIDE_PORT" \
	"$SP_TMP/inside-got" "$SP_TMP/to-outside"
INSIDE_PID=$SP_LAST_PID
chain_wait_log inside listening
sp_run python3 "$SP_IT/relay_peer.py" client 127.0.0.1 "$PARTNER_PORT" \
	"$SP_TMP/pki/ca.pem" "$SP_TMP/to-inside" "$SP_TMP/outside-got" ||
	{ sp_dump_logs; sp_fail "partner-side transfer failed"; }
sp_wait "$INSIDE_PID" 30 || { sp_dump_logs; sp_fail "inside server failed"; }
sp_cmp "$SP_TMP/to-inside" "$SP_TMP/inside-got"
sp_cmp "$SP_TMP/to-outside" "$SP_TMP/outside-got"
chain_wait_log server "session 1 ended"
# The session's way in was dialled before the partner came (warm pool).
sp_grep "session 1: using a warm data connection" "$SP_TMP/client.log"
sp_grep "warm data connection from 127.0.0.1 on standby" "$SP_TMP/server.log"
sp_log "20 MiB each way relayed byte for byte"
exit 0
