#!/usr/bin/env bash
# api_import.sh - an operator's site file next to daily changes with
# smartproxyctl, against the real smartproxy-api:
#
#  1. smartproxyctl refuses what could never work, naming its own options:
#     a partner without --network, a rule without --until or --forever, a
#     bad network (the API's 'allowed_networks[0]' is shown as --network);
#  2. a partner and a rule added with smartproxyctl survive a re-import of
#     the site file (merge), which still updates what the file names;
#  3. --export writes a site file (0600, PEM files beside it) that imports
#     into a fresh database as the same state: the GET listings and the
#     configuration document of both daemons are equal;
#  4. partners remove: 204, then 404; a partner a route names is kept (409);
#  5. --replace first writes a 0600 backup next to the database; the backup
#     restored by copying brings back what the replace dropped;
#  6. --json everywhere (also after the command, also for errors) and the
#     exit codes of smartproxyctl --help: 0, 1, 2, 3; the NETWORKS column
#     lines up;
#  7. progress: --import --progress counts the partners of a long file,
#     smartproxyctl --progress reports the transfer of a listing.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
sp_init 120

API=$SP_TOP_BUILDDIR/smartproxy-api
CTL=$SP_TOP_BUILDDIR/smartproxyctl
sp_require_prog "$API" "$CTL"
sp_need curl curl
sp_need python3 python3

make_certs "$SP_TMP/pki"
D=$SP_TMP
echo "admin-token-0123456789abc" >"$D/admin.token"

api_conf() { # file database
	cat >"$1" <<YAML
listen: "127.0.0.1:0"
tls:
  certificate: $D/pki/server.pem
  key: $D/pki/server.key
database: $2
tokens:
  - name: admin
    role: admin
    file: $D/admin.token
logging:
  level: info
YAML
}
api_conf "$D/api.yaml" "$D/api.db"
api_conf "$D/fresh.yaml" "$D/fresh.db"
api_conf "$D/restored.yaml" "$D/restored.db"

write_site() { # description of ACME
	cat >"$D/site.yaml" <<YAML
listeners:
  - name: partners
    address: "127.0.0.1:6619"
    proxy_protocol:
      trusted: [10.0.0.0/8, "2001:db8::/32"]
    tls:
      certificate_chain: pki/server.pem
      private_key: pki/server.key
  - name: plain
    address: "127.0.0.1:3305"
partners:
  - odette_id: ACME
    description: "$1"
    password: SECRET1
    allowed_networks: [127.0.0.0/8, "::1"]
    tls:
      require_client_cert: true
      ca_bundle: pki/ca.pem
    max_sessions: 3
    valid_from: 2024-01-01
routes:
  - name: acme-out
    client_listen: "127.0.0.1:13305"
    partner_odette_id: ACME
    partner_address: "127.0.0.1:6620"
    tls:
      ca_bundle: pki/ca.pem
      pins: [$(printf 'ab%.0s' $(seq 32))]
      client_certificate_chain: pki/client.pem
      client_private_key: pki/client.key
outgoing:
  source_address: 127.0.0.1
limits:
  max_sessions: 50
log_ignore:
  - description: noisy scanner
    match: connection reset
    valid_until: 2099-01-01
modules:
  partner:
    brake: {max_failures: 5, window_ms: 60000, block_ms: 300000}
  oftp2:
    tolerate_lowercase: true
YAML
}

write_site "first import"
"$API" --config "$D/api.yaml" --import "$D/site.yaml" >"$D/import1.out" 2>&1 ||
	{ cat "$D/import1.out" >&2; sp_fail "first import"; }
sp_grep "as revision 1 (merged): listeners 2 new, 0 updated; partners 1 new" "$D/import1.out"

start_api() { # name config portfile
	sp_start "$1" "$API" --config "$2" --port-file "$3"
}
start_api api "$D/api.yaml" "$D/api.port"
API_PID=$SP_LAST_PID
PORT=$(sp_wait_port_file "$D/api.port")
export SMARTPROXYCTL_URL=https://127.0.0.1:$PORT/ SMARTPROXYCTL_TOKEN_FILE=$D/admin.token
export SMARTPROXYCTL_CA=$D/pki/ca.pem SMARTPROXYCTL_RC=/dev/null

# ctl_rc WANT ARGS...: run smartproxyctl, its exit status must be WANT;
# stdout in $D/out, stderr in $D/err.
ctl_rc() {
	local want=$1 rc=0
	shift
	"$CTL" "$@" >"$D/out" 2>"$D/err" || rc=$?
	[ "$rc" -eq "$want" ] || { cat "$D/out" "$D/err" >&2; sp_fail "smartproxyctl $*: exit $rc, expected $want"; }
}

# ---- 1. refusals that read right ----
printf 'PW2\n' >"$D/pw"
ctl_rc 2 partners add NEW --password-file "$D/pw"
sp_grep "give at least one --network CIDR (a partner without a network could never connect)" "$D/err"
ctl_rc 1 partners add NEW --password-file "$D/pw" --network 192.0.2.0/24 --network 10.0.0.1/8
sp_grep "smartproxyctl: --network #2 is not a valid network (HTTP 400 bad_request)" "$D/err"
grep -q "allowed_networks" "$D/err" && { cat "$D/err" >&2; sp_fail "the error names the API field, not the option"; }
ctl_rc 2 rules add --match "tls alert" --description "nightly probe"
sp_grep "give --until T, or --forever for a rule that never ends" "$D/err"
ctl_rc 2 rules add --match x --description y --until +1h --forever
sp_grep "exclude each other" "$D/err"
sp_log "refusals: no network, no end date, a bad network named as --network"

# ---- 2. daily changes survive a re-import ----
ctl_rc 0 partners add NEW --password-file "$D/pw" --network 192.0.2.0/24 --network 198.51.100.0/24 \
	--description "added by hand"
ctl_rc 0 partners add NET6 --password-file "$D/pw" --network 2001:db8::/32 --description "v6 only"
ctl_rc 0 rules add --match "tls alert" --description "nightly probe" --forever
sp_grep "nightly probe" "$D/out"
write_site "second import"
"$API" --config "$D/api.yaml" --import "$D/site.yaml" >"$D/import2.out" 2>&1 ||
	{ cat "$D/import2.out" >&2; sp_fail "second import"; }
sp_grep "(merged): listeners 0 new, 2 updated; partners 0 new, 1 updated; routes 0 new, 1 updated; rules 0 new, 1 already there" \
	"$D/import2.out"

ctl_rc 0 --json partners list
python3 - "$D/out" <<'PY' || sp_fail "partners after the merge: $(cat "$D/out")"
import json, sys
p = {p["odette_id"]: p for p in json.load(open(sys.argv[1]))["partners"]}
assert sorted(p) == ["ACME", "NET6", "NEW"], sorted(p)
assert p["ACME"]["description"] == "second import"
assert p["NEW"]["allowed_networks"] == ["192.0.2.0/24", "198.51.100.0/24"]
PY
ctl_rc 0 rules list --json
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["rules"]; assert sorted(x["description"] for x in r)==["nightly probe","noisy scanner"], r' \
	"$D/out" || sp_fail "rules after the merge: $(cat "$D/out")"
sp_log "merge: partners and rules added with smartproxyctl survive a re-import"

# The NETWORKS column lines up: DESCRIPTION starts at one offset in every row.
ctl_rc 0 partners list
python3 - "$D/out" <<'PY' || { cat "$D/out" >&2; sp_fail "NETWORKS column does not line up"; }
import sys
lines = open(sys.argv[1]).read().splitlines()
head = lines[0].index("DESCRIPTION")
want = {"ACME": "second import", "NEW": "added by hand", "NET6": "v6 only"}
for l in lines[1:]:
    key = l.split()[0]
    assert l.index(want[key]) == head, (l, head)
PY

# ---- 3. export, import into a fresh database, same state ----
"$API" --config "$D/api.yaml" --export "$D/export.yaml" >"$D/export.out" 2>&1 ||
	{ cat "$D/export.out" >&2; sp_fail "--export"; }
sp_grep "exported 2 listeners, 3 partners, 1 routes, 2 rules to $D/export.yaml" "$D/export.out"
[ "$(stat -c %a "$D/export.yaml")" = 600 ] || sp_fail "export mode $(stat -c %a "$D/export.yaml")"
[ "$(stat -c %a "$D/export.yaml.d")" = 700 ] || sp_fail "export dir mode"
for f in "$D"/export.yaml.d/*; do
	[ "$(stat -c %a "$f")" = 600 ] || sp_fail "$f mode $(stat -c %a "$f")"
done
grep -q "SECRET1\|PW2" "$D/export.yaml" && sp_fail "a clear password in the export"
sp_grep '^    proxy_protocol:$' "$D/export.yaml"
sp_grep '^      trusted: \["10.0.0.0/8","2001:db8::/32"\]$' "$D/export.yaml"
# Exporting again into the same place leaves no stale PEM file behind.
touch "$D/export.yaml.d/listener-gone-key.pem" "$D/export.yaml.d/notes.txt"
"$API" --config "$D/api.yaml" --export "$D/export.yaml" >"$D/export.out" 2>&1 || sp_fail "second --export"
[ -e "$D/export.yaml.d/listener-gone-key.pem" ] && sp_fail "a stale key file survived the export"
[ -e "$D/export.yaml.d/notes.txt" ] || sp_fail "the export removed a file that is not its own"
"$API" --check-site "$D/export.yaml" >"$D/check.out" 2>&1 || { cat "$D/check.out" >&2; sp_fail "export does not pass --check-site"; }
"$API" --config "$D/fresh.yaml" --import "$D/export.yaml" >"$D/import3.out" 2>&1 ||
	{ cat "$D/import3.out" >&2; sp_fail "import of the export"; }
start_api fresh "$D/fresh.yaml" "$D/fresh.port"
FRESH_PORT=$(sp_wait_port_file "$D/fresh.port")
# snapshot PORT NAME: the listings and the document, without what differs
# by nature (revision, time, rule ids).
snapshot() {
	local u="--url https://127.0.0.1:$1/"
	"$CTL" $u --json partners list >"$D/$2.partners" || sp_fail "$2: partners list"
	"$CTL" $u --json rules list >"$D/$2.rules" || sp_fail "$2: rules list"
	curl -sS --cacert "$D/pki/ca.pem" -H "Authorization: Bearer $(cat "$D/admin.token")" \
		"https://127.0.0.1:$1/v1/config" >"$D/$2.config" || sp_fail "$2: config"
	python3 - "$D/$2" <<'PY' >"$D/$2.norm" || sp_fail "$2: normalise"
import json, sys
b = sys.argv[1]
def no_ids(rules):
    return sorted((dict((k, v) for k, v in r.items() if k != "id") for r in rules),
                  key=lambda r: json.dumps(r, sort_keys=True))
c = json.load(open(b + ".config"))
del c["revision"], c["generated"]
c["modules"]["log_ignore"]["rules"] = no_ids(c["modules"]["log_ignore"]["rules"])
out = {"partners": json.load(open(b + ".partners")),
       "rules": no_ids(json.load(open(b + ".rules"))["rules"]), "config": c}
print(json.dumps(out, sort_keys=True, indent=1))
PY
}
snapshot "$PORT" orig
snapshot "$FRESH_PORT" fresh
diff -u "$D/orig.norm" "$D/fresh.norm" >&2 || sp_fail "the exported state differs after the round trip"
grep -q '"tolerate_lowercase": true' "$D/fresh.norm" || sp_fail "module section lost"
grep -q '"max_failures": 5' "$D/fresh.norm" || sp_fail "partner module members lost"
sp_log "export: a fresh database imported from it lists and serves the same state"

# ---- 4. partners remove ----
ctl_rc 0 partners remove NET6
sp_grep "partner NET6 removed" "$D/out"
ctl_rc 1 partners remove NET6
sp_grep "no such partner (HTTP 404 not_found)" "$D/err"
ctl_rc 1 partners remove ACME
sp_grep "a route names partner ACME" "$D/err"
ctl_rc 1 --json partners remove NET6
python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert e["code"]=="not_found" and e["http_status"]==404, e' \
	"$D/out" || sp_fail "--json error document: $(cat "$D/out")"
sp_log "remove: 204, then 404; a routed partner is kept (409)"

# ---- 5. --replace with a backup first ----
ls "$D"/api.db.backup-* >/dev/null 2>&1 && sp_fail "a backup before any --replace"
"$API" --config "$D/api.yaml" --import "$D/site.yaml" --replace >"$D/replace.out" 2>&1 ||
	{ cat "$D/replace.out" >&2; sp_fail "--replace"; }
sp_grep "backup of the database before the replace: $D/api.db.backup-" "$D/replace.out"
sp_grep "(replaced)" "$D/replace.out"
BACKUP=$(ls "$D"/api.db.backup-*)
[ "$(stat -c %a "$BACKUP")" = 600 ] || sp_fail "backup mode $(stat -c %a "$BACKUP")"
ctl_rc 0 --json partners list
python3 -c 'import json,sys; p=[x["odette_id"] for x in json.load(open(sys.argv[1]))["partners"]]; assert p==["ACME"], p' \
	"$D/out" || sp_fail "after --replace: $(cat "$D/out")"
# Restore as docs/operations.md says: the backup copied back as the database.
cp "$BACKUP" "$D/restored.db"
start_api restored "$D/restored.yaml" "$D/restored.port"
RPORT=$(sp_wait_port_file "$D/restored.port")
ctl_rc 0 --url "https://127.0.0.1:$RPORT/" --json partners list
python3 -c 'import json,sys; p=sorted(x["odette_id"] for x in json.load(open(sys.argv[1]))["partners"]); assert p==["ACME","NEW"], p' \
	"$D/out" || sp_fail "restored backup: $(cat "$D/out")"
sp_log "replace: the backup written first restores what the replace dropped"

# ---- 6. exit codes and --json for the other failures ----
ctl_rc 2 partners frobnicate
ctl_rc 2 --json partners frobnicate
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["error"]["code"]=="usage"' "$D/out" ||
	sp_fail "--json usage error: $(cat "$D/out")"
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ctl_rc 3 --url "https://127.0.0.1:$DEAD/" --json status
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["error"]["code"]=="unreachable"' "$D/out" ||
	sp_fail "--json unreachable: $(cat "$D/out")"
"$CTL" --help >"$D/help.out" || sp_fail "--help"
sp_grep "3  the backend is unreachable" "$D/help.out"
sp_log "exit codes 0/1/2/3 and --json errors as documented"

# ---- 7. progress: a long site file and a listing ----
api_conf "$D/big.yaml" "$D/big.db"
{
	echo "partners:"
	for i in $(seq -w 1 25); do
		printf '  - odette_id: P%s\n    password: PW%s\n    allowed_networks: [192.0.2.0/24]\n' "$i" "$i"
	done
} >"$D/big-site.yaml"
"$API" --config "$D/big.yaml" --import "$D/big-site.yaml" --progress >"$D/big.out" 2>"$D/big.err" ||
	{ cat "$D/big.out" "$D/big.err" >&2; sp_fail "import with --progress"; }
sp_grep "reading partners: 10 of 25" "$D/big.err"
sp_grep "reading partners: 25 of 25" "$D/big.err"
sp_grep "partners 25 new, 0 updated" "$D/big.out"
ctl_rc 0 --progress partners list
sp_grep "^smartproxyctl: received [0-9]* bytes in [0-9.]* s$" "$D/err"
sp_grep "^ACME " "$D/out"
sp_log "progress: the import counts partners, a listing reports its transfer"
