#!/usr/bin/env bash
# oftp2_unasked_leg.sh - a tunnel data connection for a session that did not
# ask for its inside leg is refused (src/server/session.c, session_msg_attach).
#
# With the oftp2 module, which gates the inside, a partner's session asks
# the client for its inside leg only once its SSID was accepted. A partner
# completes TLS and stays silent: its session waits in the module, counted
# unverified. A data connection that names that session, made with the
# paired client's own key (as a faulty or subverted client would), must not
# become its inside leg: before the fix it did (the log said "inside leg
# attached", and the session would have kept its place among the unverified
# for its whole life, its request being what moves it out). Then a real
# transfer still crosses: the refusal broke nothing.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/oftp2_lib.sh"
sp_init 120

OFTP2_PEER=$SP_TOP_BUILDDIR/oftp2-peer
sp_need python3 python3
o2_chain_up '{"ssid_timeout_ms": 30000}'

# A partner that completes TLS and says nothing.
cat >"$SP_TMP/quiet.py" <<'PY'
import os, socket, ssl, sys, time
port, ready, release = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
open(ready, "w").write("up\n")
deadline = time.monotonic() + 60 * int(os.environ.get("SP_TIME_FACTOR", "1"))
while not os.path.exists(release) and time.monotonic() < deadline:
    time.sleep(0.05)
s.close()
PY
sp_start quiet python3 "$SP_TMP/quiet.py" "$PARTNER_PORT" "$SP_TMP/quiet.ready" "$SP_TMP/quiet.release"
QUIET_PID=$SP_LAST_PID
sp_wait_file "$SP_TMP/quiet.ready" 30 || { sp_dump_logs; sp_fail "the quiet partner did not complete TLS"; }
chain_wait_log server "session [0-9]*: TLS TLS1.3 .* with 127.0.0.1"
SID=$(grep "session [0-9]*: TLS TLS1.3 .* with 127.0.0.1" "$SP_TMP/server.log" | tail -n 1 |
	sed 's/.*session \([0-9]*\): TLS.*/\1/')

# A data connection for it, with the client's key, that it did not ask for.
python3 - "$TUNNEL_PORT" "$SP_TMP/client-state" "$SID" >"$SP_TMP/fake.log" 2>&1 <<'PY' ||
import json, os, socket, ssl, struct, sys
port, state, sid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.load_cert_chain(os.path.join(state, "client.crt"), os.path.join(state, "client.key"))
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
hello = json.dumps({"type": "hello", "version": 1, "role": "data", "session": sid}).encode()
s.sendall(struct.pack(">I", len(hello)) + hello)
s.settimeout(20 * int(os.environ.get("SP_TIME_FACTOR", "1")))
try:
    while s.recv(4096):
        pass
except (ssl.SSLError, ConnectionResetError):
    pass
print("closed by the server")
PY
	{ cat "$SP_TMP/fake.log" >&2; sp_dump_logs; sp_fail "the unasked data connection was not closed"; }
chain_wait_log server "data connection for session $SID, which did not ask for one: closed"
grep -q "session $SID: inside leg attached" "$SP_TMP/server.log" &&
	{ sp_dump_logs; sp_fail "session $SID took a data connection it did not ask for"; }
sp_log "session $SID: a data connection it did not ask for was refused"
: >"$SP_TMP/quiet.release"
sp_wait "$QUIET_PID" 30 || true

# A real transfer still crosses.
sp_make_file "$SP_TMP/out.bin" 100000
o2_inside real
o2_send real --send "$SP_TMP/out.bin"
[ "$RC" -eq 0 ] || { sed 's/^/  | /' "$SP_TMP/real-send.log" >&2; sp_dump_logs; sp_fail "the transfer failed"; }
sp_wait "$INSIDE_PID" 60 || { sp_dump_logs; sp_fail "the inside server failed"; }
sp_cmp "$SP_TMP/out.bin" "$SP_TMP/real/in-inside/OUT.BIN"
sp_log "a real transfer crossed afterwards"
chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
exit 0
