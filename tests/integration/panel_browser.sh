#!/usr/bin/env bash
# panel_browser.sh - the admin panel (docs/api.md section 7) in a real
# browser: Debian's Chromium, headless, driven over the DevTools protocol
# (cdp.py, --remote-debugging-pipe: python3 only), against the real
# smartproxy-api of a whole chain (server with the oftp2 and partner
# modules, client, oftp2-peer on both sides).
#
# In the browser (panel_browser.py): log in (a wrong password first), the
# dashboard shows the tunnel; add a partner (a bad network first: the 400
# is shown next to the field), find it by search, block and lift its
# online decisions, disable and enable it, try to remove a partner a route
# names (confirmed, refused 409, shown), change its password; add
# a log-ignore rule with a validity window, and one that expires at once
# and is shown purged; a transfer by the new partner with the *new*
# password is held mid-file (SIGSTOP of the inside server) while the dashboard
# shows it live, or "not available" where the backend has no live
# sessions; it ends in the audit list (filtered by partner, date and
# result) with its file; the event-script settings; a listener
# certificate and key uploaded as files; a forged request from another
# origin (same site, so the cookie goes along) is refused by the CSRF
# check; log out. Then over plain HTTPS: the logged-out cookie is dead,
# the CSP is strict, no inline script, cookie flags, CSRF token and Origin
# enforced, the read user looks but does not change, the login brake.
#
# Screenshots of every page are written to $SP_TMP/screens and copied to
# $SP_TOP_BUILDDIR/tests/integration/panel_browser.screens/ (paths in the
# log), so they outlive the temp dir.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_init 400

OFTP2_PEER=$SP_TOP_BUILDDIR/oftp2-peer
LIBS=$SP_TOP_BUILDDIR/.libs
sp_require_prog "$SP_SERVER" "$SP_CLIENT" "$SP_API" "$OFTP2_PEER"
sp_need python3 python3
sp_need chromium chromium
sp_need curl curl
for m in oftp2 partner; do
	[ -f "$LIBS/$m.so" ] || sp_hard_error "module $m.so not built"
done
PARTNER_ID=O0013000000PANEL
INSIDE_ID=O0013000000INSIDE
SCREENS=$SP_TOP_BUILDDIR/tests/integration/panel_browser.screens

keep_screens() {
	[ -d "$SP_TMP/screens" ] || return 0
	rm -rf "$SCREENS"
	mkdir -p "$SCREENS" && cp "$SP_TMP"/screens/*.png "$SCREENS"/ 2>/dev/null &&
		sp_log "screenshots kept in $SCREENS"
}
trap 'keep_screens; sp_cleanup' EXIT

CHAIN_MODULES="modules:
  - name: oftp2
    path: $LIBS/oftp2.so
  - name: partner
    path: $LIBS/partner.so"
chain_init
PARTNER_PORT=$(chain_free_port)

# ---- the backend, its users ----
cp "$SP_TMP/token" "$SP_TMP/api-client.token"
echo "admin-token-0123456789abc" >"$SP_TMP/admin.token"
cat >"$SP_TMP/api.yaml" <<YAML
listen: "127.0.0.1:0"
tls:
  certificate: $SP_TMP/pki/server.pem
  key: $SP_TMP/pki/server.key
database: $SP_TMP/api.db
tokens:
  - name: client
    role: proxy
    file: $SP_TMP/api-client.token
  - name: admin
    role: admin
    file: $SP_TMP/admin.token
event_script:
  timeout: 10
panel:
  directory: $SP_TOP_SRCDIR/src/api/panel
logging:
  level: info
  targets:
    - type: stderr
YAML
cat >"$SP_TMP/site.yaml" <<YAML
listeners:
  - name: partners
    address: "127.0.0.1:$PARTNER_PORT"
    tls:
      certificate_chain: pki/server.pem
      private_key: pki/server.key
      require_client_cert: false
partners:
  - odette_id: O0013000000OTHER
    password: OTHERPW
    allowed_networks: [127.0.0.0/8]
routes:
  - name: panel-out
    client_listen: "127.0.0.1:$(chain_free_port)"
    partner_odette_id: O0013000000OTHER
    partner_address: "127.0.0.1:$(chain_free_port)"
    tls:
      ca_bundle: pki/ca.pem
      client_certificate_chain: pki/client.pem
      client_private_key: pki/client.key
limits:
  handshake_timeout_ms: 5000
YAML
"$SP_API" --config "$SP_TMP/api.yaml" --import "$SP_TMP/site.yaml" >/dev/null ||
	sp_fail "site import failed"
echo "correct horse battery" | "$SP_API" --config "$SP_TMP/api.yaml" --add-user alice --role admin \
	>"$SP_TMP/adduser.out" 2>&1 || sp_fail "--add-user alice: $(cat "$SP_TMP/adduser.out")"
sp_grep "panel user alice stored with role admin" "$SP_TMP/adduser.out"
echo "read only password" | "$SP_API" --config "$SP_TMP/api.yaml" --add-user bob --role read \
	>/dev/null 2>&1 || sp_fail "--add-user bob"
# No role, or a password too short: refused.
echo "correct horse battery" | "$SP_API" --config "$SP_TMP/api.yaml" --add-user eve \
	>"$SP_TMP/norole.out" 2>&1 && sp_fail "--add-user without --role"
sp_grep "needs --role admin or --role read" "$SP_TMP/norole.out"
echo "short" | "$SP_API" --config "$SP_TMP/api.yaml" --add-user eve --role admin \
	>"$SP_TMP/short.out" 2>&1 && sp_fail "--add-user with a 5-character password"
sp_grep "10 to 256" "$SP_TMP/short.out"

sp_start api "$SP_API" --config "$SP_TMP/api.yaml" --port-file "$SP_TMP/api.port"
API_PID=$SP_LAST_PID
BACKEND_PORT=$(sp_wait_port_file "$SP_TMP/api.port")
chain_write_client_conf "$PROXY_ID"

# ---- the chain ----
mkdir -p "$SP_TMP/inbox"
sp_start inside "$OFTP2_PEER" listen -vv --listen "127.0.0.1:$INSIDE_PORT" --once --timeout $(sp_time 120) \
	--id "$INSIDE_ID" --password INSIDEPW --partner "$PARTNER_ID:NEWPW1" --dir "$SP_TMP/inbox"
INSIDE_PID=$SP_LAST_PID
chain_wait_log inside "listening on" 10
chain_start_server
chain_start_client
chain_wait_log server "opened partner listener" 30

# ---- another origin on the same site, for the CSRF attempt ----
mkdir -p "$SP_TMP/evil"
cat >"$SP_TMP/evil/evil.html" <<HTML
<!DOCTYPE html>
<html><body>
<p>A page of another origin that forges changes to the panel's API.</p>
<form id="f" method="post" enctype="text/plain" action="https://127.0.0.1:$BACKEND_PORT/v1/partners">
<input type="hidden" name='{"odette_id":"O0013000000EVIL","password":"EVIL1","allowed_networks":["0.0.0.0/0"],"x":"' value='"}'>
</form>
<script>
fetch("https://127.0.0.1:$BACKEND_PORT/v1/rules", {method: "POST", credentials: "include",
  mode: "no-cors", headers: {"Content-Type": "text/plain"},
  body: JSON.stringify({description: "evil", match: "security"})})
  .catch(function () {}).then(function () { document.getElementById("f").submit(); });
</script>
</body></html>
HTML
cat >"$SP_TMP/evil.py" <<'PY'
import http.server, ssl, sys, functools
d, cert, key, portfile = sys.argv[1:5]
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=d)
s = http.server.HTTPServer(("127.0.0.1", 0), h)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
s.socket = ctx.wrap_socket(s.socket, server_side=True)
open(portfile + ".tmp", "w").write("%d\n" % s.server_address[1])
import os; os.rename(portfile + ".tmp", portfile)
s.serve_forever()
PY
sp_start evil python3 "$SP_TMP/evil.py" "$SP_TMP/evil" "$SP_TMP/pki/server.pem" "$SP_TMP/pki/server.key" \
	"$SP_TMP/evil.port"
EVIL_PORT=$(sp_wait_port_file "$SP_TMP/evil.port")

# The browser trusts exactly the test server's key (its SPKI pin), nothing
# else.
SPKI=$(certtool --pubkey-info --load-certificate "$SP_TMP/pki/server.pem" --outder 2>/dev/null |
	python3 -c 'import sys, hashlib, base64; print(base64.b64encode(hashlib.sha256(sys.stdin.buffer.read()).digest()).decode())')

# ---- the browser ----
CHROMIUM=$(command -v chromium) sp_start browser python3 "$SP_TOP_SRCDIR/tests/integration/panel_browser.py" "$SP_TMP" "$BACKEND_PORT" \
	"$EVIL_PORT" "$SPKI" "$PARTNER_ID"
BROWSER_PID=$SP_LAST_PID

# The transfer, once the proxy applied the browser's changes.
i=0
until [ -s "$SP_TMP/step.transfer" ]; do
	kill -0 "$BROWSER_PID" 2>/dev/null || { sp_dump_logs; sp_fail "the browser half ended early"; }
	[ "$i" -ge $(($(sp_time 200) * 10)) ] && { sp_dump_logs; sp_fail "the browser did not get to the transfer"; }
	sleep 0.1; i=$((i + 1))
done
REV=$(cat "$SP_TMP/step.transfer")
chain_wait_log server "revision $REV applied" 30
sp_make_file "$SP_TMP/INVOIC.OPS" 8000000
sp_start sender "$OFTP2_PEER" send -v --connect "127.0.0.1:$PARTNER_PORT" --ca "$SP_TMP/pki/ca.pem" \
	--timeout $(sp_time 120) --id "$PARTNER_ID" --password NEWPW1 --partner "$INSIDE_ID:INSIDEPW" \
	--send "$SP_TMP/INVOIC.OPS"
SENDER_PID=$SP_LAST_PID
# Held mid-file: once data reaches the inside, the inside server is
# stopped; without its credit and its EFPA the session cannot end, so it
# stays live until SIGCONT.
chain_wait_log inside "DATA [0-9]* octets" 60
kill -STOP "$INSIDE_PID"
grep -q "> EFPA" "$SP_TMP/inside.log" &&
	{ kill -CONT "$INSIDE_PID"; sp_hard_error "the transfer ended before it was held (a larger file?)"; }
touch "$SP_TMP/step.running"
i=0
until [ -e "$SP_TMP/step.watched" ]; do
	kill -0 "$BROWSER_PID" 2>/dev/null || { kill -CONT "$INSIDE_PID"; sp_dump_logs; sp_fail "the browser half ended early"; }
	[ "$i" -ge $(($(sp_time 60) * 10)) ] && { kill -CONT "$INSIDE_PID"; sp_dump_logs; sp_fail "the browser did not watch"; }
	sleep 0.1; i=$((i + 1))
done
grep -q "session 1 ended" "$SP_TMP/server.log" && sp_fail "the session ended while the inside was stopped"
kill -CONT "$INSIDE_PID"
sp_wait "$SENDER_PID" 60 || { sp_dump_logs; sp_fail "the partner's transfer failed (new password not in force?)"; }
sp_wait "$INSIDE_PID" 30 || { sp_dump_logs; sp_fail "the inside OFTP2 server failed"; }
sp_cmp "$SP_TMP/INVOIC.OPS" "$SP_TMP/inbox/INVOIC.OPS"
chain_wait_log server "session 1 ended: normal" 30
touch "$SP_TMP/step.done"

sp_wait "$BROWSER_PID" 200 || { sp_dump_logs; sp_fail "the browser half failed"; }
grep -e 'screenshot' -e 'live sessions' "$SP_TMP/browser.log" >&2

# What the api logged: the changes by alice through the same handlers as a
# token's, the refused forgeries, the failed and braked logins.
sp_grep "partner $PARTNER_ID added by panel:alice" "$SP_TMP/api.log"
sp_grep "partner $PARTNER_ID changed by panel:alice (new password)" "$SP_TMP/api.log"
[ "$(grep -c "log-ignore rule [0-9]* added by panel:alice" "$SP_TMP/api.log")" -eq 2 ] ||
	sp_fail "not both rules added by panel:alice"
sp_grep "log-ignore rule [0-9]* purged: expired" "$SP_TMP/api.log"
sp_grep "security.*panel_csrf_refused POST by panel:alice" "$SP_TMP/api.log"
sp_grep "security.*panel_login_failed user alice from 127.0.0.1: wrong password" "$SP_TMP/api.log"
sp_grep "security.*panel_login_braked user mallory" "$SP_TMP/api.log"
sp_grep "panel: alice logged out" "$SP_TMP/api.log"
curl -sS --cacert "$SP_TMP/pki/ca.pem" -H "Authorization: Bearer $(cat "$SP_TMP/admin.token")" \
	"https://127.0.0.1:$BACKEND_PORT/v1/partners" >"$SP_TMP/partners.json" || sp_fail "partners list"
grep -q O0013000000EVIL "$SP_TMP/partners.json" && sp_fail "the forged partner was added"
curl -sS --cacert "$SP_TMP/pki/ca.pem" -H "Authorization: Bearer $(cat "$SP_TMP/admin.token")" \
	"https://127.0.0.1:$BACKEND_PORT/v1/rules" >"$SP_TMP/rules.json" || sp_fail "rules list"
grep -q '"evil"' "$SP_TMP/rules.json" && sp_fail "the forged rule was added"

chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
kill -TERM "$API_PID"
sp_wait "$API_PID" 20 || sp_fail "smartproxy-api exit status $?"
exit 0
