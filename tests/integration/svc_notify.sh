#!/usr/bin/env bash
# svc_notify.sh - readiness as systemd's Type=notify sees it: each daemon
# sends READY=1 on $NOTIFY_SOCKET only once it really serves. The server
# after its tunnel port listens (and its seccomp filter holds: the datagram
# goes out on a socket connected before), the client only once the tunnel
# is up, the api once it listens. STOPPING=1 on SIGTERM.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_require_prog "$SP_API"
sp_init 120

# notified PID STATE: wait until the notification file has STATE from PID.
notified() {
	local pid=$1 state=$2 limit=$(sp_time 30) i=0
	until grep -q "^$pid $state$" "$SP_TMP/notify.out" 2>/dev/null; do
		[ "$i" -ge $((limit * 10)) ] && { sp_dump_logs; sp_fail "no $state from PID $pid"; }
		sleep 0.1; i=$((i + 1))
	done
}

chain_init
PARTNER_PORT=$(chain_free_port)
chain_config "$PARTNER_PORT" 1
chain_fake_backend
sp_start notify python3 "$SP_IT/notify_listen.py" "$SP_TMP/notify.sock" "$SP_TMP/notify.out"
i=0
until [ -e "$SP_TMP/notify.out" ]; do
	[ "$i" -ge $(($(sp_time 20) * 10)) ] && sp_fail "notification socket did not come up"
	sleep 0.1; i=$((i + 1))
done

# The client first, with no server to reach: it must not say it is ready.
# Its READY=1 is checked below against the log line of the tunnel coming up.
NOTIFY_SOCKET=$SP_TMP/notify.sock sp_start client "$SP_CLIENT" -c "$SP_TMP/client.yaml"
CLIENT_PID=$SP_LAST_PID
chain_wait_log client "cannot connect to"

# The server (under its default seccomp filter), ready once the tunnel port
# listens.
NOTIFY_SOCKET=$SP_TMP/notify.sock sp_start server "$SP_SERVER" -c "$SP_TMP/server.yaml"
SERVER_PID=$SP_LAST_PID
notified "$SERVER_PID" READY=1
sp_connects 127.0.0.1 "$TUNNEL_PORT" || sp_fail "server said READY=1 before its tunnel port listened"
grep -q "seccomp filter: enforce" "$SP_TMP/server.log" || sp_fail "server ready before its sandbox held"

notified "$CLIENT_PID" READY=1
grep -q "connected to server" "$SP_TMP/client.log" || sp_fail "client said READY=1 before the tunnel was up"
grep -q "^$CLIENT_PID STATUS=connected to server" "$SP_TMP/notify.out" || sp_fail "no STATUS from the client"
chain_wait_log server "revision 1 applied" 30

# The api: READY=1 once it listens (its port file is written before).
cp "$SP_TMP/token" "$SP_TMP/api.token"
cat >"$SP_TMP/api.yaml" <<YAML
listen: "127.0.0.1:0"
tls:
  certificate: $SP_TMP/pki/server.pem
  key: $SP_TMP/pki/server.key
database: $SP_TMP/api.db
tokens:
  - name: client
    role: proxy
    file: $SP_TMP/api.token
logging:
  level: info
  targets:
    - type: stderr
YAML
NOTIFY_SOCKET=$SP_TMP/notify.sock sp_start api "$SP_API" --config "$SP_TMP/api.yaml" --port-file "$SP_TMP/api.port"
API_PID=$SP_LAST_PID
notified "$API_PID" READY=1
[ -s "$SP_TMP/api.port" ] || sp_fail "api said READY=1 before it listened"

# STOPPING=1 on the way out, and each daemon ends cleanly.
for d in "api $API_PID" "client $CLIENT_PID" "server $SERVER_PID"; do
	set -- $d
	chain_stop "$1" "$2" || sp_fail "$1 did not stop cleanly"
	notified "$2" STOPPING=1
done
exit 0
