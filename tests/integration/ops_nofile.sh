#!/usr/bin/env bash
# ops_nofile.sh - the open-files limit. systemd starts a service with a soft
# limit of 1024 and a high hard one; the DMZ needs two descriptors a session.
# Both daemons raise their soft limit to the hard one at start (prlimit, as
# the shipped units' system call filter allows), and the server warns when a
# revision's limits.max_sessions needs more descriptors than it may open.
#  1. soft 512, hard 8192: server and client say they raised it to 8192, the
#     kernel agrees (/proc/PID/limits), and max_sessions 100 draws no warning;
#  2. soft = hard = 600: nothing to raise, and the revision's max_sessions
#     100 (about 712 descriptors) draws the warning with what fits (44).
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_init 120
sp_need prlimit util-linux

# limits PID: "soft hard" of its open files, as the kernel has them.
limits() {
	awk '/^Max open files/ { print $4, $5 }' "/proc/$1/limits"
}

chain_init
chain_config "$(chain_free_port)" 1
chain_fake_backend

# 1. Raised to the hard limit; enough for the revision.
sp_start server prlimit --nofile=512:8192 "$SP_SERVER" -c "$SP_TMP/server.yaml"
SERVER_PID=$SP_LAST_PID
chain_wait_log server "open files: limit raised from 512 to 8192"
[ "$(limits "$SERVER_PID")" = "8192 8192" ] ||
	sp_fail "server's open files limit is '$(limits "$SERVER_PID")', expected '8192 8192'"
sp_start client prlimit --nofile=512:8192 "$SP_CLIENT" -c "$SP_TMP/client.yaml"
CLIENT_PID=$SP_LAST_PID
chain_wait_log client "open files: limit raised from 512 to 8192"
[ "$(limits "$CLIENT_PID")" = "8192 8192" ] ||
	sp_fail "client's open files limit is '$(limits "$CLIENT_PID")', expected '8192 8192'"
# The warning would come before this line (tunnel.c nofile_check).
chain_wait_log server "revision 1 applied"
if grep -q "open files, this process may open" "$SP_TMP/server.log"; then
	sp_dump_logs
	sp_fail "a warning about open files with 8192 allowed"
fi
chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
mv "$SP_TMP/server.log" "$SP_TMP/server-1.log"
mv "$SP_TMP/client.log" "$SP_TMP/client-1.log"

# 2. Nothing to raise, too few for max_sessions 100.
sp_start server prlimit --nofile=600:600 "$SP_SERVER" -c "$SP_TMP/server.yaml"
SERVER_PID=$SP_LAST_PID
chain_wait_log server "open files: limit 600$"
chain_start_client
chain_wait_log server "revision 1 applied"
sp_grep "WARN config .*limits.max_sessions 100 needs about 712 open files, this process may open 600: beyond about 44 sessions" "$SP_TMP/server.log"
chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
sp_log "open files raised to the hard limit; max_sessions above the limit warned"
exit 0
