#!/bin/bash
# api_limits.sh - smartproxy-api under abuse (docs/api.md 6.1, `limits`):
#  1. 80 slow clients from 127.0.0.1, each trickling one byte of its headers
#     a second (never idle), hold at most per_address (40) of the
#     max_connections (60); the rest are closed at once; meanwhile a client
#     from 127.0.0.2 is served at once;
#  2. the slow ones are cut at header_timeout (a log line each), although
#     they were never idle;
#  3. a body that stops half-way is cut at body_timeout;
#  4. a declared Content-Length over 1 MiB is answered 413 before any byte
#     of the body was sent.
# With per_address equal to max_connections (the old behaviour), step 1
# fails: the slow clients take all 60 and 127.0.0.2 is locked out.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
sp_init 180

API=$SP_TOP_BUILDDIR/smartproxy-api
sp_require_prog "$API"
sp_need curl curl
sp_need python3 python3

make_certs "$SP_TMP/pki"
D=$SP_TMP
echo "admin-token-0123456789abc" >"$D/admin.token"
HEADER_S=$(sp_time 10)
BODY_S=$(sp_time 2)
cat >"$D/api.yaml" <<YAML
listen: "127.0.0.1:0"
tls:
  certificate: $D/pki/server.pem
  key: $D/pki/server.key
database: $(sp_api_database "$D/api.db")
limits:
  max_connections: 60
  per_address: ${API_PER_ADDRESS:-40}
  header_timeout: $HEADER_S
  body_timeout: $BODY_S
tokens:
  - name: admin
    role: admin
    file: $D/admin.token
logging:
  level: info
  targets:
    - type: stderr
YAML

# per_address must stay below max_connections.
sed 's/per_address: .*/per_address: 60/' "$D/api.yaml" >"$D/equal.yaml"
"$API" --config "$D/equal.yaml" --check >"$D/equal.out" 2>&1 && sp_fail "--check accepted per_address = max_connections"
sp_grep "key 'limits.per_address': must be below max_connections (60)" "$D/equal.out"

sp_start api "$API" --config "$D/api.yaml" --port-file "$D/port"
API_PID=$SP_LAST_PID
PORT=$(sp_wait_port_file "$D/port")

# slow.py N OUT: N slow clients from 127.0.0.1; writes {"held", "refused",
# "elapsed"} to OUT once all were tried, then trickles a byte a second
# into each held one until the api closed them all; prints how long the
# last one lived.
cat >"$D/slow.py" <<'PY'
import json, os, select, socket, ssl, sys, time
port, n, out, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
T = 10 * int(os.environ["SP_TIME_FACTOR"])
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
held, refused, t0 = [], 0, time.monotonic()
for i in range(n):
    raw = socket.create_connection(("127.0.0.1", port), timeout=T)
    try:
        s = ctx.wrap_socket(raw)
        s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        held.append(s)
    except (ssl.SSLError, OSError):
        refused += 1
        raw.close()
json.dump({"held": len(held), "refused": refused, "elapsed": time.monotonic() - t0}, open(out + ".tmp", "w"))
os.rename(out + ".tmp", out)
while held:
    time.sleep(1)
    for s in list(held):
        try:
            s.sendall(b"a")
            if select.select([s], [], [], 0)[0] and not s.recv(4096):
                raise EOFError
        except (EOFError, OSError, ssl.SSLError):
            held.remove(s)
print("all slow clients closed after %.1f s" % (time.monotonic() - t0))
PY
sp_start slow python3 "$D/slow.py" "$PORT" 80 "$D/slow.json" "$D/pki/ca.pem"
SLOW_PID=$SP_LAST_PID
sp_wait_file "$D/slow.json" 60

# While they hold: another address is served at once; this one is not.
code=$(curl -sS --interface 127.0.0.2 --max-time $(sp_time 5) --cacert "$D/pki/ca.pem" -o "$D/health.json" \
	-w '%{http_code}' "https://127.0.0.1:$PORT/v1/health") || true
[ "$code" = 200 ] || { sp_dump_logs; sp_fail "127.0.0.2 not served while 127.0.0.1 holds its connections (HTTP $code)"; }
curl -sS --max-time $(sp_time 5) --cacert "$D/pki/ca.pem" -o /dev/null "https://127.0.0.1:$PORT/v1/health" 2>/dev/null &&
	sp_fail "127.0.0.1 got a 41st connection"
python3 - "$D/slow.json" "$HEADER_S" <<'PY' || { sp_dump_logs; sp_fail "per-address limit: $(cat "$D/slow.json")"; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["held"] + d["refused"] == 80, d
# Exactly the limit, unless a deadline already freed slots while trying.
assert d["held"] == 40 or (d["held"] > 40 and d["elapsed"] >= int(sys.argv[2])), d
PY
sp_log "80 slow clients: $(cat "$D/slow.json"); 127.0.0.2 served"

# They are cut at the header deadline, though never idle.
sp_wait "$SLOW_PID" $((HEADER_S + 30)) || { sp_dump_logs; sp_fail "slow clients not all closed"; }
n=$(grep -c "client 127.0.0.1 did not send its request headers within $HEADER_S s: connection closed" "$D/api.log")
[ "$n" -ge 40 ] || { sp_dump_logs; sp_fail "$n header deadline lines, not 40"; }

# A body that stops half-way is cut at the body deadline; a declared length
# over 1 MiB is answered 413 before any of the body was sent.
python3 - "$PORT" "$D/pki/ca.pem" <<'PY' || { sp_dump_logs; sp_fail "body deadline or 413"; }
import os, socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
T = 20 * int(os.environ["SP_TIME_FACTOR"])
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
def conn(src):
    raw = socket.create_connection(("127.0.0.1", port), timeout=T, source_address=(src, 0))
    return ctx.wrap_socket(raw)
def read_all(s):
    data = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except (ssl.SSLError, ConnectionResetError):
        pass
    return data
s = conn("127.0.0.3")
s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: 100\r\n\r\n{\"type\":")
data = read_all(s)
assert b"HTTP/1.1 2" not in data, data
s = conn("127.0.0.4")
s.sendall(b"POST /v1/rules HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: 5000000\r\n\r\n")
data = read_all(s)
assert data.startswith(b"HTTP/1.1 413") and b'"too_large"' in data, data
PY
sp_grep "client 127.0.0.3 did not send its request body within $BODY_S s: connection closed" "$D/api.log"
sp_grep "POST /v1/rules -> 413 (declared length)" "$D/api.log"
grep -q "client 127.0.0.4 did not send" "$D/api.log" && sp_fail "the 413 waited for the body deadline"

kill -TERM "$API_PID"
sp_wait "$API_PID" 20 || sp_fail "smartproxy-api exit status $?"
exit 0
