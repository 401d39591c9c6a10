# chain.sh - assembling a loopback deployment for the chain tests (sourced
# after lib.sh): test PKI, server and client bootstrap files, pairing, a
# backend (the real smartproxy-api or fake_backend.py for fault injection).
#
#   chain_init                       certs, bootstrap files, pairing file
#   chain_fake_backend               fake_backend.py serving $SP_TMP/config.json
#   chain_config LISTEN_PORT [REV]   write $SP_TMP/config.json (one TLS listener)
#   chain_start_server / chain_start_client
#   chain_wait_log NAME PATTERN [SECONDS]
#
# CHAIN_DRAIN_TIMEOUT: the daemons' drain_timeout (default 2 s: a test that
# stops them with a session open does not wait the 300 s of a deployment).
# CHAIN_LOG_DIR: the daemons also log to daily files there (prefixes
# smartproxy-server, smartproxy-client).

SP_SERVER=${SP_SERVER:-$SP_TOP_BUILDDIR/smartproxy-server}
SP_CLIENT=${SP_CLIENT:-$SP_TOP_BUILDDIR/smartproxy-client}
SP_API=${SP_API:-$SP_TOP_BUILDDIR/smartproxy-api}
SP_IT=$SP_TOP_SRCDIR/tests/integration

# A port for a test's listener: below the kernel's ephemeral range, so that no
# outgoing connection of a test running beside this one is handed it between
# the pick and the bind, and free on every address (a wildcard bind fails if
# any address holds it). A port the kernel picked (bind to port 0) came from
# the ephemeral range and could be taken that way. A port is free until its
# daemon binds it, so picks are remembered for 10 minutes in one file shared
# by every test (under a lock): two picks, of one test or of two running side
# by side, never give the same port (oftp2_valid once got the same one for
# its inside and its partner port).
chain_free_port() {
	python3 - "${TMPDIR:-/tmp}/smartproxy-tests-ports" <<'PY'
import fcntl, os, random, socket, sys, time
lo = 20000
try:
    hi = min(int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0]) - 1, 32767)
except (OSError, ValueError, IndexError):
    hi = 32767
now = time.time()
with open(sys.argv[1], "a+") as book:
    fcntl.flock(book, fcntl.LOCK_EX)
    book.seek(0)
    recent = {}
    for line in book:
        try:
            port, when = line.split()
            if now - float(when) < 600:
                recent[int(port)] = float(when)
        except ValueError:
            pass
    for _ in range(500):
        p = random.randint(lo, max(lo, hi))
        if p in recent:
            continue
        s = socket.socket()
        try:
            s.bind(("0.0.0.0", p))
        except OSError:
            continue
        finally:
            s.close()
        recent[p] = now
        book.seek(0)
        book.truncate()
        book.writelines("%d %.3f\n" % kv for kv in recent.items())
        print(p)
        break
    else:
        raise SystemExit("no free port between %d and %d" % (lo, hi))
PY
}

chain_wait_log() {
	local name=$1 pattern=$2 limit=$(sp_time "${3:-20}") i=0
	until grep -q -e "$pattern" "$SP_TMP/$name.log" 2>/dev/null; do
		if [ "$i" -ge $((limit * 10)) ]; then
			sp_dump_logs
			sp_fail "no '$pattern' in $name.log after ${limit}s"
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

chain_init() {
	sp_require_prog "$SP_SERVER" "$SP_CLIENT"
	make_certs "$SP_TMP/pki"
	TUNNEL_PORT=$(chain_free_port)
	mkdir -p "$SP_TMP/server-state" "$SP_TMP/client-state"
	cat >"$SP_TMP/server.yaml" <<-EOF
	tunnel:
	  listen: 127.0.0.1:$TUNNEL_PORT
	state_dir: $SP_TMP/server-state
	pairing_file: $SP_TMP/pairing
	user: $(id -un)
	drain_timeout: ${CHAIN_DRAIN_TIMEOUT:-2}
	${CHAIN_LOOPS:+loops: $CHAIN_LOOPS}
	${CHAIN_MODULES:-}
	logging:
	  level: debug
	  targets:
	    - type: stderr
	${CHAIN_LOG_DIR:+    - type: file}
	${CHAIN_LOG_DIR:+      dir: $CHAIN_LOG_DIR}
	${CHAIN_LOG_DIR:+      prefix: smartproxy-server}
	EOF
	PROXY_ID=$("$SP_SERVER" -c "$SP_TMP/server.yaml" -L | sed -n 's/^Proxy ID: //p')
	[ ${#PROXY_ID} -eq 64 ] || sp_hard_error "no Proxy ID from smartproxy-server -L"
	echo "test-token-0123456789abcdef" >"$SP_TMP/token"
	chmod 600 "$SP_TMP/token"   # a secret: the client refuses one readable by everyone
	INSIDE_PORT=${INSIDE_PORT:-$(chain_free_port)}
	chain_write_client_conf "$PROXY_ID"
	"$SP_CLIENT" -c "$SP_TMP/client.yaml" --pairing-line >"$SP_TMP/pairing" ||
		sp_hard_error "smartproxy-client --pairing-line failed"
}

chain_write_client_conf() {
	cat >"$SP_TMP/client.yaml" <<-EOF
	server:
	  address: 127.0.0.1:$TUNNEL_PORT
	  proxy_id: $1
	backend:
	  url: https://127.0.0.1:${BACKEND_PORT:-1}/
	  token_file: $SP_TMP/token
	  ca_file: $SP_TMP/pki/ca.pem
	  timeout: ${CHAIN_BACKEND_TIMEOUT:-5}
	  heartbeat: ${CHAIN_HEARTBEAT:-10}
	inside:
	  address: 127.0.0.1:$INSIDE_PORT
	state_dir: $SP_TMP/client-state
	drain_timeout: ${CHAIN_DRAIN_TIMEOUT:-2}
	logging:
	  level: debug
	  targets:
	    - type: stderr
	${CHAIN_LOG_DIR:+    - type: file}
	${CHAIN_LOG_DIR:+      dir: $CHAIN_LOG_DIR}
	${CHAIN_LOG_DIR:+      prefix: smartproxy-client}
	EOF
}

# chain_config PORT [REVISION]: one TLS listener on 127.0.0.1:PORT, written
# to $SP_TMP/config.json (or $CHAIN_CONFIG_OUT) in one rename.
chain_config() {
	local out=${CHAIN_CONFIG_OUT:-$SP_TMP/config.json}
	python3 - "$SP_TMP/pki" "$1" "${2:-1}" "${CHAIN_MAX_PER_ADDRESS:-20}" \
		"${CHAIN_IDLE_MS:-300000}" "${CHAIN_SESSION_MAX_MS:-86400000}" >"$out.tmp" <<-'EOF'
	import json, sys
	pki, port, rev, per_addr = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
	idle, session_max = int(sys.argv[5]), int(sys.argv[6])
	doc = {
	    "api_version": 1, "revision": rev, "generated": "2026-01-01T00:00:00Z",
	    "listeners": [{"name": "partners", "address": "127.0.0.1:%s" % port,
	                   "tls": {"certificate_chain": open(pki + "/server.pem").read(),
	                           "private_key": open(pki + "/server.key").read(),
	                           "require_client_cert": False, "request_client_cert": False}}],
	    "routes": [],
	    "limits": {"max_sessions": 100, "max_sessions_per_address": per_addr,
	               "handshake_timeout_ms": 5000, "ssid_timeout_ms": 30000,
	               "idle_timeout_ms": idle, "session_max_ms": session_max,
	               "inside_connect_timeout_ms": 5000, "linger_ms": 2000},
	    "modules": {},
	}
	print(json.dumps(doc))
	EOF
	mv "$out.tmp" "$out"
}

chain_fake_backend() {
	sp_start backend python3 "$SP_IT/fake_backend.py" "$SP_TMP/pki/server.pem" \
		"$SP_TMP/pki/server.key" "$(cat "$SP_TMP/token")" "$SP_TMP/config.json" \
		"$SP_TMP/backend.port"
	BACKEND_PID=$SP_LAST_PID
	BACKEND_PORT=$(sp_wait_port_file "$SP_TMP/backend.port")
	chain_write_client_conf "$PROXY_ID"
}

chain_start_server() {
	sp_start server "$SP_SERVER" -c "$SP_TMP/server.yaml"
	SERVER_PID=$SP_LAST_PID
	chain_wait_log server "listening for the client"
}

chain_start_client() {
	sp_start client "$SP_CLIENT" -c "$SP_TMP/client.yaml"
	CLIENT_PID=$SP_LAST_PID
}

# chain_stop NAME PID: SIGTERM, and the process must exit 0 within 20 s
# (under the sanitizers this is also where a leak would show).
chain_stop() {
	local name=$1 pid=$2 rc=0
	kill -TERM "$pid" 2>/dev/null
	sp_wait "$pid" 20 || rc=$?
	if [ "$rc" -ne 0 ]; then
		sp_dump_logs
		sp_fail "$name exited with status $rc after SIGTERM"
	fi
}

# chain_refused_tcp PORT PAYLOAD: send PAYLOAD in plain TCP; the peer must
# close the connection within 10 s.
chain_refused_tcp() {
	python3 - "$1" "$2" <<-'PY' || sp_fail "port $1 did not close a garbage connection"
	import socket, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10 * int(__import__("os").environ["SP_TIME_FACTOR"]))
	s.sendall(sys.argv[2].encode())
	s.settimeout(10 * int(__import__("os").environ["SP_TIME_FACTOR"]))
	try:
	    while s.recv(4096):
	        pass
	except ConnectionResetError:
	    pass
	PY
}

# chain_api_yaml: $SP_TMP/api.yaml for the real smartproxy-api on the test
# PKI, with the client's token (role proxy, $SP_TMP/api-client.token) and
# smartproxyctl's (role admin, $SP_TMP/admin.token).
chain_api_yaml() {
	cp "$SP_TMP/token" "$SP_TMP/api-client.token"
	echo "admin-token-0123456789abc" >"$SP_TMP/admin.token"
	cat >"$SP_TMP/api.yaml" <<-YAML
	listen: "127.0.0.1:0"
	tls:
	  certificate: $SP_TMP/pki/server.pem
	  key: $SP_TMP/pki/server.key
	database: $(sp_api_database "$SP_TMP/api.db")
	tokens:
	  - name: client
	    role: proxy
	    file: $SP_TMP/api-client.token
	  - name: admin
	    role: admin
	    file: $SP_TMP/admin.token
	logging:
	  level: info
	  targets:
	    - type: stderr
	YAML
}
