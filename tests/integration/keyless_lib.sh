# keyless_lib.sh - a chain whose listener key stays with the client (sourced
# after lib.sh and chain.sh).
#
#   keyless_config PORT [LOCAL_PORT]  $SP_TMP/config.json: listener "partners"
#       on PORT with key: inside; with LOCAL_PORT also "local", an ordinary
#       listener whose key travels in the revision (the control group)
#       (handshake time limit 20 s: above the 5 s a signature may take)
#   keyless_pause_client / keyless_resume_client  SIGSTOP / SIGCONT the
#       client; a test that fails in between still ends it (the EXIT trap
#       resumes it first, since a stopped process does not act on SIGTERM)
#   keyless_client_conf SOURCE        client.yaml holding partners' key at
#       SOURCE (a PEM file or a pkcs11: URL)
#   keyless_probe PORT OUT            a partner's TLS handshake (gnutls-cli):
#       its report, then "ok" or "fail", in OUT

keyless_config() {
	python3 - "$SP_TMP/pki" "$1" "${2:-}" >"$SP_TMP/config.json.tmp" <<-'EOF'
	import json, sys
	pki, port, local = sys.argv[1], sys.argv[2], sys.argv[3]
	ls = [{"name": "partners", "address": "127.0.0.1:%s" % port,
	       "tls": {"certificate_chain": open(pki + "/server.pem").read(), "key": "inside",
	               "require_client_cert": False, "request_client_cert": False}}]
	if local:
	    ls.append({"name": "local", "address": "127.0.0.1:%s" % local,
	               "tls": {"certificate_chain": open(pki + "/client.pem").read(),
	                       "private_key": open(pki + "/client.key").read(),
	                       "require_client_cert": False, "request_client_cert": False}})
	doc = {"api_version": 1, "revision": 1, "generated": "2026-01-01T00:00:00Z",
	       "listeners": ls, "routes": [],
	       "limits": {"max_sessions": 100, "max_sessions_per_address": 20,
	                  "handshake_timeout_ms": 20000, "ssid_timeout_ms": 30000,
	                  "inside_connect_timeout_ms": 5000, "linger_ms": 2000},
	       "modules": {}}
	print(json.dumps(doc))
	EOF
	mv "$SP_TMP/config.json.tmp" "$SP_TMP/config.json"
}

keyless_client_conf() {
	chain_write_client_conf "$PROXY_ID"
	cat >>"$SP_TMP/client.yaml" <<-EOF
	keyless:
	  keys:
	    partners: "$1"
	EOF
}

keyless_probe() {
	# gnutls-cli names the alert it received ("Received alert [80]: ...").
	if gnutls-cli --x509cafile "$SP_TMP/pki/ca.pem" -p "$1" localhost \
		</dev/null >"$2" 2>&1; then
		echo "ok" >>"$2"
	else
		echo "fail" >>"$2"
	fi
}

# keyless_wait_count NAME PATTERN N: until PATTERN is in NAME.log N times.
keyless_wait_count() {
	local limit=$(sp_time 20) i=0
	until [ "$(grep -c -e "$2" "$SP_TMP/$1.log" 2>/dev/null)" -ge "$3" ]; do
		if [ "$i" -ge $((limit * 10)) ]; then
			sp_dump_logs
			sp_fail "'$2' not $3 times in $1.log after ${limit}s"
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

keyless_pause_client() {
	trap 'kill -CONT "$CLIENT_PID" 2>/dev/null; sp_cleanup' EXIT
	kill -STOP "$CLIENT_PID"
}

keyless_resume_client() {
	kill -CONT "$CLIENT_PID"
	trap 'sp_cleanup' EXIT
}

# keyless_probe_held OUT: a partner handshake in the background (PROBE_PID,
# its output in OUT) whose signature request the paused client holds;
# returns once the server has sent that request.
keyless_probe_held() {
	local sent
	sent=$(grep -c "signature request [0-9]* sent to the client" "$SP_TMP/server.log")
	keyless_pause_client
	keyless_probe "$PARTNER_PORT" "$1" &
	PROBE_PID=$!
	SP_PIDS="$SP_PIDS $PROBE_PID"
	keyless_wait_count server "signature request [0-9]* sent to the client" $((sent + 1))
}
