#!/bin/bash
# api_roles.sh - token roles of smartproxy-api (docs/api.md 1.1): every
# endpoint with an admin, a proxy and a read token against the real daemon.
# A call outside the role is 403 with error.code "forbidden" naming the
# role; one inside it is never 403. The bodies are chosen so that no call
# changes anything (unknown IDs, empty bodies), and the revision is the
# same at the end. Also: the issue's two abuses with the client's token
# (partners add 0.0.0.0/0, rules add --match security) through
# smartproxyctl; `read` sees partners without password hashes; --check names
# a token without a role by file, line and key.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
sp_init 90

API=$SP_TOP_BUILDDIR/smartproxy-api
CTL=$SP_TOP_BUILDDIR/smartproxyctl
sp_require_prog "$API" "$CTL"
sp_need curl curl
sp_need python3 python3

make_certs "$SP_TMP/pki"
D=$SP_TMP
echo "admin-token-0123456789abc" >"$D/admin.token"
echo "proxy-token-0123456789abc" >"$D/proxy.token"
echo "read-token-0123456789abcd" >"$D/read.token"

cat >"$D/api.yaml" <<YAML
listen: "127.0.0.1:0"
tls:
  certificate: $D/pki/server.pem
  key: $D/pki/server.key
database: $(sp_api_database "$D/api.db")
tokens:
  - name: ops
    role: admin
    file: $D/admin.token
  - name: client
    role: proxy
    file: $D/proxy.token
  - name: monitor
    role: read
    file: $D/read.token
logging:
  level: info
  targets:
    - type: stderr
YAML

# --check: a token without a role is named by file, line and key.
sed '/role: proxy/d' "$D/api.yaml" >"$D/norole.yaml"
"$API" --config "$D/norole.yaml" --check >"$D/norole.out" 2>&1 && sp_fail "--check accepted a token without a role"
sp_grep "norole.yaml:10: key 'tokens\[1\].role': required but missing" "$D/norole.out"
sed 's/role: read/role: root/' "$D/api.yaml" >"$D/badrole.yaml"
"$API" --config "$D/badrole.yaml" --check >"$D/badrole.out" 2>&1 && sp_fail "--check accepted role root"
sp_grep "key 'tokens\[2\].role'" "$D/badrole.out"
"$API" --config "$D/api.yaml" --check >"$D/check.out" 2>&1 || { cat "$D/check.out" >&2; sp_fail "--check refused roles"; }

cat >"$D/site.yaml" <<YAML
listeners:
  - name: partners
    address: "127.0.0.1:6619"
    tls:
      certificate_chain: $D/pki/server.pem
      private_key: $D/pki/server.key
partners:
  - odette_id: O0013000000ACME
    password: SECRET1
    allowed_networks: [127.0.0.0/8]
YAML
"$API" --config "$D/api.yaml" --import "$D/site.yaml" >"$D/import.log" 2>&1 ||
	{ cat "$D/import.log" >&2; sp_fail "import failed"; }

sp_start api "$API" --config "$D/api.yaml" --port-file "$D/port"
API_PID=$SP_LAST_PID
PORT=$(sp_wait_port_file "$D/port")

# Every endpoint of the route table; the expected roles besides admin.
python3 - "$PORT" "$D" <<'PY' || { sp_dump_logs; sp_fail "role matrix"; }
import http.client, json, os, ssl, sys
port, d = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=d + "/pki/ca.pem")
tok = {r: open("%s/%s.token" % (d, r)).read().strip() for r in ("admin", "proxy", "read")}
T = 30 * int(os.environ["SP_TIME_FACTOR"])
#        method    path                                   roles besides admin
matrix = [("GET",    "/v1/config",                        {"proxy"}),
          ("GET",    "/v1/partners",                      {"read"}),
          ("POST",   "/v1/partners",                      set()),
          ("PUT",    "/v1/partners/NOSUCH",               set()),
          ("POST",   "/v1/partners/NOSUCH/disable",       set()),
          ("POST",   "/v1/partners/NOSUCH/enable",        set()),
          ("POST",   "/v1/partners/NOSUCH/online_block",  set()),
          ("DELETE", "/v1/partners/NOSUCH/online_block",  set()),
          ("GET",    "/v1/rules",                         {"read"}),
          ("POST",   "/v1/rules",                         set()),
          ("DELETE", "/v1/rules/999999",                  set()),
          ("GET",    "/v1/events",                        {"read"}),
          ("POST",   "/v1/events",                        {"proxy"}),
          ("GET",    "/v1/sessions",                      {"read"}),
          ("POST",   "/v1/sessions",                      {"proxy"}),
          ("GET",    "/v1/status",                        {"read"}),
          ("GET",    "/v1/settings",                      {"read"}),
          ("GET",    "/v1/routes",                        {"read"}),
          ("GET",    "/v1/sessions/live",                 {"read"}),
          ("GET",    "/metrics",                          {"read"}),
          ("POST",   "/v1/status",                        {"proxy"}),
          ("POST",   "/v1/decisions/ssid",                {"proxy"})]
def call(method, path, role, body=None):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=T)
    h = {"Authorization": "Bearer " + tok[role]}
    if method in ("POST", "PUT"):
        h["Content-Type"] = "application/json"
        body = "{}" if body is None else body
    c.request(method, path, body, h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data
bad = []
for method, path, roles in matrix:
    for role in ("admin", "proxy", "read"):
        st, data = call(method, path, role)
        allowed = role == "admin" or role in roles
        if allowed and st in (401, 403):
            bad.append("%s %s as %s: %d %s" % (method, path, role, st, data[:200]))
        if not allowed:
            e = json.loads(data).get("error", {}) if data else {}
            if st != 403 or e.get("code") != "forbidden" or e.get("role") != role or \
                    ("'%s'" % role) not in e.get("message", ""):
                bad.append("%s %s as %s: %d %s (want 403 naming the role)" % (method, path, role, st, data[:200]))
# Health needs no token; an unknown token is still 401, not 403.
c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=T)
c.request("GET", "/v1/health"); r = c.getresponse(); r.read()
if r.status != 200: bad.append("health %d" % r.status)
# read sees partners, but no password hash; admin sees it.
st, data = call("GET", "/v1/partners", "read")
p = json.loads(data)["partners"][0]
if p["odette_id"] != "O0013000000ACME" or "password_hash" in p:
    bad.append("read's partner list: %s" % data[:300])
st, data = call("GET", "/v1/partners", "admin")
if "password_hash" not in json.loads(data)["partners"][0]:
    bad.append("admin's partner list lacks the hash")
# The revision did not move: nothing above changed anything.
st, data = call("GET", "/v1/config", "proxy")
if json.loads(data)["revision"] != 1:
    bad.append("revision moved to %s" % json.loads(data)["revision"])
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY

# The abuses of the issue, with the client's (proxy) token through smartproxyctl.
export SMARTPROXYCTL_URL=https://127.0.0.1:$PORT/ SMARTPROXYCTL_CA=$D/pki/ca.pem
echo EVIL1 | SMARTPROXYCTL_TOKEN_FILE=$D/proxy.token "$CTL" partners add O0013000000EVIL \
	--password-file - --network 0.0.0.0/0 >"$D/evil.out" 2>&1 && sp_fail "the proxy token added a partner"
sp_grep "role 'proxy'" "$D/evil.out"
SMARTPROXYCTL_TOKEN_FILE=$D/proxy.token "$CTL" rules add --match security --description x --forever \
	>"$D/rule.out" 2>&1 && sp_fail "the proxy token added a rule"
sp_grep "role 'proxy'" "$D/rule.out"
SMARTPROXYCTL_TOKEN_FILE=$D/read.token "$CTL" partners list >"$D/list.out" 2>&1 ||
	sp_fail "the read token cannot list partners: $(cat "$D/list.out")"
sp_grep O0013000000ACME "$D/list.out"
SMARTPROXYCTL_TOKEN_FILE=$D/admin.token "$CTL" --json partners list >"$D/list.json" 2>&1 ||
	sp_fail "admin partners list: $(cat "$D/list.json")"
grep -q EVIL "$D/list.json" && sp_fail "EVIL was added"
sp_grep "-> 403 token=client" "$D/api.log"

kill -TERM "$API_PID"
sp_wait "$API_PID" 20 || sp_fail "smartproxy-api exit status $?"
exit 0
