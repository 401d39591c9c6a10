# panel_browser.py - the browser half of panel_browser.sh: Debian's Chromium,
# headless, driven through the DevTools protocol (cdp.py) against the real
# smartproxy-api, then the same api over plain HTTPS for what a browser
# would not let us do wrong on purpose.
#
# argv: dir api_port evil_port spki partner_id
# The shell runs the transfer; the two halves meet through files in dir:
#   step.transfer  (we write the revision the partner change made)
#   step.running   (the shell: the transfer is held mid-session)
#   step.watched   (we saw it on the dashboard)
#   step.done      (the shell: the transfer ended, the file arrived)
import datetime
import http.client
import json
import os
import re
import signal
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser, CDPError  # noqa: E402

D, PORT, EVIL_PORT, SPKI, PID = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
F = int(os.environ.get("SP_TIME_FACTOR", "2"))
T = 30 * F
BASE = "https://127.0.0.1:%d" % PORT
SHOTS = os.path.join(D, "screens")
os.makedirs(SHOTS, exist_ok=True)
os.makedirs(os.path.join(D, "profile"), exist_ok=True)
nshot = 0


def log(*a):
    print("panel_browser:", *a, file=sys.stderr, flush=True)


def shot(page, name):
    global nshot
    nshot += 1
    path = page.screenshot(os.path.join(SHOTS, "%02d-%s.png" % (nshot, name)))
    log("screenshot", path)


def wait_file(name, timeout):
    path = os.path.join(D, name)
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise CDPError("no %s from the shell within %ss" % (name, timeout))
        time.sleep(0.1)
    return open(path).read().strip()


def put_file(name, text):
    with open(os.path.join(D, name + ".tmp"), "w") as f:
        f.write(text)
    os.rename(os.path.join(D, name + ".tmp"), os.path.join(D, name))


def utc(delta_s):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_s)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def js(s):
    return json.dumps(s)


def fill(page, ids_values):
    """Set inputs by id (text, select, textarea; booleans tick checkboxes)."""
    for i, v in ids_values.items():
        if isinstance(v, bool):
            page.eval("document.getElementById(%s).checked = %s" % (js(i), "true" if v else "false"))
        else:
            page.eval("document.getElementById(%s).value = %s" % (js(i), js(v)))


def click(page, elem_id):
    page.wait("!!document.getElementById(%s)" % js(elem_id), T, "#" + elem_id)
    page.eval("document.getElementById(%s).click()" % js(elem_id))


def text_of(page, elem_id):
    return "((document.getElementById(%s) || {}).innerText || '')" % js(elem_id)


def set_file(page, selector, path):
    doc = page.send("DOM.getDocument")["root"]["nodeId"]
    input_node = page.send("DOM.querySelector", {"nodeId": doc, "selector": selector})["nodeId"]
    page.send("DOM.setFileInputFiles", {"nodeId": input_node, "files": [path]})


# ---- the browser ----

# The harness ends us with SIGTERM on its time limit: leave through the
# finally below, which ends the browser we started (by its PID).
signal.signal(signal.SIGTERM, lambda *_: sys.exit(99))

b = Browser(os.environ.get("CHROMIUM", "/usr/bin/chromium"), os.path.join(D, "profile"),
            ["--ignore-certificate-errors-spki-list=" + SPKI, "--window-size=1280,1000",
             "--lang=en-US"], timeout=T)
try:
    page = b.new_page()

    # Log in: a wrong password first (the error is shown), then the right one.
    page.goto(BASE + "/")
    page.wait("!document.getElementById('login-page').hidden", T, "the login page")
    shot(page, "login")
    fill(page, {"login-user": "alice", "login-password": "wrong password!"})
    click(page, "login-submit")
    page.wait(text_of(page, "login-error") + ".indexOf('wrong user or password') >= 0", T, "the refusal")
    fill(page, {"login-user": "alice", "login-password": "correct horse battery"})
    click(page, "login-submit")
    page.wait("!!document.getElementById('dash-proxy')", T, "the dashboard")
    page.wait(text_of(page, "dash-tunnel") + " === 'connected'", T, "the tunnel on the dashboard")
    shot(page, "dashboard")

    # Add a partner: first with a bad network (the 400 lands next to the
    # field), then right.
    page.eval("location.hash = '#partners'")
    click(page, "partner-add")
    fill(page, {"pf-odette_id": PID, "pf-password": "OLDPW1", "pf-description": "added in the panel",
                "pf-allowed_networks": "127.0.0.0/8\n10.0.0.0/33"})
    click(page, "partner-save")
    page.wait(text_of(page, "pf-allowed_networks-error") + ".indexOf('allowed_networks') >= 0", T,
              "the field error next to allowed_networks")
    shot(page, "partner-field-error")
    fill(page, {"pf-allowed_networks": "127.0.0.0/8"})
    click(page, "partner-save")
    page.wait(text_of(page, "partner-list") + ".indexOf(%s) >= 0" % js(PID), T, "the new partner in the list")
    page.wait("!document.getElementById('partner-form')", T, "the form closed")
    # Search finds it, and only it.
    fill(page, {"partner-search": PID[-5:]})
    page.eval("document.getElementById('partner-search').dispatchEvent(new Event('input'))")
    page.wait("document.querySelectorAll('#partner-list tbody tr').length === 1", T, "one search hit")
    shot(page, "partners")

    # Online block and lift, disable and enable: each shown in the list.
    fill(page, {"partner-search": ""})
    page.eval("document.getElementById('partner-search').dispatchEvent(new Event('input'))")
    click(page, "block-" + PID)
    page.wait("!!document.getElementById('block-%s') && document.getElementById('block-%s').textContent"
              " === 'Lift online block'" % (PID, PID), T, "the online block shown")
    click(page, "block-" + PID)
    page.wait("!!document.getElementById('block-%s') && document.getElementById('block-%s').textContent"
              " === 'Block online'" % (PID, PID), T, "the block lifted")
    click(page, "disable-" + PID)
    page.wait("!!document.getElementById('enable-%s')" % PID, T, "the partner disabled")
    click(page, "enable-" + PID)
    page.wait("!!document.getElementById('disable-%s')" % PID, T, "the partner enabled again")
    # Removing a partner a route names: confirmed, then refused (409),
    # and the refusal is shown.
    page.eval("setTimeout(function () { document.getElementById('remove-O0013000000OTHER').click(); }, 0)")
    msg = page.accept_dialog(T)
    assert "O0013000000OTHER" in msg, msg
    page.wait(text_of(page, "status") + ".indexOf('a route names partner') >= 0", T, "the 409 shown")

    # Change its password.
    click(page, "edit-" + PID)
    page.wait("!!document.getElementById('pf-password')", T, "the change form")
    fill(page, {"pf-password": "NEWPW1"})
    click(page, "partner-save")
    page.wait("!document.getElementById('partner-form')", T, "the change saved")
    page.wait(text_of(page, "status") + ".indexOf('Changed') >= 0", T, "'Changed' reported")

    # Log-ignore rules: one with a window of an hour, one that ends in
    # seconds (shown purged once the backend purged it).
    page.eval("location.hash = '#rules'")
    page.wait("!!document.getElementById('rule-form')", T, "the rule form")
    fill(page, {"rf-description": "maintenance window", "rf-match": "inside unreachable",
                "rf-valid_from": utc(-60), "rf-valid_until": utc(3600)})
    click(page, "rule-save")
    page.wait(text_of(page, "rule-list") + ".indexOf('maintenance window') >= 0", T, "the rule")
    page.wait(text_of(page, "rule-list") + ".indexOf('in force') >= 0", T, "the rule in force")
    fill(page, {"rf-description": "short rule", "rf-match": "nothing much",
                "rf-valid_from": "", "rf-valid_until": utc(4)})
    click(page, "rule-save")
    page.wait(text_of(page, "rule-list") + ".indexOf('short rule') >= 0", T, "the short rule")
    page.wait(text_of(page, "rule-list") + ".indexOf('expired, purged') >= 0", T + 10, "the short rule purged")
    shot(page, "rules")

    # The transfer: the shell starts it once the proxy applied our changes
    # and holds it mid-session.
    rev = json.loads(page.eval("fetch('/v1/health').then(r => r.text())", await_promise=True))["revision"]
    page.eval("location.hash = '#dashboard'")
    put_file("step.transfer", str(rev))
    wait_file("step.running", 4 * T)
    page.wait("(function () { var t = document.getElementById('dash').innerText;"
              " return t.indexOf('Live sessions: not available') >= 0 ||"
              " document.querySelectorAll('#live-table tbody tr').length >= 1; })()", T, "the running session (or 'not available') on the dashboard")
    live = page.eval("!!document.getElementById('live-table')")
    log("live sessions:", "shown" if live else "not available on this backend")
    shot(page, "dashboard-live")
    put_file("step.watched", "1")
    wait_file("step.done", 4 * T)

    # The session in the audit list, filtered, and its files.
    page.eval("location.hash = '#sessions'")
    page.wait(text_of(page, "audit-list") + ".indexOf(%s) >= 0" % js(PID), T, "the session in the audit list")
    fill(page, {"af-partner": PID, "af-since": utc(-3600)[:10], "af-result": "ok"})
    click(page, "audit-search")
    page.wait("document.querySelectorAll('#audit-table tbody tr').length === 1", T, "exactly the one session")
    shot(page, "audit")
    page.eval("document.querySelector('#audit-table .audit-files').click()")
    page.wait(text_of(page, "audit-detail") + ".indexOf('INVOIC.OPS') >= 0", T, "the session's file")
    shot(page, "audit-files")

    # Events and the event-script settings.
    page.eval("location.hash = '#events'")
    page.wait(text_of(page, "event-settings") + ".indexOf('timeout') >= 0", T, "the event-script settings")
    shot(page, "events")

    # Listeners: a new certificate and key uploaded as files.
    page.eval("location.hash = '#listeners'")
    click(page, "cert-partners")
    set_file(page, "#cf-certificate_chain", os.path.join(D, "pki", "server.pem"))
    set_file(page, "#cf-private_key", os.path.join(D, "pki", "server.key"))
    click(page, "cert-save")
    page.wait(text_of(page, "status") + ".indexOf('New certificate for partners') >= 0", T, "the upload")
    page.wait(text_of(page, "route-list") + ".indexOf('panel-out') >= 0", T, "the route")
    shot(page, "listeners")

    # A CSRF attempt from another origin (same site: the cookie goes along)
    # while alice is logged in: refused, nothing added.
    evil = b.new_page()
    evil.goto("https://127.0.0.1:%d/evil.html" % EVIL_PORT)
    evil.wait("location.port === %s && document.body.innerText.indexOf('csrf') >= 0" % js(str(PORT)), T,
              "the api's refusal of the forged form")
    shot(evil, "csrf-refused")
    cookie = [c for c in page.cookies(BASE + "/") if c["name"] == "sp_session"]
    assert cookie and cookie[0]["httpOnly"] and cookie[0]["secure"] and cookie[0]["sameSite"] == "Strict", cookie
    old_cookie = cookie[0]["value"]

    # Log out.
    page.eval("location.hash = '#dashboard'")
    click(page, "logout")
    page.wait("!document.getElementById('login-page').hidden", T, "the login page after logout")
    shot(page, "logged-out")
finally:
    b.close()

# ---- the same api without a browser ----

ctx = ssl.create_default_context(cafile=os.path.join(D, "pki", "ca.pem"))


def call(method, path, body=None, headers=None):
    c = http.client.HTTPSConnection("127.0.0.1", PORT, context=ctx, timeout=T)
    h = dict(headers or {})
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body)
    c.request(method, path, body, h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheaders(), (json.loads(data) if data and data[:1] == b"{" else data)


def login(user, pw):
    st, hd, body = call("POST", "/v1/panel/login", {"user": user, "password": pw})
    ck = [v for k, v in hd if k.lower() == "set-cookie"]
    return st, body, (ck[0].split(";")[0] if ck else None), ck


bad = []
# The logged-out cookie is dead.
st, _, _ = call("GET", "/v1/partners", headers={"Cookie": "sp_session=" + old_cookie})
if st != 401:
    bad.append("the cookie of a logged-out session still works: %d" % st)
# The page: strict CSP, no inline script.
st, hd, html = call("GET", "/")
csp = dict((k.lower(), v) for k, v in hd).get("content-security-policy", "")
if "default-src 'self'" not in csp or "script-src 'self'" not in csp or "unsafe-inline" in csp:
    bad.append("CSP: %r" % csp)
html = html.decode()
if html.count("<script") != html.count("<script src=") or re.search(r"<[^>]+\son[a-z]+=", html):
    bad.append("inline script in index.html")
# alice: the cookie flags; a change without the CSRF token, or from a
# foreign Origin, is refused; with both it works.
st, doc, ck, raw = login("alice", "correct horse battery")
if st != 200 or not all(f in raw[0] for f in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/")):
    bad.append("alice's login: %d %s" % (st, raw))
rule = {"description": "x", "match": "y"}
st, _, body = call("POST", "/v1/rules", rule, {"Cookie": ck})
if st != 403 or body["error"]["code"] != "csrf":
    bad.append("a change without X-CSRF-Token: %d %s" % (st, body))
st, _, body = call("POST", "/v1/rules", rule, {"Cookie": ck, "X-CSRF-Token": doc["csrf"],
                                                "Origin": "https://evil.example"})
if st != 403 or body["error"]["code"] != "csrf":
    bad.append("a change from a foreign Origin: %d %s" % (st, body))
st, _, body = call("POST", "/v1/rules", rule, {"Cookie": ck, "X-CSRF-Token": "0" * 64})
if st != 403:
    bad.append("a wrong CSRF token: %d" % st)
st, _, body = call("DELETE", "/v1/rules/999999", None, {"Cookie": ck, "X-CSRF-Token": doc["csrf"],
                                                         "Origin": BASE})
if st != 404:
    bad.append("alice with the token: %d %s (want 404 from the handler)" % (st, body))
# bob (read) looks but does not change, as a read token.
st, doc, ck, raw = login("bob", "read only password")
if st != 200 or doc["role"] != "read":
    bad.append("bob's login: %d %s" % (st, doc))
st, _, body = call("GET", "/v1/partners", headers={"Cookie": ck})
if st != 200 or any("password_hash" in p for p in body["partners"]):
    bad.append("bob's partner list: %d" % st)
st, _, body = call("POST", "/v1/partners", {"odette_id": "X"}, {"Cookie": ck, "X-CSRF-Token": doc["csrf"]})
if st != 403 or body["error"].get("role") != "read" or "user 'bob'" not in body["error"]["message"]:
    bad.append("bob adding a partner: %d %s" % (st, body))
# Routes for a read user, without any private key.
st, _, body = call("GET", "/v1/routes", headers={"Cookie": ck})
if st != 200 or [r["name"] for r in body["routes"]] != ["panel-out"] or "PRIVATE KEY" in json.dumps(body):
    bad.append("bob's routes: %d %s" % (st, str(body)[:300]))
# The brake: five wrong passwords, then even the right one waits.
for i in range(5):
    st, body, _, _ = login("mallory", "guess number %d" % i)
    if st != 401:
        bad.append("wrong password %d: %d" % (i, st))
st, body, _, _ = login("mallory", "guess number 6")
if st != 429:
    bad.append("the 6th wrong password: %d (want 429)" % st)
st, body, _, _ = login("alice", "correct horse battery")
if st != 429:
    bad.append("alice from the braked address: %d (want 429)" % st)
for m in bad:
    log("FAIL:", m)
sys.exit(1 if bad else 0)
