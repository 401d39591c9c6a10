# partner_lib.sh - the partner module in the chain (sourced after lib.sh and
# chain.sh by tests/integration/partner_*.sh).
#
#   partner_init MODULES...       chain_init with these modules (partner, oftp2)
#   partner_config PORT SPEC...   $SP_TMP/config.json: one TLS listener asking
#                                 for client certificates, modules.partner from
#                                 SPEC lines "ID PASSWORD NETWORKS [key=value...]"
#                                 (NETWORKS comma-separated; keys: pin=CERTFILE,
#                                 ca=CAFILE, bind=cn|san|none, enabled=false, max=N,
#                                 from=TIME, until=TIME); PARTNER_BRAKE may hold
#                                 the brake object as JSON, PARTNER_LIMITS a JSON
#                                 object of limits replacing the test's own
#   partner_fail2ban LOG          the contrib/fail2ban filter must match every
#                                 refused attempt of LOG with its address, and
#                                 nothing else

partner_init() {
	local m entries=
	for m in "$@"; do
		[ -f "$SP_TOP_BUILDDIR/.libs/$m.so" ] || sp_skip "$m.so not built"
		entries="$entries
  - name: $m
    path: $SP_TOP_BUILDDIR/.libs/$m.so"
	done
	CHAIN_MODULES="modules:$entries"
	chain_init
}

partner_config() {
	local port=$1
	shift
	python3 - "$SP_TMP/pki" "$port" "${PARTNER_BRAKE:-null}" "${PARTNER_LIMITS:-null}" "$@" \
		>"$SP_TMP/config.json.tmp" <<-'PY' ||
	import hashlib, json, os, subprocess, sys
	pki, port, brake, limits, specs = (sys.argv[1], sys.argv[2], json.loads(sys.argv[3]),
	                                   json.loads(sys.argv[4]), sys.argv[5:])

	def pbkdf2(pw):
	    salt = os.urandom(16)
	    h = hashlib.pbkdf2_hmac("sha256", pw.encode(), salt, 100000)
	    return "pbkdf2-sha256$100000$%s$%s" % (salt.hex(), h.hex())

	def pin(pem):
	    der = subprocess.run(["certtool", "--certificate-info", "--outder",
	                          "--infile", pem], capture_output=True, check=True).stdout
	    return hashlib.sha256(der).hexdigest()

	partners = []
	for spec in specs:
	    f = spec.split()
	    p = {"odette_id": f[0], "description": "", "password_hash": pbkdf2(f[1]),
	         "allowed_networks": f[2].split(","),
	         "tls": {"require_client_cert": False, "pins": [], "ca_bundle": None},
	         "max_sessions": 0, "enabled": True, "valid_from": None, "valid_until": None}
	    for kv in f[3:]:
	        k, v = kv.split("=", 1)
	        if k == "pin":
	            p["tls"]["require_client_cert"] = True
	            p["tls"]["pins"].append(pin(v))
	        elif k == "ca":
	            p["tls"]["require_client_cert"] = True
	            p["tls"]["ca_bundle"] = open(v).read()
	        elif k == "bind":
	            p["tls"]["bind"] = v
	        elif k == "enabled":
	            p["enabled"] = v == "true"
	        elif k == "max":
	            p["max_sessions"] = int(v)
	        elif k == "from":
	            p["valid_from"] = v
	        elif k == "until":
	            p["valid_until"] = v
	    partners.append(p)
	doc = {
	    "api_version": 1, "revision": 1, "generated": "2026-01-01T00:00:00Z",
	    "listeners": [{"name": "partners", "address": "127.0.0.1:%s" % port,
	                   "tls": {"certificate_chain": open(pki + "/server.pem").read(),
	                           "private_key": open(pki + "/server.key").read(),
	                           "require_client_cert": False, "request_client_cert": True}}],
	    "routes": [],
	    "limits": {"max_sessions": 1000, "max_sessions_per_address": 1000,
	               "handshake_timeout_ms": 3000, "ssid_timeout_ms": 30000,
	               "idle_timeout_ms": 300000, "session_max_ms": 86400000,
	               "inside_connect_timeout_ms": 5000, "linger_ms": 1000},
	    "modules": {"partner": {"partners": partners}},
	}
	if brake is not None:
	    doc["modules"]["partner"]["brake"] = brake
	if limits is not None:
	    doc["limits"].update(limits)
	print(json.dumps(doc))
	PY
		sp_hard_error "cannot write the configuration"
	mv "$SP_TMP/config.json.tmp" "$SP_TMP/config.json"
}

# Refused attempts as the log's own key=value fields tell them (the fields,
# not the message the filter reads): "ADDRESS" per line, sorted.
_partner_refusals() {
	grep -E ' (WARN|INFO) security \[' "$1" |
		grep -E ' event=(address_not_allowed|unknown_partner|bad_password|certificate_refused|partner_disabled|partner_not_valid|rate_limited|wrong_partner|tls_handshake_failed)( |$)' |
		grep -E ' WARN ' |
		sed -E 's/.* src=([^ ]+).*/\1/' | sort
}

partner_fail2ban() {
	local log=$1 filter=$SP_TOP_SRCDIR/contrib/fail2ban/filter.d/smartproxy.conf
	sp_need fail2ban-regex fail2ban
	# Only the server's own lines: sanitizer or peer output has no timestamp.
	grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$log" >"$SP_TMP/f2b-input.log"
	_partner_refusals "$SP_TMP/f2b-input.log" >"$SP_TMP/f2b-want"
	[ -s "$SP_TMP/f2b-want" ] || sp_fail "no refused attempt in $log to check the filter on"
	fail2ban-regex -o ip "$SP_TMP/f2b-input.log" "$filter" >"$SP_TMP/f2b-got.raw" 2>"$SP_TMP/f2b.err" ||
		{ cat "$SP_TMP/f2b.err" >&2; sp_fail "fail2ban-regex failed"; }
	sort "$SP_TMP/f2b-got.raw" >"$SP_TMP/f2b-got"
	if ! cmp -s "$SP_TMP/f2b-want" "$SP_TMP/f2b-got"; then
		diff "$SP_TMP/f2b-want" "$SP_TMP/f2b-got" | head -20 >&2
		sp_fail "fail2ban filter: matched addresses differ from the refused attempts"
	fi
	# And no line of a session that went well (or a mere session limit).
	fail2ban-regex -o msg "$SP_TMP/f2b-input.log" "$filter" >"$SP_TMP/f2b-msg" 2>/dev/null
	if grep -qE 'accepted|ended|session_limit|TLS1\.|INFO ' "$SP_TMP/f2b-msg"; then
		grep -E 'accepted|ended|session_limit|TLS1\.|INFO ' "$SP_TMP/f2b-msg" | head -5 >&2
		sp_fail "fail2ban filter matched a line that is no refused attempt"
	fi
	[ "$(wc -l <"$SP_TMP/f2b-msg")" -eq "$(wc -l <"$SP_TMP/f2b-got")" ] ||
		sp_fail "fail2ban-regex -o msg and -o ip disagree"
	sp_log "fail2ban filter: $(wc -l <"$SP_TMP/f2b-got") refused attempts matched" \
		"($(sort -u "$SP_TMP/f2b-got" | tr '\n' ' '))"
}
