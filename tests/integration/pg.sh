# pg.sh - a throwaway PostgreSQL server for the store tests (sourced after
# lib.sh), from Debian's `postgresql` (initdb, postgres).
#
#   pg_start             initdb and postgres on a unix socket only (no TCP),
#                        in its own directory; stopped by PID at exit
#   pg_createdb NAME     a new empty database; prints its connection URL
#   pg_restart           fast shutdown (clients cut) and start on the same data
#
# postgres refuses to run as root: under root the server runs as the
# `postgres` system user the package creates (setpriv, util-linux), in a
# directory of its own outside $SP_TMP (which is 0700 root), removed at
# exit. The test skips (77) when the binaries are missing, unless
# SP_NO_SKIP=1.

PG_DIR=
PG_SOCK=
PG_BIN=

# The newest installed major version, or SP_PG_BIN (a bin directory).
pg_find_bin() {
	local d
	PG_BIN=
	for d in ${SP_PG_BIN:-/usr/lib/postgresql/*/bin}; do
		[ -x "$d/initdb" ] && [ -x "$d/postgres" ] && PG_BIN=$d
	done
	[ -n "$PG_BIN" ] || sp_skip "no PostgreSQL server binaries (Debian: apt-get install postgresql)"
}

# pg_as CMD...: CMD as the server's user (postgres under root).
pg_as() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
	else
		"$@"
	fi
}

pg_cleanup_dir() {
	[ -n "$PG_DIR" ] && [ "${SP_KEEP_TMP:-0}" != 1 ] && rm -rf "$PG_DIR"
}

# Start the server on $PG_DIR/data and wait until it answers.
pg_run() {
	local i=0 limit
	# Started directly (setpriv execs), so the recorded PID is the server.
	set -- "$PG_BIN/postgres" -D "$PG_DIR/data" -k "$PG_SOCK" \
		-c listen_addresses= -c fsync=off -c synchronous_commit=off \
		-c full_page_writes=off
	if [ "$(id -u)" = 0 ]; then
		sp_start postgres setpriv --reuid=postgres --regid=postgres \
			--init-groups -- "$@"
	else
		sp_start postgres "$@"
	fi
	PG_PID=$SP_LAST_PID
	limit=$(sp_time 30)
	until "$PG_BIN/pg_isready" -q -h "$PG_SOCK" -U sp -d postgres; do
		kill -0 "$PG_PID" 2>/dev/null || { cat "$SP_TMP/postgres.log" >&2; sp_hard_error "postgres ended"; }
		[ "$i" -ge $((limit * 10)) ] && sp_hard_error "postgres not ready after ${limit}s"
		sleep 0.1
		i=$((i + 1))
	done
}

# SIGINT is PostgreSQL's fast shutdown: open connections are cut (SIGTERM
# would wait for every client to leave).
pg_restart() {
	kill -INT "$PG_PID"
	sp_wait "$PG_PID" 30 || sp_hard_error "postgres did not stop"
	mv "$SP_TMP/postgres.log" "$SP_TMP/postgres-1.log"
	pg_run
}

pg_start() {
	pg_find_bin
	if [ "$(id -u)" = 0 ]; then
		getent passwd postgres >/dev/null || sp_skip "no postgres user to run the server as"
	fi
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sp-pg.XXXXXX") || sp_hard_error "mktemp failed"
	[ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR"
	PG_SOCK=$PG_DIR/sock
	pg_as mkdir -m 700 "$PG_DIR/data"
	# The socket is open to every user of this host (trust auth: a test
	# server), also to a daemon in a user namespace (ops_events.sh) that
	# does not see the owner.
	chmod 711 "$PG_DIR"
	pg_as mkdir -m 755 "$PG_SOCK"
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U sp --auth=trust -E UTF8 \
		--locale=C.UTF-8 --no-sync >"$SP_TMP/initdb.log" 2>&1 ||
		{ cat "$SP_TMP/initdb.log" >&2; sp_hard_error "initdb failed"; }
	# sp_cleanup stops it by PID (SIGTERM, then waits); then the directory.
	trap 'sp_cleanup; pg_cleanup_dir' EXIT
	pg_run
}

pg_createdb() {
	"$PG_BIN/createdb" -h "$PG_SOCK" -U sp "$1" ||
		sp_hard_error "createdb $1 failed"
	printf 'postgresql://sp@/%s?host=%s\n' "$1" "$PG_SOCK"
}
