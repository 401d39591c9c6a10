#!/bin/bash
# dmz_surface.sh - the DMZ->backend surface (docs/api.md 1.2) with a
# compromised server: fake_dmz.py holds the server's identity key, so the
# real smartproxy-client pairs with it, and it asks the client to send the
# real smartproxy-api what the issue showed was possible: POST v1/partners
# (a partner allowed from 0.0.0.0/0), POST v1/rules (silence every security
# line), the same as a question, a false v1/status, and an event with a
# malformed body. Each is refused: the backend is unchanged (revision,
# partners, rules), the client writes a server_request_refused security line
# per request, and the backend gets one event for them (rate-limited; the
# rest are counted and named when the client stops). What is on the surface
# still passes: an audit record with the optional ESID members, an event,
# and the SSID question (answered 200). The positive signal that every
# message was handled is the last event reaching the backend: the client
# handles the server's messages in order and posts in order.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_init 120

sp_require_prog "$SP_API"
sp_need python3 python3
sp_need curl curl
chain_init
D=$SP_TMP
PKI=$D/pki

# ---- the real backend: the client's token has role proxy ----
cp "$D/token" "$D/api-client.token"
echo "admin-token-0123456789abc" >"$D/admin.token"
cat >"$D/api.yaml" <<YAML
listen: "127.0.0.1:0"
tls:
  certificate: $PKI/server.pem
  key: $PKI/server.key
database: $D/api.db
tokens:
  - name: client
    role: proxy
    file: $D/api-client.token
  - name: admin
    role: admin
    file: $D/admin.token
logging:
  level: info
  targets:
    - type: stderr
YAML
cat >"$D/site.yaml" <<YAML
partners:
  - odette_id: O0013000000ACME
    password: ACMEPW
    allowed_networks: [127.0.0.0/8]
YAML
"$SP_API" --config "$D/api.yaml" --import "$D/site.yaml" >"$D/import.log" 2>&1 ||
	{ cat "$D/import.log" >&2; sp_fail "site import failed"; }
sp_start api "$SP_API" --config "$D/api.yaml" --port-file "$D/api.port"
API_PID=$SP_LAST_PID
BACKEND_PORT=$(sp_wait_port_file "$D/api.port")
chain_write_client_conf "$PROXY_ID"

admin_get() { # PATH: the admin's GET, body on stdout
	curl -sS --fail --max-time $(sp_time 20) --cacert "$PKI/ca.pem" \
		-H "Authorization: Bearer $(cat "$D/admin.token")" "https://127.0.0.1:$BACKEND_PORT/$1"
}

# ---- what the compromised server sends ----
python3 - "$D/script.json" <<'PY'
import json, sys
post = lambda path, body: {"type": "backend_post", "path": path, "body": json.dumps(body)}
ask = lambda i, path, body: {"type": "ask", "id": i, "path": path, "body": json.dumps(body)}
evil = {"odette_id": "O0013000000EVIL", "password": "EVIL1", "allowed_networks": ["0.0.0.0/0"]}
script = [
    post("v1/partners", evil),
    post("v1/rules", {"description": "quiet", "match": "security"}),
    ask(7, "v1/partners", evil),
    post("v1/status", {"connected": False, "server": "elsewhere"}),
    post("v1/events", {"type": "log.core", "message": 5}),
    post("v1/partners/O0013000000ACME/disable", {}),
    # On the surface: these pass.
    post("v1/sessions", {"session": "17", "ended": "2026-11-25T04:11:31Z", "partner": "O0013000000ACME",
                         "esid": "03", "esid_from": "partner", "end_reason": "refused"}),
    ask(8, "v1/decisions/ssid", {"odette_id": "O0013000000ACME", "source_address": "127.0.0.1"}),
    post("v1/events", {"type": "dmz.marker", "severity": "crit", "message": "last message of the fake DMZ"}),
]
json.dump(script, open(sys.argv[1], "w"))
PY

sp_start dmz python3 "$SP_IT/fake_dmz.py" "$TUNNEL_PORT" "$D/server-state/server.crt" \
	"$D/server-state/server.key" "$D/script.json" "$D/answers.json"
chain_wait_log dmz "fake DMZ listening"
chain_start_client
chain_wait_log client "connected to server"

# Every message handled: the marker event reached the backend.
i=0
until admin_get "v1/events?limit=1000" >"$D/events.json" 2>/dev/null && grep -q dmz.marker "$D/events.json"; do
	[ "$i" -ge $(($(sp_time 30) * 10)) ] && { sp_dump_logs; sp_fail "the marker event never reached the backend"; }
	sleep 0.1; i=$((i + 1))
done
sp_wait_file "$D/answers.json" 20
i=0
until python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); sys.exit(0 if "7" in a and "8" in a else 1)' "$D/answers.json" 2>/dev/null; do
	[ "$i" -ge $(($(sp_time 20) * 10)) ] && { sp_dump_logs; sp_fail "questions 7 and 8 not both answered: $(cat "$D/answers.json")"; }
	sleep 0.1; i=$((i + 1))
done

# The backend is unchanged.
admin_get v1/partners >"$D/partners.json" || sp_fail "GET v1/partners"
admin_get v1/rules >"$D/rules.json" || sp_fail "GET v1/rules"
admin_get v1/status >"$D/status.json" || sp_fail "GET v1/status"
admin_get v1/sessions >"$D/sessions.json" || sp_fail "GET v1/sessions"
python3 - "$D" <<'PY' || { sp_dump_logs; sp_fail "the backend changed, or the surface did not pass"; }
import json, sys
d = sys.argv[1]
load = lambda n: json.load(open("%s/%s.json" % (d, n)))
ps = load("partners")["partners"]
assert [p["odette_id"] for p in ps] == ["O0013000000ACME"], ps
assert ps[0]["enabled"] is True, ps
assert load("rules")["rules"] == [], load("rules")
st = load("status")
assert st["revision"] == 1, st
assert st["proxy"]["status"].get("server") != "elsewhere", st
ss = load("sessions")["sessions"]
assert len(ss) == 1 and ss[0]["esid"] == "03" and ss[0]["esid_from"] == "partner", ss
ev = load("events")["events"]
refused = [e for e in ev if e["type"] == "server_request_refused"]
# Rate-limited: the first refusal at once, the rest held for the next report.
assert len(refused) == 1 and refused[0]["severity"] == "crit", refused
assert not [e for e in ev if e["type"] == "log.core"], ev
a = json.load(open(d + "/answers.json"))
assert a["7"]["status"] == -1 and a["7"]["body"] is None, a
assert a["8"]["status"] == 200 and json.loads(a["8"]["body"])["allow"] is True, a
PY

# One security line per refused request, naming what was refused.
line="WARN security \[dmz_refuse\] server_request_refused from 127.0.0.1:$TUNNEL_PORT: "
sp_grep "${line}document dropped: POST v1/partners is not on the DMZ surface" "$D/client.log"
sp_grep "${line}document dropped: POST v1/rules is not on the DMZ surface" "$D/client.log"
sp_grep "${line}question not asked: POST v1/partners is not on the DMZ surface" "$D/client.log"
sp_grep "${line}document dropped: POST v1/status is not on the DMZ surface" "$D/client.log"
sp_grep "${line}document dropped: POST v1/events: body refused: 'message' must be a string" "$D/client.log"
sp_grep "${line}document dropped: POST v1/partners/O0013000000ACME/disable is not on the DMZ surface" "$D/client.log"
[ "$(grep -c "server_request_refused from" "$D/client.log")" -eq 6 ] || sp_fail "not six refusals"
# The backend saw none of them.
grep -q "POST /v1/partners\|POST /v1/rules\|-> 400" "$D/api.log" && sp_fail "a refused request reached the backend"

# Stopped, the client names the refusals it had not reported yet.
chain_stop client "$CLIENT_PID"
sp_grep "stopping: 5 refused server request(s) not reported" "$D/client.log"
chain_stop api "$API_PID"
exit 0
