# lib.sh - shared harness for the integration tests (sourced by bash scripts).
#
#   . "$SP_TOP_SRCDIR/tests/integration/lib.sh"
#   sp_init 60                     # temp dir $SP_TMP, cleanup trap, 60 s limit
#   sp_start srv "$OFTP2_PEER" listen ... --port-file "$SP_TMP/port"
#   port=$(sp_wait_port_file "$SP_TMP/port")
#   sp_run "$OFTP2_PEER" send ...  # foreground, but still killable
#   sp_wait "$SP_LAST_PID"         # exit status of a started daemon
#   sp_cmp a b
#
# SP_TOP_BUILDDIR / SP_TOP_SRCDIR come from the environment (set by
# AM_TESTS_ENVIRONMENT); by hand, set them to the build and source trees.
# Every process the harness starts is recorded by PID, and the EXIT trap kills
# exactly those PIDs (never by name) and removes $SP_TMP, so a failed or
# timed-out test leaves nothing behind. Exit status follows automake:
# 0 pass, 77 skip, 99 hard error (setup, timeout), anything else a failure.
#
# Time limits are safety nets against a hang, never assertions: every limit
# the harness applies (sp_init, sp_wait*, sp_time) is multiplied by
# SP_TIME_FACTOR (a whole number, default 2), so a heavily loaded machine
# runs the same tests with SP_TIME_FACTOR=10. A test waits for a positive
# signal (a log line, a file, an exit), never for time to pass.
#
# A skip is a failure where everything must run: under CI (CI=true) and
# whenever SP_NO_SKIP=1 (contrib/quickstart test sets it after installing
# every tool the tests call). sp_need names the Debian package of a tool.

set -u

: "${SP_TOP_BUILDDIR:?set SP_TOP_BUILDDIR to the build tree}"
: "${SP_TOP_SRCDIR:?set SP_TOP_SRCDIR to the source tree}"
OFTP2_PEER=${OFTP2_PEER:-$SP_TOP_BUILDDIR/oftp2-peer}

SP_TEST_NAME=$(basename "$0" .sh)
SP_TIME_FACTOR=${SP_TIME_FACTOR:-2}
case $SP_TIME_FACTOR in
''|*[!0-9]*|0) echo "SP_TIME_FACTOR must be a whole number >= 1, not '$SP_TIME_FACTOR'" >&2; exit 99 ;;
esac
export SP_TIME_FACTOR
SP_TMP=

# sp_api_database PATH: the `database:` of a test's api.yaml: PATH (an
# SQLite file), or $SP_TEST_DATABASE, the PostgreSQL database api_pg.sh
# runs the same test against.
sp_api_database() { printf '%s\n' "${SP_TEST_DATABASE:-$1}"; }
sp_on_pg() { [ -n "${SP_TEST_DATABASE:-}" ]; }
SP_PIDS=
SP_LAST_PID=
SP_WATCHDOG=

sp_log() { printf '%s: %s\n' "$SP_TEST_NAME" "$*" >&2; }

# Fail the test with a message (exit status 1).
sp_fail() { sp_log "FAIL: $*"; exit 1; }

# Skip the test (automake exit status 77); a failure where nothing may skip.
sp_skip() {
	if [ "${CI:-}" = true ] || [ "${SP_NO_SKIP:-0}" = 1 ]; then
		sp_log "FAIL: would skip, but nothing may skip here (CI=${CI:-} SP_NO_SKIP=${SP_NO_SKIP:-0}): $*"
		exit 1
	fi
	sp_log "SKIP: $*"
	exit 77
}

# sp_need CMD PACKAGE: skip (a failure under CI) unless CMD is installed.
# Every PACKAGE named here belongs in `contrib/quickstart deps`.
sp_need() {
	command -v "$1" >/dev/null 2>&1 ||
		sp_skip "$1 not found (Debian: apt-get install $2; contrib/quickstart deps lists it)"
}

# sp_need_root: skip unless root (chroot, a change of user). Not a missing
# tool: a developer may run the suite unprivileged; CI runs as root, where a
# skip is a failure.
sp_need_root() {
	[ "$(id -u)" = 0 ] && return 0
	[ "${CI:-}" = true ] && sp_fail "needs root, and CI runs as root"
	sp_log "SKIP: needs root"
	exit 77
}

# sp_time SECONDS: a time limit scaled by SP_TIME_FACTOR.
sp_time() { printf '%s\n' $(($1 * SP_TIME_FACTOR)); }

# Setup error, neither pass nor fail (automake exit status 99).
sp_hard_error() { sp_log "ERROR: $*"; exit 99; }

sp_cleanup() {
	local pid
	trap - EXIT INT TERM
	if [ -n "$SP_WATCHDOG" ]; then
		kill -TERM "$SP_WATCHDOG" 2>/dev/null
		wait "$SP_WATCHDOG" 2>/dev/null
	fi
	for pid in $SP_PIDS; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $SP_PIDS; do
		wait "$pid" 2>/dev/null
	done
	if [ -n "$SP_TMP" ] && [ -d "$SP_TMP" ]; then
		if [ "${SP_KEEP_TMP:-0}" = 1 ]; then
			sp_log "kept $SP_TMP"
		else
			rm -rf "$SP_TMP"
		fi
	fi
}

# sp_init [SECONDS]: temp dir, cleanup trap and an overall time limit
# (default 120 s, times SP_TIME_FACTOR). On expiry the test ends with
# status 99.
sp_init() {
	local limit=$(sp_time "${1:-120}") main=$$
	SP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sp-$SP_TEST_NAME.XXXXXX") ||
		sp_hard_error "mktemp failed"
	trap 'sp_cleanup' EXIT
	trap 'sp_log "interrupted"; exit 99' INT
	trap 'sp_log "ERROR: time limit reached (${SP_TIME_LIMIT}s)"; sp_dump_logs; exit 99' TERM
	SP_TIME_LIMIT=$limit
	(
		trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
		sleep "$limit" &
		sleeper=$!
		wait "$sleeper"
		kill -TERM "$main" 2>/dev/null
	) &
	SP_WATCHDOG=$!
}

# sp_start NAME CMD...: run CMD in the background, stdout and stderr to
# $SP_TMP/NAME.log; its PID is in SP_LAST_PID and recorded for cleanup.
sp_start() {
	local name=$1
	shift
	"$@" >"$SP_TMP/$name.log" 2>&1 &
	SP_LAST_PID=$!
	SP_PIDS="$SP_PIDS $SP_LAST_PID"
}

sp_forget_pid() {
	local pid keep=
	for pid in $SP_PIDS; do
		[ "$pid" = "$1" ] || keep="$keep $pid"
	done
	SP_PIDS=$keep
}

# sp_wait PID [SECONDS]: exit status of a started process; kills it and
# returns 124 if it does not end within SECONDS (default 60, scaled).
sp_wait() {
	local pid=$1 limit=$(sp_time "${2:-60}") i=0 rc
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$i" -ge $((limit * 10)) ]; then
			sp_log "PID $pid still running after ${limit}s, killing it"
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			sp_forget_pid "$pid"
			return 124
		fi
		sleep 0.1
		i=$((i + 1))
	done
	wait "$pid"
	rc=$?
	sp_forget_pid "$pid"
	return "$rc"
}

# sp_run CMD...: run CMD in the foreground and return its status. It runs
# as a recorded background process, so the time limit can still end it.
sp_run() {
	"$@" &
	local pid=$! rc
	SP_PIDS="$SP_PIDS $pid"
	wait "$pid"
	rc=$?
	sp_forget_pid "$pid"
	return "$rc"
}

# sp_wait_file FILE [SECONDS]: wait until FILE exists and is not empty
# (default 20 s, scaled).
sp_wait_file() {
	local f=$1 limit=$(sp_time "${2:-20}") i=0
	while [ ! -s "$f" ]; do
		[ "$i" -ge $((limit * 10)) ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 0
}

# sp_wait_port_file FILE [SECONDS]: print the port written to FILE.
sp_wait_port_file() {
	sp_wait_file "$1" "${2:-20}" || sp_hard_error "no port in $1 after $(sp_time "${2:-20}")s"
	local port
	read -r port <"$1"
	case $port in
	''|*[!0-9]*) sp_hard_error "bad port '$port' in $1" ;;
	esac
	printf '%s\n' "$port"
}

# sp_wait_port HOST PORT [SECONDS]: wait until a TCP connect succeeds
# (default 20 s, scaled).
sp_wait_port() {
	local host=$1 port=$2 limit=$(sp_time "${3:-20}") i=0
	until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
		[ "$i" -ge $((limit * 10)) ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 0
}

# sp_connects HOST PORT: one TCP connect, now. For "this port is closed"
# after a positive signal (the log line that says it was closed): a closed
# loopback port refuses at once, so no waiting is needed or wanted.
sp_connects() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# sp_cmp EXPECTED ACTUAL: fail unless the files are equal byte for byte.
sp_cmp() {
	[ -f "$2" ] || sp_fail "$2 missing (expected a copy of $1)"
	if ! cmp -s "$1" "$2"; then
		sp_log "sizes: $(wc -c <"$1") expected, $(wc -c <"$2") got"
		cmp "$1" "$2" 2>&1 | head -n 1 >&2
		sp_fail "$2 differs from $1"
	fi
}

# sp_grep PATTERN FILE: fail unless FILE holds a line matching PATTERN.
sp_grep() {
	grep -q -e "$1" "$2" || { sed 's/^/  | /' "$2" >&2; sp_fail "no '$1' in $2"; }
}

# Show every log of the test (on failure).
sp_dump_logs() {
	local f
	[ -n "$SP_TMP" ] || return 0
	for f in "$SP_TMP"/*.log; do
		[ -f "$f" ] || continue
		echo "----- $f" >&2
		tail -n 50 "$f" >&2
	done
}

# make_certs DIR: a test PKI made with certtool (gnutls-bin), valid 2 days:
#   ca.pem ca.key                    test CA
#   server.pem server.key            CN localhost, SAN localhost 127.0.0.1 ::1
#   client.pem client.key            TLS client certificate from the CA
#   rogue-ca.pem rogue-client.pem rogue-client.key   an unrelated CA and a
#                                    client certificate it issued
make_certs() {
	local d=$1 name
	sp_need certtool gnutls-bin
	mkdir -p "$d" || sp_hard_error "mkdir $d"
	cat >"$d/ca.tmpl" <<-'EOF'
	cn = "smartproxy test CA"
	ca
	cert_signing_key
	crl_signing_key
	expiration_days = 2
	EOF
	sed 's/smartproxy test CA/rogue test CA/' "$d/ca.tmpl" >"$d/rogue-ca.tmpl"
	cat >"$d/server.tmpl" <<-'EOF'
	cn = "localhost"
	dns_name = "localhost"
	ip_address = "127.0.0.1"
	ip_address = "::1"
	tls_www_server
	signing_key
	expiration_days = 2
	EOF
	cat >"$d/client.tmpl" <<-'EOF'
	cn = "O0013000000TEST"
	tls_www_client
	signing_key
	expiration_days = 2
	EOF
	for name in ca rogue-ca server client rogue-client; do
		certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
			--outfile "$d/$name.key" >"$d/certtool.out" 2>&1 ||
			{ cat "$d/certtool.out" >&2; sp_hard_error "certtool: key $name"; }
	done
	for name in ca rogue-ca; do
		certtool --generate-self-signed --load-privkey "$d/$name.key" \
			--template "$d/$name.tmpl" --outfile "$d/$name.pem" \
			>"$d/certtool.out" 2>&1 ||
			{ cat "$d/certtool.out" >&2; sp_hard_error "certtool: $name"; }
	done
	_sp_issue() { # name template ca
		certtool --generate-certificate --load-privkey "$d/$1.key" \
			--load-ca-certificate "$d/$3.pem" --load-ca-privkey "$d/$3.key" \
			--template "$d/$2.tmpl" --outfile "$d/$1.pem" \
			>"$d/certtool.out" 2>&1 ||
			{ cat "$d/certtool.out" >&2; sp_hard_error "certtool: $1"; }
	}
	_sp_issue server server ca
	_sp_issue client client ca
	_sp_issue rogue-client client rogue-ca
	rm -f "$d/certtool.out"
}

# sp_make_file PATH SIZE [pattern]: test data. Random octets by default;
# "runs" gives long runs of equal octets mixed with random ones (compressible).
sp_make_file() {
	local f=$1 size=$2 kind=${3:-random}
	case $kind in
	random)
		head -c "$size" /dev/urandom >"$f" ;;
	runs)
		{
			while :; do
				head -c 200 /dev/zero || break
				head -c 37 /dev/urandom || break
				printf '%0300d' 7 || break
				printf 'line of text\r\n' || break
			done
		} 2>/dev/null | head -c "$size" >"$f" ;;
	*) sp_hard_error "sp_make_file: unknown kind $kind" ;;
	esac
	[ "$(wc -c <"$f")" -eq "$size" ] || sp_hard_error "could not make $f"
}

# sp_require_prog PATH...: hard error unless each program is built.
sp_require_prog() {
	local p
	for p in "$@"; do
		[ -x "$p" ] || sp_hard_error "$p not built (run make first)"
	done
}
