#!/usr/bin/env bash
# cli_bootstrap.sh - the daemons' command line: a bad bootstrap file gives one
# clear line naming file, line and key and exit status 2 (with and without
# --check); a good one says ok; -L prints the Proxy ID.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_require_prog "$SP_SERVER" "$SP_CLIENT"
sp_init 60

expect_error() { # NAME EXPECTED-LINE CMD...
	local name=$1 want=$2 rc=0
	shift 2
	"$@" >"$SP_TMP/$name.out" 2>"$SP_TMP/$name.err" || rc=$?
	[ "$rc" -eq 2 ] || sp_fail "$name: exit status $rc, want 2"
	[ ! -s "$SP_TMP/$name.out" ] || sp_fail "$name: wrote to stdout"
	[ "$(wc -l <"$SP_TMP/$name.err")" -eq 1 ] || { cat "$SP_TMP/$name.err" >&2; sp_fail "$name: not one line"; }
	[ "$(cat "$SP_TMP/$name.err")" = "$want" ] ||
		sp_fail "$name: got '$(cat "$SP_TMP/$name.err")', want '$want'"
}

printf 'tunnel:\n  listen: 7443\nstate_dir: %s/state\n' "$SP_TMP" >"$SP_TMP/bad-server.yaml"
want="$SP_TMP/bad-server.yaml:2: key 'tunnel.listen': expected host:port, got \"7443\""
expect_error check-server "$want" "$SP_SERVER" --check -c "$SP_TMP/bad-server.yaml"
expect_error run-server "$want" "$SP_SERVER" -c "$SP_TMP/bad-server.yaml"

printf 'server:\n  address: 127.0.0.1:7443\n  proxy_id: 1234\nbackend:\n  url: https://127.0.0.1:1/\n  token_file: /nonexistent\ninside:\n  address: 127.0.0.1:3305\n' \
	>"$SP_TMP/bad-client.yaml"
"$SP_CLIENT" --check -c "$SP_TMP/bad-client.yaml" 2>"$SP_TMP/client.err" && sp_fail "bad client file accepted"
sp_grep "^$SP_TMP/bad-client.yaml:3: key 'server.proxy_id': " "$SP_TMP/client.err"

printf 'tunnel:\n  listen: 127.0.0.1:7443\nstate_dir: %s/state\n' "$SP_TMP" >"$SP_TMP/good-server.yaml"
[ "$("$SP_SERVER" --check -c "$SP_TMP/good-server.yaml")" = ok ] || sp_fail "good file not ok"
id=$("$SP_SERVER" -L -c "$SP_TMP/good-server.yaml")
case $id in
"Proxy ID: "????????????????????????????????????????????????????????????????) ;;
*) sp_fail "-L printed '$id'" ;;
esac
[ "$("$SP_SERVER" -L -c "$SP_TMP/good-server.yaml")" = "$id" ] || sp_fail "Proxy ID changed between runs"
[ "$(stat -c %a "$SP_TMP/state/server.key")" = 600 ] || sp_fail "identity key is not mode 600"
rc=0
"$SP_SERVER" --no-such-option >/dev/null 2>"$SP_TMP/usage.err" || rc=$?
[ "$rc" -eq 2 ] || sp_fail "unknown option: exit status $rc, want 2"
sp_grep "^usage: smartproxy-server" "$SP_TMP/usage.err"
exit 0
