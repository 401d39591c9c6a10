#!/usr/bin/env bash
# hardening_seccomp.sh - the seccomp filter of the running server (no root
# needed): with the default 'seccomp: enforce' every thread of the server
# shows NoNewPrivs 1 and Seccomp 2 and a partner's session still crosses the
# chain; 'seccomp: log' installs the filter too and says so at WARN; 'seccomp:
# off' installs none. The filter's rules themselves: tests/unit/check_sandbox.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_init 180

# proc_field PID FIELD: the value of FIELD in /proc/PID/status.
proc_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"
}

# every_thread PID FIELD VALUE: fail unless all threads show VALUE.
every_thread() {
	local st n=0
	for st in /proc/"$1"/task/*/status; do
		[ "$(sed -n "s/^$2:[[:space:]]*//p" "$st")" = "$3" ] ||
			sp_fail "$st: $2 is '$(sed -n "s/^$2:[[:space:]]*//p" "$st")', expected $3"
		n=$((n + 1))
	done
	# the loop thread and the two worker threads at least
	[ "$n" -ge 3 ] || sp_fail "only $n thread(s) in /proc/$1/task"
}

chain_init
PARTNER_PORT=$(chain_free_port)
chain_config "$PARTNER_PORT" 1
chain_fake_backend

# 1. default (enforce): filter on every thread, a session goes through.
grep -q '^seccomp:' "$SP_TMP/server.yaml" && sp_hard_error "server.yaml names seccomp already"
chain_start_server
chain_wait_log server "seccomp filter: enforce"
every_thread "$SERVER_PID" Seccomp 2
every_thread "$SERVER_PID" NoNewPrivs 1
chain_start_client
chain_wait_log server "revision 1 applied"

sp_make_file "$SP_TMP/to-inside" $((2 * 1024 * 1024))
sp_make_file "$SP_TMP/to-outside" $((1024 * 1024))
sp_start inside python3 "$SP_IT/relay_peer.py" server "$INSIDE_PORT" \
	"$SP_TMP/inside-got" "$SP_TMP/to-outside"
INSIDE_PID=$SP_LAST_PID
chain_wait_log inside listening
sp_run python3 "$SP_IT/relay_peer.py" client 127.0.0.1 "$PARTNER_PORT" \
	"$SP_TMP/pki/ca.pem" "$SP_TMP/to-inside" "$SP_TMP/outside-got" ||
	{ sp_dump_logs; sp_fail "partner-side transfer failed under the filter"; }
sp_wait "$INSIDE_PID" 30 || { sp_dump_logs; sp_fail "inside server failed"; }
sp_cmp "$SP_TMP/to-inside" "$SP_TMP/inside-got"
sp_cmp "$SP_TMP/to-outside" "$SP_TMP/outside-got"
chain_wait_log server "session 1 ended"
# Reload of the pairing file (SIGHUP: fopen, read) is allowed too.
kill -HUP "$SERVER_PID"
chain_wait_log server "pairing file reloaded"
kill -0 "$SERVER_PID" 2>/dev/null || sp_fail "server died under the filter"
chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
sp_log "enforce: all threads filtered, session relayed, clean exit"

# 2. log mode and off.
for mode in log off; do
	mv "$SP_TMP/server.log" "$SP_TMP/server-before-$mode.log"
	sed -i -e '/^seccomp:/d' -e "s|^user: .*|&\nseccomp: $mode|" "$SP_TMP/server.yaml"
	chain_start_server
	chain_wait_log server "seccomp filter: $mode"
	case $mode in
	log)
		sp_grep "WARN core .*seccomp filter: log" "$SP_TMP/server.log"
		every_thread "$SERVER_PID" Seccomp 2 ;;
	off)
		every_thread "$SERVER_PID" Seccomp 0 ;;
	esac
	chain_stop server "$SERVER_PID"
done
sp_log "log mode filters and warns; off installs nothing"
exit 0
