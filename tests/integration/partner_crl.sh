#!/usr/bin/env bash
# partner_crl.sh - certificate revocation end to end with the backend we ship:
# the real smartproxy-api stores the CRLs of each CA bundle (site file
# `revocation:`) and serves them in the configuration; smartproxy-client
# fetches a distribution point served by python3's http.server on 127.0.0.1
# every `crl.refresh` seconds, verifies it and posts it to the backend; the
# server's partner module checks client certificates against them.
#
#  1. one CA, two certificates: the revoked one is refused with its own
#     security line (certificate_revoked, serial and issuer) and the TLS alert
#     certificate_revoked; the good one reaches the inside; a CA whose own
#     certificate names its distribution point gets its CRL from there;
#  2. the CA revokes the good one too (a new CRL at the distribution point):
#     refused within one refresh period, without a restart;
#  3. a CRL signed by another CA at the distribution point is refused by the
#     client, and by the backend when posted to it;
#  4. CRLs past their nextUpdate: fail_closed refuses (crl_expired line),
#     fail_open lets the certificate through with a warning; the client
#     raises the event crl_expired;
#  5. the fail2ban filter matches the unknown certificate, never a revoked
#     one or an expired CRL (the partner is known, not an attacker).
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/partner_lib.sh"
sp_init 240

PROBE=$SP_IT/partner_probe.py
REFRESH=2                       # crl.refresh of the client, seconds
CTL=$SP_TOP_BUILDDIR/smartproxyctl
sp_require_prog "$SP_API" "$CTL"
sp_need python3 python3
sp_need curl curl
partner_init partner
PKI=$SP_TMP/pki
PARTNER_PORT=$(chain_free_port)

# ---- certificates: CA (fail_closed), CA2 (fail_closed, expired CRL), CA3
# (fail_open, expired CRL); certtool as in lib.sh ----
certtool_q() { certtool "$@" >"$SP_TMP/certtool.out" 2>&1 ||
	{ cat "$SP_TMP/certtool.out" >&2; sp_hard_error "certtool $*"; }; }
key() { certtool_q --generate-privkey --key-type=ecdsa --curve=secp256r1 --outfile "$PKI/$1.key"; }
newca() { # name
	key "$1"
	sed "s/smartproxy test CA/$1 test CA/" "$PKI/ca.tmpl" >"$PKI/$1.tmpl"
	certtool_q --generate-self-signed --load-privkey "$PKI/$1.key" \
		--template "$PKI/$1.tmpl" --outfile "$PKI/$1.pem"
}
issue() { # name ca
	key "$1"
	certtool_q --generate-certificate --load-privkey "$PKI/$1.key" \
		--load-ca-certificate "$PKI/$2.pem" --load-ca-privkey "$PKI/$2.key" \
		--template "$PKI/client.tmpl" --outfile "$PKI/$1.pem"
}
crl() { # out ca number template-extra [revoked-certs-file]
	printf 'crl_number = %s\n%s' "$3" "$4" >"$PKI/crl.tmpl"
	certtool_q --generate-crl --load-ca-privkey "$PKI/$2.key" --load-ca-certificate \
		"$PKI/$2.pem" ${5:+--load-certificate "$5"} --template "$PKI/crl.tmpl" \
		--outfile "$1" ${6:-}
}
newca ca2
newca ca3
issue good ca
issue revoked ca
issue c2 ca2
issue c3 ca3
serial_of() { certtool --certificate-info --infile "$1" | sed -n 's/^[[:space:]]*Serial Number (hex): //p'; }
cat "$PKI/revoked.pem" >"$PKI/revoked-1.pem"
cat "$PKI/revoked.pem" "$PKI/good.pem" >"$PKI/revoked-2.pem"
crl "$PKI/site.crl" ca 1 "crl_next_update = 2
" "$PKI/revoked-1.pem"
EXPIRED='crl_this_update_date = "2020-01-01 00:00:00"
crl_next_update_date = "2020-01-02 00:00:00"
'
crl "$PKI/ca2.crl" ca2 1 "$EXPIRED"
crl "$PKI/ca3.crl" ca3 1 "$EXPIRED"

# ---- the distribution point: python3's http.server on 127.0.0.1 ----
mkdir -p "$SP_TMP/cdp"
# The CA's CRL number 2, as DER (what distribution points serve); same
# revocations as the site file's.
crl "$SP_TMP/cdp/ca.crl.tmp" ca 2 "crl_next_update = 2
" "$PKI/revoked-1.pem" --outder
mv "$SP_TMP/cdp/ca.crl.tmp" "$SP_TMP/cdp/ca.crl"
sp_start cdp python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$SP_TMP/cdp"
chain_wait_log cdp "Serving HTTP on 127.0.0.1 port [0-9]"
CDP_PORT=$(sed -n 's/^Serving HTTP on 127.0.0.1 port \([0-9]*\).*/\1/p' "$SP_TMP/cdp.log" | head -1)
CDP=http://127.0.0.1:$CDP_PORT/ca.crl
# ca4 names its distribution point in its own certificate (no crl_urls for
# it anywhere): the client finds it there. Its CRL revokes c4.
key ca4
sed "s/smartproxy test CA/ca4 test CA/" "$PKI/ca.tmpl" >"$PKI/ca4.tmpl"
printf 'crl_dist_points = "http://127.0.0.1:%s/ca4.crl"\n' "$CDP_PORT" >>"$PKI/ca4.tmpl"
certtool_q --generate-self-signed --load-privkey "$PKI/ca4.key" \
	--template "$PKI/ca4.tmpl" --outfile "$PKI/ca4.pem"
issue c4 ca4
crl "$SP_TMP/cdp/ca4.crl" ca4 1 "crl_next_update = 2
" "$PKI/c4.pem" --outder

# ---- the real backend ----
cp "$SP_TMP/token" "$SP_TMP/api-client.token"
echo "admin-token-0123456789abc" >"$SP_TMP/admin.token"
cat >"$SP_TMP/api.yaml" <<YAML
listen: "127.0.0.1:0"
tls:
  certificate: $PKI/server.pem
  key: $PKI/server.key
database: $SP_TMP/api.db
tokens:
  - name: client
    file: $SP_TMP/api-client.token
    role: proxy
  - name: admin
    file: $SP_TMP/admin.token
    role: admin
logging:
  level: debug
  targets:
    - type: stderr
YAML
partner_yaml() { # id address ca
	cat <<YAML
  - odette_id: $1
    password: SECRET1
    allowed_networks: [$2/32]
    tls:
      require_client_cert: true
      ca_bundle: pki/$3.pem
      bind: none    # the test's client certificates all name one CN
YAML
}
{
	cat <<YAML
listeners:
  - name: partners
    address: "127.0.0.1:$PARTNER_PORT"
    tls:
      certificate_chain: pki/server.pem
      private_key: pki/server.key
partners:
YAML
	partner_yaml ACME 127.0.0.2 ca
	partner_yaml CLOSED 127.0.0.3 ca2
	partner_yaml OPEN 127.0.0.4 ca3
	partner_yaml BYCDP 127.0.0.5 ca4
	cat <<YAML
revocation:
  - ca_bundle: pki/ca.pem
    crl: pki/site.crl
    crl_urls: ["$CDP"]
  - ca_bundle: pki/ca2.pem
    crl: pki/ca2.crl
  - ca_bundle: pki/ca3.pem
    crl: pki/ca3.crl
    crl_expired: fail_open
YAML
} >"$SP_TMP/site.yaml"
# A CRL the bundle's CA did not sign is refused at import, naming the key.
sed 's|crl: pki/ca2.crl|crl: pki/ca3.crl|' "$SP_TMP/site.yaml" >"$SP_TMP/wrong.yaml"
"$SP_API" --check-site "$SP_TMP/wrong.yaml" >"$SP_TMP/wrong.out" 2>&1 &&
	sp_fail "--check-site accepted a CRL of another CA"
sp_grep "key 'revocation\[1\].crl': crl: CRL 1 is not signed by a CA of the bundle" "$SP_TMP/wrong.out"
"$SP_API" --config "$SP_TMP/api.yaml" --import "$SP_TMP/site.yaml" >"$SP_TMP/import.log" 2>&1 ||
	{ cat "$SP_TMP/import.log" >&2; sp_fail "site import failed"; }
# --export writes the revocation section back: bundle, CRLs, URLs, policy;
# the file passes --check-site and a fresh database serves the same tls.crl*.
"$SP_API" --config "$SP_TMP/api.yaml" --export "$SP_TMP/export.yaml" >"$SP_TMP/export.log" 2>&1 ||
	{ cat "$SP_TMP/export.log" >&2; sp_fail "--export failed"; }
sp_grep "^revocation:" "$SP_TMP/export.yaml"
[ "$(grep -c "^  - ca_bundle: " "$SP_TMP/export.yaml")" = 3 ] ||
	{ cat "$SP_TMP/export.yaml" >&2; sp_fail "export: not 3 revocation entries"; }
sp_grep "crl_urls: \[\"$CDP\"\]" "$SP_TMP/export.yaml"
sp_grep 'crl_expired: "fail_open"' "$SP_TMP/export.yaml"
"$SP_API" --check-site "$SP_TMP/export.yaml" >"$SP_TMP/export-check.log" 2>&1 ||
	{ cat "$SP_TMP/export-check.log" >&2; sp_fail "the export does not pass --check-site"; }
sed "s|$SP_TMP/api.db|$SP_TMP/api2.db|" "$SP_TMP/api.yaml" >"$SP_TMP/api2.yaml"
"$SP_API" --config "$SP_TMP/api2.yaml" --import "$SP_TMP/export.yaml" >"$SP_TMP/import2.log" 2>&1 ||
	{ cat "$SP_TMP/import2.log" >&2; sp_fail "import of the export failed"; }
"$SP_API" --config "$SP_TMP/api2.yaml" --export "$SP_TMP/export2.yaml" >"$SP_TMP/export2.log" 2>&1 ||
	{ cat "$SP_TMP/export2.log" >&2; sp_fail "second --export failed"; }
for f in "$SP_TMP"/export.yaml.d/revocation-*; do
	cmp -s "$f" "$SP_TMP/export2.yaml.d/${f##*/}" || sp_fail "export round trip: ${f##*/} differs"
done
grep -v '^# smartproxy-api --export' "$SP_TMP/export.yaml" | sed 's|export.yaml.d|D|' >"$SP_TMP/e1"
grep -v '^# smartproxy-api --export' "$SP_TMP/export2.yaml" | sed 's|export2.yaml.d|D|' >"$SP_TMP/e2"
diff -u "$SP_TMP/e1" "$SP_TMP/e2" >&2 || sp_fail "export round trip: the site files differ"
sp_start api "$SP_API" --config "$SP_TMP/api.yaml" --port-file "$SP_TMP/api.port"
API_PID=$SP_LAST_PID
BACKEND_PORT=$(sp_wait_port_file "$SP_TMP/api.port")
export SMARTPROXYCTL_URL=https://127.0.0.1:$BACKEND_PORT/
export SMARTPROXYCTL_TOKEN_FILE=$SP_TMP/admin.token SMARTPROXYCTL_CA=$PKI/ca.pem
chain_write_client_conf "$PROXY_ID"
printf 'crl:\n  refresh: %s\n' "$REFRESH" >>"$SP_TMP/client.yaml"

api() { # METHOD PATH [JSON]: the admin's request; prints the HTTP status
	curl -sS -o "$SP_TMP/api-answer" -w '%{http_code}' --cacert "$PKI/ca.pem" \
		-H "Authorization: Bearer $(cat "$SP_TMP/admin.token")" \
		-H 'Content-Type: application/json' -X "$1" ${3:+--data "@$3"} \
		"https://127.0.0.1:$BACKEND_PORT/$2"
}

# ---- the chain; the inside counts the connections it gets ----
sp_start inside python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
print("listening", flush=True)
while True:
    c, a = s.accept(); print("inside connection", a, flush=True); c.close()
' "$INSIDE_PORT"
chain_wait_log inside listening
chain_start_server
chain_start_client
chain_wait_log server "opened partner listener"
inside_count() { grep -c "inside connection" "$SP_TMP/inside.log"; }
wait_inside() { # N: the inside has seen N connections (a positive signal)
	local i=0
	until [ "$(inside_count)" -ge "$1" ]; do
		i=$((i + 1))
		[ "$i" -le $(( $(sp_time 20) * 10 )) ] || { sp_dump_logs; sp_fail "the inside saw $(inside_count) connections, not $1"; }
		sleep 0.1
	done
	[ "$(inside_count)" -eq "$1" ] || sp_fail "the inside saw $(inside_count) connections, expected $1"
}
probe() { # SOURCE CERT -> the probe's word must be $want
	local got
	got=$(sp_run python3 "$PROBE" "$1" "$PARTNER_PORT" tls "$PKI/$2.pem" "$PKI/$2.key") ||
		sp_fail "probe from $1 failed"
	[ "$got" = "$want" ] || { sp_dump_logs; sp_fail "$2 from $1: $got, expected $want"; }
}

# 1. One CA: the revoked certificate is refused, the good one passes.
want=alert:certificate_revoked probe 127.0.0.2 revoked
serial=$(serial_of "$PKI/revoked.pem")
chain_wait_log server "certificate_revoked from 127.0.0.2: client certificate serial=$serial issuer=\"CN=smartproxy test CA\" sha256=[0-9a-f]\{64\} is revoked by the CRL of partner ACME .*event=certificate_revoked src=127.0.0.2"
[ "$(inside_count)" -eq 0 ] || sp_fail "the inside saw the revoked certificate's connection"
want=closed-after-tls probe 127.0.0.2 good
wait_inside 1
want=closed-after-tls probe 127.0.0.2 rogue-client
chain_wait_log server "certificate_refused from 127.0.0.2: client certificate sha256="
[ "$(inside_count)" -eq 1 ] || sp_fail "the inside saw $(inside_count) connections, expected 1"

# The client fetched the distribution point (DER) and handed it on: CRL 2.
chain_wait_log api "CRL from $CDP (client) stored, revision"
chain_wait_log client "CRL from $CDP handed to the backend"
[ "$(api GET v1/crls)" = 200 ] || sp_fail "GET v1/crls: $(cat "$SP_TMP/api-answer")"
python3 - "$SP_TMP/api-answer" "$CDP" <<'PY' || sp_fail "v1/crls: $(cat "$SP_TMP/api-answer")"
import json, sys
crls = json.load(open(sys.argv[1]))["crls"]
ca = [c for c in crls if c["issuer"] == "CN=smartproxy test CA"]
assert len(ca) == 1 and ca[0]["number"] == 2 and ca[0]["source"].startswith(sys.argv[2]), crls
assert len(crls) == 4, crls
PY
# ca4's CRL came from the distribution point its certificate names.
chain_wait_log api "CRL from http://127.0.0.1:$CDP_PORT/ca4.crl (client) stored, revision"
applied=$(sed -n "s|.*CRL from .* (client) stored, revision \([0-9]*\).*|\1|p" "$SP_TMP/api.log" | sort -n | tail -1)
chain_wait_log server "revision $applied applied"
want=alert:certificate_revoked probe 127.0.0.5 c4
chain_wait_log server "certificate_revoked from 127.0.0.5: client certificate serial=$(serial_of "$PKI/c4.pem") issuer=\"CN=ca4 test CA\" "

# 2. The CA revokes the good certificate too: a new CRL at the distribution
# point takes effect within one refresh period, without a restart.
t0=$(date +%s%N)
crl "$SP_TMP/cdp/ca.crl.tmp" ca 3 "crl_next_update = 2
" "$PKI/revoked-2.pem" --outder
mv "$SP_TMP/cdp/ca.crl.tmp" "$SP_TMP/cdp/ca.crl"
chain_wait_log api "CRL from $CDP (client) stored, revision $((applied + 1))"
chain_wait_log server "revision $((applied + 1)) applied"
t1=$(date +%s%N)
want=alert:certificate_revoked probe 127.0.0.2 good
chain_wait_log server "certificate_revoked from 127.0.0.2: client certificate serial=$(serial_of "$PKI/good.pem") "
ms=$(((t1 - t0) / 1000000))
sp_log "new revocation applied by the server ${ms} ms after the CRL changed (refresh ${REFRESH} s)"
[ "$ms" -le $(( $(sp_time 2) * REFRESH * 1000 + $(sp_time 3) * 1000 )) ] ||
	sp_fail "the new revocation took ${ms} ms, more than a refresh period and slack"
[ "$(inside_count)" -eq 1 ] || sp_fail "the inside saw a revoked certificate's connection"

# 3. A CRL signed by another CA: the client refuses it, the backend too.
crl "$SP_TMP/cdp/ca.crl.tmp" ca2 9 "crl_next_update = 2
" "" --outder
mv "$SP_TMP/cdp/ca.crl.tmp" "$SP_TMP/cdp/ca.crl"
chain_wait_log client "CRL from $CDP refused for CA bundle [0-9a-f]*: crl: CRL 1 is not signed by a CA of the bundle"
python3 -c 'import json,sys; print(json.dumps({"crl": open(sys.argv[1]).read()}))' \
	"$PKI/ca3.crl" >"$SP_TMP/post.json"
# ca3.crl is signed by ca3, a bundle the backend has: accepted but not newer.
[ "$(api POST v1/crls "$SP_TMP/post.json")" = 200 ] || sp_fail "POST v1/crls: $(cat "$SP_TMP/api-answer")"
sp_grep '"stored":false' "$SP_TMP/api-answer"
newca rogue2
crl "$PKI/rogue2.crl" rogue2 1 "crl_next_update = 2
"
python3 -c 'import json,sys; print(json.dumps({"crl": open(sys.argv[1]).read()}))' \
	"$PKI/rogue2.crl" >"$SP_TMP/post.json"
[ "$(api POST v1/crls "$SP_TMP/post.json")" = 400 ] || sp_fail "POST v1/crls of an unknown CA: $(cat "$SP_TMP/api-answer")"
sp_grep "not signed by a CA of any partner's or route's ca_bundle" "$SP_TMP/api-answer"
# The same through smartproxyctl: the API's refusal, exit 1.
rc=0
"$CTL" crls add "$PKI/rogue2.crl" >"$SP_TMP/ctl.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat "$SP_TMP/ctl.out" >&2; sp_fail "smartproxyctl crls add of an unknown CA: exit $rc"; }
sp_grep "not signed by a CA" "$SP_TMP/ctl.out"
"$CTL" crls list >"$SP_TMP/ctl.out" 2>&1 || { cat "$SP_TMP/ctl.out" >&2; sp_fail "smartproxyctl crls list"; }
sp_grep "CN=smartproxy test CA *$CDP" "$SP_TMP/ctl.out"
sp_grep "CN=ca3 test CA *site file" "$SP_TMP/ctl.out"
# The good certificate stays revoked: the last good CRL is kept.
want=alert:certificate_revoked probe 127.0.0.2 good

# 4. Expired CRLs: ca2's policy is fail_closed, ca3's fail_open.
want=alert:certificate_unknown probe 127.0.0.3 c2
chain_wait_log server "crl_expired from 127.0.0.3: client certificate sha256=[0-9a-f]\{64\} of partner CLOSED: the CRL of CN=ca2 test CA is past its nextUpdate 2020-01-02T00:00:00Z; crl_expired fail_closed"
[ "$(inside_count)" -eq 1 ] || sp_fail "fail_closed let a certificate through"
want=closed-after-tls probe 127.0.0.4 c3
chain_wait_log server "partner OPEN: the CRL of CN=ca3 test CA is past its nextUpdate 2020-01-02T00:00:00Z; crl_expired fail_open"
wait_inside 2
chain_wait_log client "the CRL of CN=ca2 test CA for CA bundle [0-9a-f]* is past its nextUpdate"
chain_wait_log client "the CRL of CN=ca3 test CA for CA bundle [0-9a-f]* is past its nextUpdate"
# Both events reached the backend (posted asynchronously: poll the list).
i=0
until [ "$(api GET v1/events)" = 200 ] && python3 - "$SP_TMP/api-answer" <<'PY'
import json, sys
ev = [e for e in json.load(open(sys.argv[1]))["events"] if e["type"] == "crl_expired"]
msgs = " | ".join(e["message"] for e in ev)
sys.exit(0 if "CN=ca2 test CA" in msgs and "refused (crl_expired fail_closed)" in msgs and
         "CN=ca3 test CA" in msgs and "crl_expired fail_open" in msgs else 1)
PY
do
	i=$((i + 1))
	[ "$i" -le $(( $(sp_time 20) * 10 )) ] || sp_fail "no crl_expired events: $(cat "$SP_TMP/api-answer")"
	sleep 0.1
done

chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
chain_stop api "$API_PID"
# 5. fail2ban: the unknown certificate, not the revoked ones.
partner_fail2ban "$SP_TMP/server.log"
grep -q "certificate_revoked" "$SP_TMP/f2b-msg" && sp_fail "fail2ban matched a revoked certificate"
grep -q "crl_expired" "$SP_TMP/f2b-msg" && sp_fail "fail2ban matched an expired CRL"
exit 0
