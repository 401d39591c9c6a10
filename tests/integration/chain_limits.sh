#!/usr/bin/env bash
# chain_limits.sh - the core's own idle and whole-session limits (a backstop
# for any module chain): a silent session and an endless one both end, with
# the reason in the audit line, and the server goes on serving.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_init 90

chain_init
PARTNER_PORT=$(chain_free_port)
CHAIN_IDLE_MS=1000 CHAIN_SESSION_MAX_MS=3000 chain_config "$PARTNER_PORT" 1
chain_fake_backend
chain_start_server
chain_start_client
chain_wait_log server "revision 1 applied"

# An inside server that takes connections and reads whatever comes.
python3 -c '
import socket, sys, threading
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1]))); ls.listen(8); print("listening", flush=True)
def drain(c):
    while c.recv(65536): pass
while True:
    c, _ = ls.accept(); threading.Thread(target=drain, args=(c,), daemon=True).start()
' "$INSIDE_PORT" >"$SP_TMP/inside.log" 2>&1 &
SP_PIDS="$SP_PIDS $!"
chain_wait_log inside listening

# partner MODE: "silent" sends nothing; "chatty" sends a byte every 0.3 s.
partner() {
	python3 - "$PARTNER_PORT" "$SP_TMP/pki/ca.pem" "$1" <<'PY'
import socket, ssl, sys, time
port, ca, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca); ctx.check_hostname = False
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20 * int(__import__("os").environ["SP_TIME_FACTOR"])),
                    server_hostname="localhost")
start = time.time()
try:
    while time.time() - start < 15 * int(__import__("os").environ["SP_TIME_FACTOR"]):
        if mode == "chatty":
            s.sendall(b"x")
            time.sleep(0.3)
        else:
            s.settimeout(15 * int(__import__("os").environ["SP_TIME_FACTOR"]))
            if not s.recv(1):
                break
except (OSError, ssl.SSLError):
    pass
print("closed after %.1f s" % (time.time() - start), flush=True)
PY
}

partner silent >"$SP_TMP/silent.log" 2>&1
chain_wait_log server "session 1 ended: idle_timeout"
partner chatty >"$SP_TMP/chatty.log" 2>&1
chain_wait_log server "session 2 ended: session_max"
grep -q "session 2 ended: idle_timeout" "$SP_TMP/server.log" && sp_fail "a chatty session counted as idle"
chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
exit 0
