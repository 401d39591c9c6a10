#!/usr/bin/env bash
# log_fail2ban.sh - the shipped fail2ban jail keeps protecting across the
# daily roll of the server's log file: a real fail2ban-server reads the jail
# of contrib/fail2ban (logpath, filter, maxretry as shipped; only the log
# directory and a recording action differ), started while yesterday's file
# is current; after midnight the attempts land in a new file, and the
# address must still be banned. With a glob logpath (the old jail) fail2ban
# would still be reading yesterday's file and ban nobody.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
sp_init 180

DRIVE=$SP_TOP_BUILDDIR/tests/integration/log_drive
sp_require_prog "$DRIVE"
sp_need fail2ban-server fail2ban
sp_need fail2ban-client fail2ban
F2B=$SP_TOP_SRCDIR/contrib/fail2ban
LOGDIR=$SP_TMP/log
CONF=$SP_TMP/f2b
mkdir -p "$LOGDIR" "$CONF/filter.d" "$CONF/action.d" "$CONF/jail.d"

# fail2ban's own settings: no database, files in $SP_TMP.
cat >"$CONF/fail2ban.conf" <<CONFEOF
[Definition]
loglevel = INFO
logtarget = $SP_TMP/fail2ban.log
socket = $SP_TMP/f2b.sock
pidfile = $SP_TMP/f2b.pid
dbfile = :memory:
CONFEOF
cp "$F2B/filter.d/smartproxy.conf" "$CONF/filter.d/"
cp /etc/fail2ban/filter.d/common.conf "$CONF/filter.d/" 2>/dev/null ||
	sp_hard_error "no /etc/fail2ban/filter.d/common.conf (package fail2ban)"
# A ban is a line in a file: no firewall is touched.
cat >"$CONF/action.d/record.conf" <<CONFEOF
[Definition]
actionban = printf '%%s\n' <ip> >>$SP_TMP/banned
actionunban = true
CONFEOF
# The shipped jail, pointed at this test's log directory.
sed -e "s|/var/log/smartproxy/|$LOGDIR/|" "$F2B/jail.d/smartproxy.conf" >"$CONF/jail.d/smartproxy.conf"
grep -q "^logpath *= *$LOGDIR/smartproxy-server.log\$" "$CONF/jail.d/smartproxy.conf" ||
	sp_fail "the shipped jail's logpath is not the server's current-file link"
cat >"$CONF/jail.local" <<CONFEOF
[DEFAULT]
action = record
ignoreself = false
ignoreip =
CONFEOF
MAXRETRY=$(sed -n 's/^maxretry *= *//p' "$CONF/jail.d/smartproxy.conf")
[ -n "$MAXRETRY" ] || sp_fail "no maxretry in the shipped jail"

# The logger, yesterday shortly before midnight UTC: its file and the link.
# It then waits for $SP_TMP/go (fail2ban is up) before midnight passes and
# today's attempts go to a new file, through the same link.
now=$(date +%s)
yesterday_late=$(( now - now % 86400 - 60 ))
{
	echo "clock $yesterday_late"
	echo "warn bad_password from 127.0.0.10: partner O0013000000ACME (yesterday)"
	echo "wait $SP_TMP/go"
	echo "clock 0"
	for n in $(seq "$MAXRETRY"); do
		echo "warn bad_password from 127.0.0.11: partner O0013000000ACME (today, try $n)"
	done
} >"$SP_TMP/cmds"
sp_start drive "$DRIVE" "$LOGDIR" smartproxy-server 0 "$SP_TMP/cmds"
DRIVE_PID=$SP_LAST_PID
yday=$(date -u -d "@$yesterday_late" +%F)
sp_wait_file "$LOGDIR/smartproxy-server-$yday.log" 20 || sp_fail "no file for $yday"
[ "$(readlink "$LOGDIR/smartproxy-server.log")" = "smartproxy-server-$yday.log" ] ||
	sp_fail "the link does not name yesterday's file"

sp_start f2b fail2ban-server -f -x -c "$CONF"
F2B_PID=$SP_LAST_PID
i=0
until fail2ban-client -c "$CONF" status smartproxy >"$SP_TMP/status" 2>&1 &&
	grep -q "smartproxy-server.log" "$SP_TMP/status"; do
	[ "$i" -ge $(($(sp_time 30) * 10)) ] && { cat "$SP_TMP/status" >&2; sp_dump_logs; sp_fail "the jail did not start"; }
	kill -0 "$F2B_PID" 2>/dev/null || { sp_dump_logs; sp_fail "fail2ban-server exited"; }
	sleep 0.1; i=$((i + 1))
done

touch "$SP_TMP/go"
sp_wait "$DRIVE_PID" 30 || sp_fail "log_drive failed"
today=$(date -u +%F)
[ "$(readlink "$LOGDIR/smartproxy-server.log")" = "smartproxy-server-$today.log" ] ||
	sp_fail "the link does not follow the roll: $(readlink "$LOGDIR/smartproxy-server.log")"
[ "$(grep -c 127.0.0.11 "$LOGDIR/smartproxy-server-$today.log")" -eq "$MAXRETRY" ] ||
	sp_fail "today's attempts are not in today's file"
i=0
until grep -qx 127.0.0.11 "$SP_TMP/banned" 2>/dev/null; do
	[ "$i" -ge $(($(sp_time 60) * 10)) ] && { sp_dump_logs; sp_fail "fail2ban did not ban after the day changed"; }
	sleep 0.1; i=$((i + 1))
done
sp_log "banned 127.0.0.11 from today's file, read through the link fail2ban opened yesterday"
fail2ban-client -c "$CONF" stop >/dev/null 2>&1
sp_wait "$F2B_PID" 30 || sp_fail "fail2ban-server did not stop"
exit 0
