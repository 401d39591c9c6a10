#!/usr/bin/env bash
# ops_api_signals.sh - smartproxy-api on SIGHUP: it used to ignore it
# without a word. Now it re-reads the token files (a new token is accepted,
# the replaced one refused; an unreadable file keeps every token read
# before), reopens its log file after a logrotate moved it, says so, keeps
# answering, and SIGTERM still ends it with status 0.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
sp_init 90

API=$SP_TOP_BUILDDIR/smartproxy-api
sp_require_prog "$API"
sp_need curl curl

make_certs "$SP_TMP/pki"
D=$SP_TMP
OLD=abcdefghijklmnop0123456789
NEW=zyxwvutsrqponmlk9876543210
printf '%s\n' "$OLD" >"$D/client.token"
mkdir -p "$D/logs"
cat >"$D/api.yaml" <<YAML
listen: "127.0.0.1:0"
tls:
  certificate: $D/pki/server.pem
  key: $D/pki/server.key
database: $D/api.db
tokens:
  - name: client
    role: proxy
    file: $D/client.token
logging:
  level: debug
  targets:
    - type: stderr
    - type: file
      dir: $D/logs
      prefix: smartproxy-api
YAML
sp_start api "$API" --config "$D/api.yaml" --port-file "$D/port"
API_PID=$SP_LAST_PID
PORT=$(sp_wait_port_file "$D/port")
status() { # TOKEN
	curl -sS --max-time $(sp_time 20) --cacert "$D/pki/ca.pem" -o /dev/null -w '%{http_code}' \
		-H "Authorization: Bearer $1" "https://127.0.0.1:$PORT/v1/config"
}
wait_log() { # PATTERN
	local i=0
	until grep -q -e "$1" "$SP_TMP/api.log"; do
		[ "$i" -lt $(($(sp_time 20) * 10)) ] || { sp_dump_logs; sp_fail "no '$1' in api.log"; }
		sleep 0.1
		i=$((i + 1))
	done
}
[ "$(status "$OLD")" = 200 ] || sp_fail "the first token is not accepted"

today=$(date -u +%F)
sp_wait_file "$D/logs/smartproxy-api-$today.log"
mv "$D/logs/smartproxy-api-$today.log" "$D/logs/rotated.log"
printf '%s\n' "$NEW" >"$D/client.token"
kill -HUP "$API_PID"
wait_log "SIGHUP: 1 token(s) reloaded; 1 log file(s) reopened"
[ "$(status "$NEW")" = 200 ] || sp_fail "the new token is not accepted after SIGHUP"
[ "$(status "$OLD")" = 401 ] || sp_fail "the replaced token is still accepted after SIGHUP"
sp_grep "SIGHUP: 1 token(s) reloaded" "$D/logs/smartproxy-api-$today.log"
grep -q "SIGHUP" "$D/logs/rotated.log" && sp_fail "the moved file got lines after the reopen"

rm "$D/client.token"
kill -HUP "$API_PID"
wait_log "SIGHUP: tokens not reloaded, the 1 read before stay: "
[ "$(status "$NEW")" = 200 ] || sp_fail "a failed reload dropped the token"

kill -TERM "$API_PID"
sp_wait "$API_PID" 20 || sp_fail "smartproxy-api did not exit 0 on SIGTERM"
exit 0
