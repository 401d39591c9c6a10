#!/usr/bin/env bash
# chain_keyless.sh - keyless TLS: the listener's private key stays with
# smartproxy-client, which signs the handshakes through the tunnel.
#  1. a partner completes TLS 1.3 and a relayed transfer (bytes compared) on
#     a listener whose revision carries the certificate chain and no key;
#  2. the key is nowhere in the server's memory, while the key of an ordinary
#     listener of the same revision is (the scan would find it);
#  3. a client refusal (the listener's rate) ends a handshake with an alert;
#  4. a client that does not answer: the handshake ends at the sign time limit
#     with an alert, the log says so, the late answer is dropped;
#  5. the client killed while a handshake waits for its signature: that
#     handshake ends at once with an alert, and the log says why;
#  6. the handshake timer (1 s) ends a session whose handshake thread waits
#     for its signature; the signature arrives after that: the thread goes
#     on without the freed connection (under ASan a read through it would
#     abort the server), the server serves the next handshake and exits
#     cleanly;
#  7. the server stopped (SIGTERM twice) while a handshake thread of a
#     session loop waits for its signature: the wait fails at once ("the
#     server stops"), so the loop's thread, which joins its handshake
#     threads, and the main thread, which joins the loop's, never sit out
#     the sign time limit (before: the log said the wait ran out, after
#     5 s, and no "the server stops").
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/keyless_lib.sh"
sp_init 180
sp_need certtool gnutls-bin

chain_init
chmod 600 "$SP_TMP/pki/server.key"
PARTNER_PORT=$(chain_free_port)
LOCAL_PORT=$(chain_free_port)
keyless_config "$PARTNER_PORT" "$LOCAL_PORT"
grep -q "PRIVATE KEY" "$SP_TMP/config.json" || sp_hard_error "control listener lost its key"
chain_fake_backend
keyless_client_conf "$SP_TMP/pki/server.key"
chain_start_server
chain_start_client
chain_wait_log client "keyless: the key of listener partners is held here"
chain_wait_log server "revision 1 applied: 2 listener"

# The thread budget: main, and per session loop its thread (none with one
# loop), two run_async, two handshake threads and one of the tunnel's
# handshake pool (none with one loop); one loop: main keeps four
# handshake threads. No idle pool on main beside the loops' (issue 16): that
# would be four more. Two spare for a sanitizer runtime's own (TSan has one).
NLOOPS=$(sed -n 's/.*\[sloops_start\] \([0-9]*\) session loop(s).*/\1/p' "$SP_TMP/server.log" | head -n 1)
[ -n "$NLOOPS" ] || sp_fail "the server did not say how many session loops it runs"
if [ "$NLOOPS" -gt 1 ]; then MAXT=$((1 + 6 * NLOOPS + 2)); else MAXT=$((7 + 2)); fi
NTHREADS=$(ls "/proc/$SERVER_PID/task" | wc -l)
[ "$NTHREADS" -le "$MAXT" ] ||
	sp_fail "the server runs $NTHREADS threads with $NLOOPS session loop(s); at most $MAXT expected"

# 1. A transfer through the keyless listener.
sp_make_file "$SP_TMP/to-inside" $((1024 * 1024))
sp_make_file "$SP_TMP/to-outside" $((1024 * 1024))
sp_start inside python3 "$SP_IT/relay_peer.py" server "$INSIDE_PORT" \
	"$SP_TMP/inside-got" "$SP_TMP/to-outside"
INSIDE_PID=$SP_LAST_PID
chain_wait_log inside listening
sp_run python3 "$SP_IT/relay_peer.py" client 127.0.0.1 "$PARTNER_PORT" \
	"$SP_TMP/pki/ca.pem" "$SP_TMP/to-inside" "$SP_TMP/outside-got" ||
	{ sp_dump_logs; sp_fail "transfer through the keyless listener failed"; }
sp_wait "$INSIDE_PID" 30 || { sp_dump_logs; sp_fail "inside server failed"; }
sp_cmp "$SP_TMP/to-inside" "$SP_TMP/inside-got"
sp_cmp "$SP_TMP/to-outside" "$SP_TMP/outside-got"
sp_grep "session 1: TLS TLS1.3" "$SP_TMP/server.log"
sp_grep "keyless: signed request 1 for listener partners" "$SP_TMP/client.log"
sp_log "1 MiB each way through a keyless listener"

# 2. What a compromised DMZ could read: not the keyless listener's key.
sp_run python3 "$SP_IT/keyless_mem.py" "$SERVER_PID" "$SP_TMP/pki/server.key" \
	"$SP_TMP/pki/client.key" >"$SP_TMP/mem.out" ||
	sp_hard_error "cannot read the server's memory"
cat "$SP_TMP/mem.out" >&2
sp_grep "client.key present" "$SP_TMP/mem.out"   # the scan works
sp_grep "server.key absent" "$SP_TMP/mem.out"
if grep -q "PRIVATE KEY" "$SP_TMP/server.log"; then
	sp_fail "a private key in the server's log"
fi

# 3. Handshakes beyond the client's rate are refused, with an alert.
chain_stop client "$CLIENT_PID"
sed -i 's/^keyless:$/keyless:\n  signatures_per_minute: 1/' "$SP_TMP/client.yaml"
chain_start_client
keyless_wait_count server "revision 1 applied: 2 listener" 2
keyless_probe "$PARTNER_PORT" "$SP_TMP/probe1.out"
keyless_probe "$PARTNER_PORT" "$SP_TMP/probe2.out"
sp_grep "^ok" "$SP_TMP/probe1.out"
sp_grep "Handshake was completed" "$SP_TMP/probe1.out"
sp_grep "^fail" "$SP_TMP/probe2.out"
sp_grep "Received alert" "$SP_TMP/probe2.out"
chain_wait_log client "keyless signature refused for listener partners (request [0-9]*): rate limit"
chain_wait_log server "no signature for a handshake (request [0-9]*): the client refused: rate limit"

# 4. A client that does not answer: the handshake ends after the sign time
#    limit (5 s) with an alert; the late answer finds no one waiting.
keyless_pause_client
keyless_probe "$PARTNER_PORT" "$SP_TMP/probe-slow.out"
sp_grep "^fail" "$SP_TMP/probe-slow.out"
sp_grep "Received alert" "$SP_TMP/probe-slow.out"
chain_wait_log server "1 handshake(s) got no signature from the client within 5000 ms"
keyless_resume_client
chain_wait_log server "matches no waiting handshake"

# 5. The client dies while a handshake waits for its signature.
keyless_probe_held "$SP_TMP/probe3.out"
kill -KILL "$CLIENT_PID"
wait "$CLIENT_PID" 2>/dev/null
sp_forget_pid "$CLIENT_PID"
trap 'sp_cleanup' EXIT
sp_wait "$PROBE_PID" 20 || { sp_dump_logs; sp_fail "the waiting partner did not get an answer"; }
sp_grep "^fail" "$SP_TMP/probe3.out"
sp_grep "Received alert" "$SP_TMP/probe3.out"
chain_wait_log server "1 handshake(s) waiting for a signature fail: control connection lost"
keyless_wait_count server "TLS error .* from 127.0.0.1: handshake: Public key signing has failed" 3
sp_log "refusals and a dead client end handshakes with an alert"

# 6. A signature that arrives after the handshake timer ended the session.
python3 - "$SP_TMP/config.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["revision"] = 2
doc["limits"]["handshake_timeout_ms"] = 1000
open(sys.argv[1] + ".tmp", "w").write(json.dumps(doc))
PY
mv "$SP_TMP/config.json.tmp" "$SP_TMP/config.json"
sed -i '/^  signatures_per_minute: 1$/d' "$SP_TMP/client.yaml"
chain_start_client
chain_wait_log server "revision 2 applied" 30
ENDED=$(grep -c "ended: handshake_timeout" "$SP_TMP/server.log")
keyless_probe_held "$SP_TMP/probe4.out"
keyless_wait_count server "ended: handshake_timeout" $((ENDED + 1))
LATE=$(grep "signature request [0-9]* sent to the client" "$SP_TMP/server.log" | tail -n 1 |
	sed 's/.*signature request \([0-9]*\) sent.*/\1/')
keyless_resume_client
chain_wait_log server "listener partners: signature $LATE handed to its handshake"
sp_wait "$PROBE_PID" 20 || { sp_dump_logs; sp_fail "the timed-out partner did not get an answer"; }
sp_grep "^fail" "$SP_TMP/probe4.out"
keyless_probe "$PARTNER_PORT" "$SP_TMP/probe5.out"
sp_grep "^ok" "$SP_TMP/probe5.out"
sp_log "a signature after the handshake timer: no use of the freed connection, the next handshake served"

# 7. The server stops while a handshake thread waits for its signature.
keyless_probe_held "$SP_TMP/probe6.out"
kill -TERM "$SERVER_PID"
chain_wait_log server "draining: partner listeners closed"
kill -TERM "$SERVER_PID"
rc=0
sp_wait "$SERVER_PID" 20 || rc=$?
[ "$rc" -eq 0 ] || { sp_dump_logs; sp_fail "the server exited with status $rc"; }
keyless_resume_client
sp_wait "$PROBE_PID" 20 || { sp_dump_logs; sp_fail "the waiting partner did not get an answer"; }
sp_grep "^fail" "$SP_TMP/probe6.out"
sp_grep "1 handshake(s) waiting for a signature fail: the server stops" "$SP_TMP/server.log"
sp_log "a stop while a handshake waits for its signature fails the wait at once"
if grep -q "AddressSanitizer" "$SP_TMP/server.log"; then
	sp_fail "the server's memory checker reported an error"
fi
exit 0
