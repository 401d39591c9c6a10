#!/usr/bin/env bash
# hardening_chroot.sh - the DMZ process as deployed: started as root, the
# server reads its identity key and pairing file, loads its modules, opens its
# tunnel listener, then chroots into an empty directory, becomes 'nobody' and
# installs the seccomp filter. A partner's session still crosses the chain;
# /proc shows the uid, NoNewPrivs 1 and Seccomp 2 on every thread, and the
# chroot as the process root; the daily log file goes on through the
# directory opened before the chroot. Skipped (77) when not root.
#
# Sanitizer builds: LeakSanitizer's exit check cannot work here (it reads
# /proc/self/maps and /proc/self/task, absent in the empty chroot, and
# ptraces the threads, which a process that changed uid may not do: it is no
# longer dumpable). The server of this test therefore runs with leak
# detection off; the same code paths are leak-checked by the chain tests,
# which run the server under the same filter without the chroot.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_init 180

sp_need_root
getent passwd nobody >/dev/null || sp_skip "no user 'nobody' on this host"
NOBODY_UID=$(id -u nobody)

# A module, so that dlopen() before the chroot is part of what is tested.
[ -f "$SP_TOP_BUILDDIR/.libs/connlimit.so" ] || sp_skip "connlimit.so not built"
CHAIN_MODULES="modules:
  - name: connlimit
    path: $SP_TOP_BUILDDIR/.libs/connlimit.so"
chain_init
EMPTY=$SP_TMP/empty
LOGDIR=$SP_TMP/logs
mkdir -m 0755 "$EMPTY"
mkdir -m 0755 "$LOGDIR"
chown nobody "$LOGDIR"
# The state dir (identity key) and pairing file stay root's: read before the drop.
sed -i -e "s|^user: .*|user: nobody\nchroot: $EMPTY\nseccomp: enforce|" \
	-e "s|^    - type: stderr|&\n    - type: file\n      dir: $LOGDIR\n      prefix: dmz|" \
	"$SP_TMP/server.yaml"
PARTNER_PORT=$(chain_free_port)
chain_config "$PARTNER_PORT" 1
chain_fake_backend

ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" chain_start_server
chain_wait_log server "seccomp filter: enforce"
sp_grep "running as nobody in $EMPTY" "$SP_TMP/server.log"

st=/proc/$SERVER_PID/status
[ "$(sed -n 's/^Uid:[[:space:]]*//p' "$st")" = "$NOBODY_UID	$NOBODY_UID	$NOBODY_UID	$NOBODY_UID" ] ||
	sp_fail "uid is not nobody's everywhere: $(grep ^Uid: "$st")"
grep -q '^Groups:[[:space:]]*$' "$st" || sp_fail "supplementary groups left: $(grep ^Groups: "$st")"
grep -q '^CapEff:[[:space:]]*0000000000000000$' "$st" || sp_fail "capabilities left: $(grep ^CapEff: "$st")"
n=0
for t in /proc/"$SERVER_PID"/task/*/status; do
	grep -q '^NoNewPrivs:[[:space:]]*1$' "$t" || sp_fail "$t: NoNewPrivs is not 1"
	grep -q '^Seccomp:[[:space:]]*2$' "$t" || sp_fail "$t: Seccomp is not 2"
	grep -q "^Uid:[[:space:]]*$NOBODY_UID[[:space:]]" "$t" || sp_fail "$t: a thread kept its uid"
	n=$((n + 1))
done
[ "$n" -ge 3 ] || sp_fail "only $n thread(s)"
[ "$(readlink "/proc/$SERVER_PID/root")" = "$EMPTY" ] ||
	sp_fail "process root is $(readlink "/proc/$SERVER_PID/root"), not $EMPTY"
[ -z "$(ls -A "$EMPTY")" ] || sp_fail "the chroot is not empty: $(ls -A "$EMPTY")"

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
	{ sp_dump_logs; sp_fail "partner-side transfer failed in the chroot"; }
sp_wait "$INSIDE_PID" 30 || { sp_dump_logs; sp_fail "inside server failed"; }
sp_cmp "$SP_TMP/to-inside" "$SP_TMP/inside-got"
sp_cmp "$SP_TMP/to-outside" "$SP_TMP/outside-got"
chain_wait_log server "session 1 ended"

# The daily file: created before the drop, written after it.
logf=$(ls "$LOGDIR"/dmz-*.log 2>/dev/null | head -n 1)
[ -n "$logf" ] || sp_fail "no daily log file in $LOGDIR"
sp_grep "session 1 ended" "$logf"

# SIGHUP in the chroot, under the filter: the pairing file is re-read through
# the directory handle kept from before the chroot (the user needs search
# permission on its directory, as /etc/smartproxy gives), and the log file a
# logrotate moved away is reopened through the log directory's handle.
chmod o+x "$SP_TMP"
printf '%064d second-client\n' 7 >>"$SP_TMP/pairing"
mv "$logf" "$LOGDIR/rotated"
kill -HUP "$SERVER_PID"
chain_wait_log server "SIGHUP: pairing file reloaded: 2 client key(s) from $SP_TMP/pairing; 1 log file(s) reopened"
kill -0 "$SERVER_PID" 2>/dev/null || sp_fail "server died on SIGHUP in the chroot"
sp_grep "SIGHUP: pairing file" "$logf"
grep -q SIGHUP "$LOGDIR/rotated" && sp_fail "the moved log file got the reload line"

chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
sp_log "chrooted, nobody, seccomp 2 on every thread: session relayed, clean exit"
exit 0
