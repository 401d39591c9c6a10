#!/usr/bin/env bash
# chain_inside_queue.sh - the flood stall of bench/run (issue 16): without
# modules the chain relays every partner that finishes TLS to the inside
# server, and oftp2-peer, which serves one session at a time, listened with a
# backlog of 16. Once its accept queue was full the kernel dropped the final
# ACK of the client's next connection: smartproxy-client saw it connected,
# sent the data hello (the 61 octets the server received) and waited for an
# SSRM that could not come until a SYN-ACK retry found room, and never came
# when none did before the partner's 60 s ran out.
#
# Here 24 silent partner sessions hold the inside (one served, 23 queued),
# then a real partner sends a file: its inside connection must be the 24th
# in the queue, not dropped, and once the holders leave the file arrives
# intact. Then the same with `oftp2-peer listen --parallel` (what bench/run
# uses now): the file crosses while the 24 sessions are still held. Every
# wait is for a positive signal; the limits are safety nets.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_init 240
sp_require_prog "$OFTP2_PEER"
sp_need python3 python3
HOLD=24

chain_init
PARTNER_PORT=$(chain_free_port)
CHAIN_MAX_PER_ADDRESS=100 chain_config "$PARTNER_PORT" 1
chain_fake_backend
chain_start_server
chain_start_client
chain_wait_log server "revision 1 applied"

mkdir -p "$SP_TMP/inbox"
sp_start inside "$OFTP2_PEER" listen -v --listen "127.0.0.1:$INSIDE_PORT" \
	--timeout $(sp_time 60) --id O0013000000INSIDE --password INPW \
	--partner O0013000000ACME:PARTPW --dir "$SP_TMP/inbox" --port-file "$SP_TMP/inside.port"
INSIDE_PID=$SP_LAST_PID
sp_wait_port_file "$SP_TMP/inside.port" >/dev/null

sp_start hold python3 "$SP_IT/inside_queue.py" 127.0.0.1 "$PARTNER_PORT" "$SP_TMP/pki/ca.pem" \
	"$HOLD" "$INSIDE_PORT" "$SP_TMP/release"
HOLD_PID=$SP_LAST_PID
chain_wait_log hold "^held $HOLD\|reached" 120
grep -q "^held" "$SP_TMP/hold.log" || { sp_dump_logs; sp_fail "the inside's accept queue: $(cat "$SP_TMP/hold.log")"; }
sp_log "$HOLD partner sessions hold the inside server"

sp_make_file "$SP_TMP/f.bin" 300000
sp_start send "$OFTP2_PEER" send -v --connect "127.0.0.1:$PARTNER_PORT" --timeout $(sp_time 60) \
	--ca "$SP_TMP/pki/ca.pem" --id O0013000000ACME --password PARTPW \
	--partner O0013000000INSIDE:INPW --send "$SP_TMP/f.bin"
SEND_PID=$SP_LAST_PID
chain_wait_log hold "^queued\|reached" 120
grep -q "^queued" "$SP_TMP/hold.log" || { sp_dump_logs; sp_fail "the partner's inside connection was not queued: $(tail -n 1 "$SP_TMP/hold.log")"; }
sp_log "the partner's inside connection waits in the queue: $(tail -n 1 "$SP_TMP/hold.log")"
: >"$SP_TMP/release"
sp_wait "$HOLD_PID" 60 || sp_fail "holder exited with an error"
sp_wait "$SEND_PID" 120 || { sp_dump_logs; sp_fail "the partner's transfer failed"; }
sp_cmp "$SP_TMP/f.bin" "$SP_TMP/inbox/F.BIN"
sp_log "the file crossed intact behind $HOLD queued sessions"

kill -TERM "$INSIDE_PID"
sp_wait "$INSIDE_PID" 20 >/dev/null 2>&1

# A process per session: nothing waits behind the held sessions.
rm -f "$SP_TMP/release" "$SP_TMP/inbox/F.BIN" "$SP_TMP/inside.port"
sp_start inside2 "$OFTP2_PEER" listen -v --parallel --listen "127.0.0.1:$INSIDE_PORT" \
	--timeout $(sp_time 60) --id O0013000000INSIDE --password INPW \
	--partner O0013000000ACME:PARTPW --dir "$SP_TMP/inbox" --port-file "$SP_TMP/inside.port"
INSIDE_PID=$SP_LAST_PID
sp_wait_port_file "$SP_TMP/inside.port" >/dev/null
sp_start hold2 python3 "$SP_IT/inside_queue.py" 127.0.0.1 "$PARTNER_PORT" "$SP_TMP/pki/ca.pem" \
	"$HOLD" "$INSIDE_PORT" "$SP_TMP/release" hold
HOLD_PID=$SP_LAST_PID
chain_wait_log hold2 "^held $HOLD" 120
i=0
until [ "$(grep -c 'connection from' "$SP_TMP/inside2.log")" -ge "$HOLD" ]; do
	[ "$i" -lt $(($(sp_time 60) * 10)) ] || { sp_dump_logs; sp_fail "the inside did not serve $HOLD sessions at once"; }
	sleep 0.1
	i=$((i + 1))
done
sp_run "$OFTP2_PEER" send --connect "127.0.0.1:$PARTNER_PORT" --timeout $(sp_time 60) \
	--ca "$SP_TMP/pki/ca.pem" --id O0013000000ACME --password PARTPW \
	--partner O0013000000INSIDE:INPW --send "$SP_TMP/f.bin" 2>"$SP_TMP/send2.log" ||
	{ sp_dump_logs; sp_fail "the partner's transfer beside $HOLD held sessions failed"; }
kill -0 "$HOLD_PID" 2>/dev/null || sp_fail "the held sessions ended before the transfer"
sp_cmp "$SP_TMP/f.bin" "$SP_TMP/inbox/F.BIN"
sp_log "with --parallel the file crossed while $HOLD sessions held the inside"
: >"$SP_TMP/release"
sp_wait "$HOLD_PID" 60 || sp_fail "holder exited with an error"
kill -TERM "$INSIDE_PID"
sp_wait "$INSIDE_PID" 20 >/dev/null 2>&1
chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
exit 0
