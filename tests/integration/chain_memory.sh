#!/usr/bin/env bash
# chain_memory.sh - 1 GiB through the chain: the stream arrives intact
# (SHA-256 on both ends) and the server's resident memory stays flat: no
# per-byte growth (backpressure and bounded buffers, not a timing claim).
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_init 600
SIZE=$((${SP_MEMORY_TEST_MIB:-1024} * 1024 * 1024))

chain_init
PARTNER_PORT=$(chain_free_port)
chain_config "$PARTNER_PORT" 1
chain_fake_backend
# ASan's quarantine keeps freed memory on purpose; keep it small so RSS
# tells what the server itself holds.
ASAN_OPTIONS=${ASAN_OPTIONS:-}:quarantine_size_mb=16 chain_start_server
chain_start_client
chain_wait_log server "revision 1 applied"

sp_start inside python3 "$SP_IT/relay_peer.py" sink "$INSIDE_PORT"
INSIDE_PID=$SP_LAST_PID
chain_wait_log inside listening
sp_start partner python3 "$SP_IT/relay_peer.py" stream 127.0.0.1 "$PARTNER_PORT" \
	"$SP_TMP/pki/ca.pem" "$SIZE"
PARTNER_PID=$SP_LAST_PID

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status"; }
: >"$SP_TMP/rss"
while kill -0 "$PARTNER_PID" 2>/dev/null; do
	rss >>"$SP_TMP/rss"
	sleep 0.5
done
sp_wait "$PARTNER_PID" 10 || { sp_dump_logs; sp_fail "stream failed"; }
sp_wait "$INSIDE_PID" 30 || { sp_dump_logs; sp_fail "sink failed"; }
sent=$(tail -n 1 "$SP_TMP/partner.log")
got=$(tail -n 1 "$SP_TMP/inside.log")
[ "$sent" = "$got" ] || sp_fail "sent '$sent' but the inside got '$got'"
[ "${sent%% *}" -eq "$SIZE" ] || sp_fail "sent ${sent%% *} octets, not $SIZE"

# Flat: skip two warm-up samples (the session, its buffers and TLS state
# come into being), then the second half's peak may not exceed the first
# half's peak by more than 8 MiB.
tail -n +3 "$SP_TMP/rss" >"$SP_TMP/rss.run"
n=$(wc -l <"$SP_TMP/rss.run")
[ "$n" -ge 4 ] || sp_fail "too few RSS samples ($n)"
first=$(head -n $((n / 2)) "$SP_TMP/rss.run" | sort -n | tail -n 1)
second=$(tail -n $((n - n / 2)) "$SP_TMP/rss.run" | sort -n | tail -n 1)
sp_log "server RSS over $n samples: first half peak $first KiB, second half peak $second KiB"
[ $((second - first)) -le 8192 ] || sp_fail "server memory grew by $((second - first)) KiB during the transfer"
chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
exit 0
