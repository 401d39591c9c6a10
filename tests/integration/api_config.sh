#!/bin/bash
# api_config.sh - smartproxy-api end to end: import a site, GET /v1/config over
# HTTPS with a bearer token, ETag/304, a second import bumps the revision and
# wakes a waiting long poll within a second, 401s, partner and rule endpoints,
# garbage and plain HTTP on the TLS port, database mode 0600.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
sp_init 90

API=$SP_TOP_BUILDDIR/smartproxy-api
sp_require_prog "$API"
sp_need curl curl
sp_need python3 python3

make_certs "$SP_TMP/pki"
D=$SP_TMP
TOKEN=abcdefghijklmnop0123456789
printf '%s\n' "$TOKEN" >"$D/client.token"
ADMIN_HASH=$(printf 'admin-token-0123456789\n' | "$API" --hash-token) ||
	sp_fail "--hash-token failed"

cat >"$D/api.yaml" <<YAML
listen: "127.0.0.1:0"
tls:
  certificate: $D/pki/server.pem
  key: $D/pki/server.key
database: $(sp_api_database "$D/api.db")
max_waiting: 4
tokens:
  - name: client
    role: proxy
    file: $D/client.token
  - name: admin
    role: admin
    sha256: $ADMIN_HASH
logging:
  level: debug
YAML

write_site() { # max_sessions
	cat >"$D/site.yaml" <<YAML
listeners:
  - name: oftp2-tls
    address: "127.0.0.1:6619"
    tls:
      certificate_chain: pki/server.pem
      private_key: pki/server.key
partners:
  - odette_id: O0013000000TEST
    description: test partner
    password: SECRET1
    allowed_networks: [127.0.0.0/8, "::1"]
    tls:
      require_client_cert: true
      ca_bundle: pki/ca.pem
    max_sessions: 3
    valid_from: 2024-01-01
routes:
  - name: test-out
    client_listen: "127.0.0.1:13305"
    partner_odette_id: O0013000000TEST
    partner_address: "127.0.0.1:6620"
    source_address: 127.0.0.1
    tls:
      pins: [$(printf 'ab%.0s' $(seq 32))]
limits:
  max_sessions: $1
log_ignore:
  - description: noisy scanner
    match: connection reset
modules:
  oftp2:
    tolerate_lowercase: true
YAML
}

# A listener key that does not belong to its certificate is refused.
write_site 100
sed 's|private_key: pki/server.key|private_key: pki/client.key|' "$D/site.yaml" >"$D/mismatch.yaml"
"$API" --check-site "$D/mismatch.yaml" >"$D/mismatch.out" 2>&1 && sp_fail "--check-site accepted a key of another certificate"
sp_grep "key 'listeners\[0\].tls'" "$D/mismatch.out"
sed 's|password: SECRET1|password: SECRET1\n    pasword: typo|' "$D/site.yaml" >"$D/typo.yaml"
"$API" --check-site "$D/typo.yaml" >"$D/typo.out" 2>&1 && sp_fail "--check-site accepted an unknown key"
sp_grep "typo.yaml:11: key 'partners\[0\].pasword': unknown key" "$D/typo.out"
[ -e "$D/api.db" ] && sp_fail "--check-site created the database"

"$API" --check-site "$D/site.yaml" >"$D/check.out" 2>&1 || { cat "$D/check.out" >&2; sp_fail "--check-site refused a good site"; }
"$API" --config "$D/api.yaml" --import "$D/site.yaml" >"$D/import1.log" 2>&1 ||
	{ cat "$D/import1.log" >&2; sp_fail "first import failed"; }
sp_grep "as revision 1" "$D/import1.log"
sp_on_pg || [ "$(stat -c %a "$D/api.db")" = 600 ] || sp_fail "database mode is $(stat -c %a "$D/api.db"), not 600"

sp_start api "$API" --config "$D/api.yaml" --port-file "$D/port"
API_PID=$SP_LAST_PID
PORT=$(sp_wait_port_file "$D/port")
URL=https://127.0.0.1:$PORT

get() { # extra curl args...; prints status, headers to $D/h, body to $D/b
	curl -sS --max-time $(sp_time 70) --cacert "$D/pki/ca.pem" -D "$D/h" -o "$D/b" \
		-w '%{http_code}' "$@"
}
auth=(-H "Authorization: Bearer $TOKEN")

# Health needs no token.
[ "$(get "$URL/v1/health")" = 200 ] || sp_fail "health"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d=={"status":"ok","revision":1}, d' "$D/b" ||
	sp_fail "health body: $(cat "$D/b")"

# 401 without a token, with a wrong one, with a malformed header.
[ "$(get "$URL/v1/config")" = 401 ] || sp_fail "no token not refused"
sp_grep '"code":"unauthorized"' "$D/b"
grep -qi '^WWW-Authenticate: Bearer' "$D/h" || sp_fail "no WWW-Authenticate"
[ "$(get -H "Authorization: Bearer wrongwrongwrongwrong" "$URL/v1/config")" = 401 ] || sp_fail "wrong token not refused"
[ "$(get -H "Authorization: Basic $TOKEN" "$URL/v1/config")" = 401 ] || sp_fail "Basic auth not refused"
[ "$(get -H "Authorization: Bearer ${TOKEN}x" "$URL/v1/config")" = 401 ] || sp_fail "token with suffix not refused"
[ "$(get "${auth[@]}" "$URL/v1/nothing")" = 404 ] || sp_fail "unknown path"
[ "$(get "${auth[@]}" -X DELETE "$URL/v1/config")" = 405 ] || sp_fail "wrong method"
grep -qi '^Allow: GET' "$D/h" || sp_fail "no Allow header"

# The document.
[ "$(get "${auth[@]}" "$URL/v1/config")" = 200 ] || sp_fail "config: $(cat "$D/b")"
grep -qi '^ETag: "rev-1"' "$D/h" || sp_fail "ETag: $(cat "$D/h")"
python3 - "$D/b" "$D/pki/server.pem" <<'PY' || sp_fail "config document wrong: $(head -c 600 "$D/b")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["api_version"] == 1 and d["revision"] == 1, d["revision"]
l = d["listeners"][0]
assert l["name"] == "oftp2-tls" and l["address"] == "127.0.0.1:6619"
assert l["tls"]["certificate_chain"] == open(sys.argv[2]).read()
assert "PRIVATE KEY" in l["tls"]["private_key"]
assert l["tls"]["require_client_cert"] is False and l["tls"]["request_client_cert"] is True
p = d["modules"]["partner"]["partners"][0]
assert p["odette_id"] == "O0013000000TEST" and p["enabled"] is True
assert p["password_hash"].startswith("pbkdf2-sha256$100000$"), p["password_hash"]
assert "SECRET1" not in open(sys.argv[1]).read()
assert p["allowed_networks"] == ["127.0.0.0/8", "::1/128"], p["allowed_networks"]
assert p["tls"]["require_client_cert"] is True and p["tls"]["pins"] == []
assert p["tls"]["ca_bundle"].startswith("-----BEGIN CERTIFICATE-----")
assert p["max_sessions"] == 3 and p["valid_from"] == "2024-01-01T00:00:00Z" and p["valid_until"] is None
r = d["routes"][0]
assert r["name"] == "test-out" and r["source_address"] == "127.0.0.1"
assert r["tls"]["pins"] == ["ab" * 32] and r["tls"]["ca_bundle"] is None
assert r["tls"]["client_certificate_chain"] is None
assert d["limits"]["max_sessions"] == 100 and d["limits"]["linger_ms"] == 5000
rule = d["modules"]["log_ignore"]["rules"][0]
assert rule["match"] == "connection reset" and rule["id"] >= 1
assert d["modules"]["oftp2"] == {"tolerate_lowercase": True}
PY

# ETag / 304.
[ "$(get "${auth[@]}" -H 'If-None-Match: "rev-1"' "$URL/v1/config")" = 304 ] || sp_fail "no 304"
[ "$(get "${auth[@]}" -H 'If-None-Match: "rev-0"' "$URL/v1/config")" = 200 ] || sp_fail "stale tag not 200"
[ "$(get "${auth[@]}" "$URL/v1/config?wait=61")" = 400 ] || sp_fail "wait=61 accepted"
[ "$(get "${auth[@]}" "$URL/v1/config?wait=x")" = 400 ] || sp_fail "wait=x accepted"
# A long poll with no change ends with 304 after its time.
start=$(date +%s.%N)
[ "$(get "${auth[@]}" -H 'If-None-Match: "rev-1"' "$URL/v1/config?wait=1")" = 304 ] || sp_fail "idle long poll"
python3 -c 'import sys; t=float(sys.argv[2])-float(sys.argv[1]); assert 0.9 <= t < 5 * int(sys.argv[3]), t' \
	"$start" "$(date +%s.%N)" "$SP_TIME_FACTOR" || sp_fail "idle long poll did not wait about a second"

# A waiting long poll returns soon after a second import, not at the end of
# its 60 s wait. The api logs (debug) when the poll starts to wait: the
# import comes only after that line, so it is the wake-up that is tested.
nwait=$(grep -c "long poll waits up to 60 s" "$D/api.log")
( get "${auth[@]}" -H 'If-None-Match: "rev-1"' "$URL/v1/config?wait=60" >"$D/poll.status"; date +%s.%N >"$D/poll.end" ) &
POLL=$!
SP_PIDS="$SP_PIDS $POLL"
i=0
until [ "$(grep -c "long poll waits up to 60 s" "$D/api.log")" -gt "$nwait" ]; do
	[ "$i" -ge $(($(sp_time 20) * 10)) ] && { sp_dump_logs; sp_fail "the long poll never started to wait"; }
	sleep 0.1; i=$((i + 1))
done
[ -s "$D/poll.end" ] && sp_fail "long poll returned before the change"
write_site 200
"$API" --config "$D/api.yaml" --import "$D/site.yaml" >"$D/import2.log" 2>&1 || sp_fail "second import"
imported=$(date +%s.%N)
sp_grep "as revision 2" "$D/import2.log"
sp_wait "$POLL" 80 || sp_fail "long poll client failed"
[ "$(cat "$D/poll.status")" = 200 ] || sp_fail "long poll status $(cat "$D/poll.status")"
# Woken by the change, not by its own 60 s deadline (a bound, not a speed).
python3 -c 'import sys; t=float(sys.argv[2])-float(sys.argv[1]); assert t < 45.0, t' "$imported" "$(cat "$D/poll.end")" ||
	sp_fail "long poll was not woken by the import"
[ "$(get "${auth[@]}" "$URL/v1/config")" = 200 ] || sp_fail "config after import"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["revision"]==2 and d["limits"]["max_sessions"]==200' "$D/b" ||
	sp_fail "revision 2 not served"

# Partners and rules through the API (admin token): each change is a revision.
admin=(-H "Authorization: Bearer admin-token-0123456789")
[ "$(get "${admin[@]}" -H 'Content-Type: application/json' -d '{"odette_id":"O0013000000NEW","password":"PW2","allowed_networks":["192.0.2.0/24"]}' "$URL/v1/partners")" = 201 ] ||
	sp_fail "add partner: $(cat "$D/b")"
[ "$(get "${admin[@]}" -H 'Content-Type: application/json' -d '{"odette_id":"O0013000000NEW","password":"PW2","allowed_networks":[]}' "$URL/v1/partners")" = 409 ] ||
	sp_fail "duplicate partner not 409"
[ "$(get "${admin[@]}" -H 'Content-Type: application/json' -d '{"odette_id":"bad id","password":"PW2","allowed_networks":[]}' "$URL/v1/partners")" = 400 ] ||
	sp_fail "bad ODETTE ID not 400"
[ "$(get "${admin[@]}" -H 'Content-Type: application/json' -d '{"odette_id":' "$URL/v1/partners")" = 400 ] ||
	sp_fail "truncated JSON not 400"
[ "$(get "${admin[@]}" -d '{}' "$URL/v1/partners")" = 415 ] || sp_fail "form body not 415"
[ "$(get "${admin[@]}" -X POST "$URL/v1/partners/O0013000000TEST/disable")" = 200 ] || sp_fail "disable"
[ "$(get "${admin[@]}" -X POST "$URL/v1/partners/NOSUCH/disable")" = 404 ] || sp_fail "disable unknown"
[ "$(get "${admin[@]}" -H 'Content-Type: application/json' -d '{"description":"d","match":"tls alert","valid_until":"2030-01-01T00:00:00Z"}' "$URL/v1/rules")" = 201 ] ||
	sp_fail "add rule: $(cat "$D/b")"
RULE_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$D/b")
[ "$(get "${admin[@]}" -X DELETE "$URL/v1/rules/$RULE_ID")" = 204 ] || sp_fail "remove rule"
[ "$(get "${admin[@]}" -X DELETE "$URL/v1/rules/$RULE_ID")" = 404 ] || sp_fail "remove rule twice"
[ "$(get "${auth[@]}" "$URL/v1/config")" = 200 ] || sp_fail "config after changes"
python3 - "$D/b" <<'PY' || sp_fail "changes not in the document: $(head -c 400 "$D/b")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["revision"] == 6, d["revision"]
ps = {p["odette_id"]: p for p in d["modules"]["partner"]["partners"]}
assert ps["O0013000000TEST"]["enabled"] is False
assert ps["O0013000000NEW"]["allowed_networks"] == ["192.0.2.0/24"]
assert len(d["modules"]["log_ignore"]["rules"]) == 1
PY

# A body over 1 MiB is refused.
head -c 1100000 /dev/zero | tr '\0' ' ' >"$D/big"
[ "$(get "${admin[@]}" -H 'Content-Type: application/json' --data-binary @"$D/big" "$URL/v1/rules")" = 413 ] ||
	sp_fail "big body not 413"

# Garbage and plain HTTP on the TLS port: the connection is closed, the daemon lives.
python3 - "$PORT" <<'PY' || sp_fail "garbage/plain HTTP not closed"
import socket, sys
for payload in (b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n", bytes(range(256)) * 4):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10 * int(__import__("os").environ["SP_TIME_FACTOR"]))
    s.sendall(payload)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
        assert len(data) < 4096
    assert b"HTTP/1.1 200" not in data and b'"status"' not in data, data
    s.close()
PY
kill -0 "$API_PID" 2>/dev/null || sp_fail "daemon died"
[ "$(get "$URL/v1/health")" = 200 ] || sp_fail "health after garbage"

# Clean stop by PID.
kill -TERM "$API_PID"
sp_wait "$API_PID" 20 || sp_fail "daemon exit status $? (leaks or crash?): $(tail -5 "$D/api.log")"
sp_on_pg || [ "$(stat -c %a "$D/api.db")" = 600 ] || sp_fail "database mode changed"
exit 0
