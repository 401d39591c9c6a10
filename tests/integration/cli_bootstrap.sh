#!/usr/bin/env bash
# cli_bootstrap.sh - the daemons' command line: a bad bootstrap file gives one
# clear line naming file, line and key and exit status 2 (with and without
# --check); so does a file that parses but names what this host lacks (a
# user, a chroot directory, a module, a token readable by everyone), and the
# daemon refuses it with the same line before it opens any socket; a good
# one says ok; -L prints the Proxy ID.
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

# Meaning, not only syntax. The daemon runs get a tunnel port that is free:
# one stderr line and exit 2, and the port is still free, so nothing listened.
port=$(chain_free_port)
meaning() { # NAME LINE-AFTER-PATH EXTRA-YAML
	local f="$SP_TMP/$1.yaml"
	printf 'tunnel:\n  listen: 127.0.0.1:%s\nstate_dir: %s/state\nuser: %s\n%s' \
		"$port" "$SP_TMP" "${USER_NAME:-$(id -un)}" "$3" >"$f"
	expect_error "check-$1" "$f:$2" "$SP_SERVER" --check -c "$f"
	expect_error "run-$1" "$f:$2" "$SP_SERVER" -c "$f"
	! sp_connects 127.0.0.1 "$port" || sp_fail "$1: the tunnel port was opened"
}
USER_NAME=no_such_user_sp meaning no-user "4: key 'user': no such user 'no_such_user_sp' (create it, or name another)" ""
meaning no-chroot "5: key 'chroot': $SP_TMP/empty: No such file or directory" "chroot: $SP_TMP/empty
"
meaning no-module "7: key 'modules[0].path': $SP_TMP/gone.so: no such file (module 'gone')" "modules:
  - name: gone
    path: $SP_TMP/gone.so
"

echo "test-token-0123456789abcdef" >"$SP_TMP/token"
chmod 644 "$SP_TMP/token"
printf 'server:\n  address: 127.0.0.1:7443\n  proxy_id: %064d\nbackend:\n  url: https://127.0.0.1:1/\n  token_file: %s/token\ninside:\n  address: 127.0.0.1:3305\nstate_dir: %s/cstate\n' \
	0 "$SP_TMP" "$SP_TMP" >"$SP_TMP/open-token.yaml"
want="$SP_TMP/open-token.yaml:6: key 'backend.token_file': $SP_TMP/token: readable by everyone (mode 0644): it holds a secret"
expect_error check-client-token "$want" "$SP_CLIENT" --check -c "$SP_TMP/open-token.yaml"
expect_error run-client-token "$want" "$SP_CLIENT" -c "$SP_TMP/open-token.yaml"
chmod 600 "$SP_TMP/token"
[ "$("$SP_CLIENT" --check -c "$SP_TMP/open-token.yaml")" = ok ] || sp_fail "client file with a 0600 token not ok"

# smartproxy-api: a missing TLS key file, with --check and at start (the
# port file is never written: nothing listened).
SP_API=${SP_API:-$SP_TOP_BUILDDIR/smartproxy-api}
printf '%s\n' abcdefghijklmnop0123456789 >"$SP_TMP/api.token"
printf 'listen: "127.0.0.1:0"\ntls:\n  certificate: %s/api.token\n  key: %s/nokey.pem\ndatabase: %s/api.db\ntokens:\n  - name: client\n    role: proxy\n    file: %s/api.token\n' \
	"$SP_TMP" "$SP_TMP" "$SP_TMP" "$SP_TMP" >"$SP_TMP/api.yaml"
want="$SP_TMP/api.yaml:4: key 'tls.key': $SP_TMP/nokey.pem: No such file or directory"
expect_error check-api "$want" "$SP_API" --check -c "$SP_TMP/api.yaml"
expect_error run-api "$want" "$SP_API" -c "$SP_TMP/api.yaml" --port-file "$SP_TMP/api.port"
[ ! -e "$SP_TMP/api.port" ] || sp_fail "smartproxy-api listened with a missing key file"
[ ! -e "$SP_TMP/api.db" ] || sp_fail "smartproxy-api created its database with a missing key file"

printf 'tunnel:\n  listen: 127.0.0.1:7443\nstate_dir: %s/state\nuser: %s\n' "$SP_TMP" "$(id -un)" >"$SP_TMP/good-server.yaml"
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
