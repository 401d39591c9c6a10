#!/usr/bin/env bash
# oftp2_bad.sh - the bad-input corpus through the running proxy with the
# oftp2 module (tests/integration/oftp2_bad.py plays partner and a recording
# inside server): wrong STH version, length 0 and > 100003, truncated and
# unknown commands, commands in the wrong state, SSID level 4 (answered in
# the OFTP 1.x layout), bad field
# characters, credit overrun, DATA bigger than negotiated, subrecords past
# the buffer, EFID counts that do not match, CD ping-pong and a slow sender
# past the SSID timeout. Each ends with the specified ESID, the inside server
# receives nothing invalid, every violation leaves one security line, and the
# proxy serves a valid transfer afterwards.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/oftp2_lib.sh"
sp_init 180

# The SSID timeout is what the slow sender runs into; a loaded machine
# stretches every other case too, so it scales like every time limit.
o2_chain_up "{\"ssid_timeout_ms\": $(sp_time 2000)}"
sp_run python3 "$SP_IT/oftp2_bad.py" "$PARTNER_PORT" "$SP_TMP/pki/ca.pem" "$INSIDE_PORT" \
	2>"$SP_TMP/corpus.log" || { sp_dump_logs; cat "$SP_TMP/corpus.log" >&2; sp_fail "bad-input corpus"; }
cat "$SP_TMP/corpus.log" >&2

# One security line per refused session (the slow sender's is a timeout).
n=$(grep -c 'event=oftp2_violation .*module=oftp2' "$SP_TMP/server.log")
[ "$n" -eq 14 ] || { grep 'security' "$SP_TMP/server.log" >&2; sp_fail "$n violation lines, expected 14"; }
sp_grep 'event=oftp2_timeout' "$SP_TMP/server.log"
sp_grep 'SSID SSIDLEV from the partner in state WAIT_SSID_I: .*(ESID 10)' "$SP_TMP/server.log"

# The proxy still serves a valid session.
sp_make_file "$SP_TMP/after.bin" 20000
o2_inside after
o2_send after --send "$SP_TMP/after.bin"
sp_wait "$INSIDE_PID" 30 || { sp_dump_logs; sp_fail "inside server failed after the corpus"; }
[ "$RC" -eq 0 ] || { sp_dump_logs; sp_fail "valid transfer after the corpus failed ($RC)"; }
sp_cmp "$SP_TMP/after.bin" "$SP_TMP/after/in-inside/AFTER.BIN"
chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
exit 0
