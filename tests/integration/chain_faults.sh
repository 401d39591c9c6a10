#!/usr/bin/env bash
# chain_faults.sh - the chain under bad input and failures (issue 3):
# backend failing at start, garbage and invalid revisions, garbage on the
# tunnel and partner ports, the client killed mid-transfer and coming back.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_init 240

chain_init
PARTNER_PORT=$(chain_free_port)
chain_config "$PARTNER_PORT" 1
echo 503 >"$SP_TMP/config.json.status"
chain_fake_backend
chain_start_server
chain_start_client

# 1. Backend answers 503: the client says why and retries; the server has a
# client but no configuration, so no partner listener.
chain_wait_log client "backend answered HTTP 503"
chain_wait_log server "waiting for the client to deliver a configuration"
grep -q "opened partner listener" "$SP_TMP/server.log" && sp_fail "listener opened without configuration"
sp_connects 127.0.0.1 "$PARTNER_PORT" && sp_fail "partner port open without configuration"
rm "$SP_TMP/config.json.status"
chain_wait_log server "revision 1 applied" 30

# 2. Garbage from the backend is refused whole; revision 1 stays.
echo '{"revision": 2, "listeners": [' >"$SP_TMP/config.json"
chain_wait_log client "not a JSON object with a revision: refused; the previous revision stays"
# 3. A revision that does not validate: the server names the field and keeps 1.
# Built aside and moved in whole: the backend must never serve a half-edited
# revision 3 (a valid one would be applied, and the refusal never comes).
CHAIN_CONFIG_OUT=$SP_TMP/config3.json chain_config "$PARTNER_PORT" 3
sed 's/"address": "127.0.0.1:[0-9]*"/"address": "localhost:99999"/' "$SP_TMP/config3.json" >"$SP_TMP/config.json.tmp"
mv "$SP_TMP/config.json.tmp" "$SP_TMP/config.json"
chain_wait_log server "revision 3 refused: listeners\[0\].address: expected a numeric host:port; the previous revision stays"
chain_wait_log client "server refused revision 3"
sp_wait_port 127.0.0.1 "$PARTNER_PORT" 2 || sp_fail "revision 1's listener did not stay"

# 4. Garbage on the partner TLS port and on the tunnel port: closed, logged.
chain_refused_tcp "$PARTNER_PORT" "GET / HTTP/1.0\r\n\r\n"
chain_wait_log server "TLS error .* during connect try from 127.0.0.1"
chain_refused_tcp "$TUNNEL_PORT" "plain text, no TLS"
chain_wait_log server "tunnel: TLS error .* during connect try from 127.0.0.1"

# 5. The client dies in the middle of a transfer: the partner session ends,
# the listener closes (fail closed), the server keeps running and serves
# again once a client is back.
sp_make_file "$SP_TMP/big" $((64 * 1024 * 1024))
sp_make_file "$SP_TMP/small" 1000
sp_start inside python3 "$SP_IT/relay_peer.py" server "$INSIDE_PORT" "$SP_TMP/inside-got" "$SP_TMP/small"
INSIDE_PID=$SP_LAST_PID
chain_wait_log inside listening
sp_start partner python3 "$SP_IT/relay_peer.py" client 127.0.0.1 "$PARTNER_PORT" \
	"$SP_TMP/pki/ca.pem" "$SP_TMP/big" "$SP_TMP/partner-got"
PARTNER_PID=$SP_LAST_PID
chain_wait_log server "inside leg attached"
kill -KILL "$CLIENT_PID"
sp_wait "$CLIENT_PID" 10
if sp_wait "$PARTNER_PID" 30; then sp_fail "the partner's transfer completed without the client"; fi
chain_wait_log server "control connection lost"
chain_wait_log server "closed partner listener"
chain_wait_log server "session 1 ended"
sp_connects 127.0.0.1 "$PARTNER_PORT" && sp_fail "partner port still open without a client"
kill -TERM "$INSIDE_PID" 2>/dev/null; sp_wait "$INSIDE_PID" 10

chain_config "$PARTNER_PORT" 4
chain_start_client
chain_wait_log server "revision 4 applied" 30
sp_make_file "$SP_TMP/again" 100000
sp_start inside2 python3 "$SP_IT/relay_peer.py" server "$INSIDE_PORT" "$SP_TMP/inside-got2" "$SP_TMP/small"
INSIDE_PID=$SP_LAST_PID
chain_wait_log inside2 listening
sp_run python3 "$SP_IT/relay_peer.py" client 127.0.0.1 "$PARTNER_PORT" \
	"$SP_TMP/pki/ca.pem" "$SP_TMP/again" "$SP_TMP/partner-got2" ||
	{ sp_dump_logs; sp_fail "no session after the client came back"; }
sp_wait "$INSIDE_PID" 20
sp_cmp "$SP_TMP/again" "$SP_TMP/inside-got2"
sp_cmp "$SP_TMP/small" "$SP_TMP/partner-got2"

# 6. At most max_sessions_per_address sessions from one address: the third
# connection is closed before TLS and logged.
CHAIN_MAX_PER_ADDRESS=2 chain_config "$PARTNER_PORT" 5
chain_wait_log server "revision 5 applied" 30
python3 - "$PARTNER_PORT" "$SP_TMP/pki/ca.pem" "$INSIDE_PORT" <<-'PY' || sp_fail "per-address limit not enforced"
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
# An inside server that takes connections (backlog), so the two sessions live.
inside = socket.socket()
inside.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
inside.bind(("127.0.0.1", int(sys.argv[3])))
inside.listen(8)
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
held = [ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10 * int(__import__("os").environ["SP_TIME_FACTOR"])),
                        server_hostname="localhost") for _ in range(2)]
third = socket.create_connection(("127.0.0.1", port), timeout=10 * int(__import__("os").environ["SP_TIME_FACTOR"]))
try:
    ctx.wrap_socket(third, server_hostname="localhost")
    sys.exit("third TLS session from one address was accepted")
except (ssl.SSLError, ConnectionError, OSError):
    pass
PY
chain_wait_log server "address_limit from 127.0.0.1: 2 sessions from this address is the limit"

chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
exit 0
