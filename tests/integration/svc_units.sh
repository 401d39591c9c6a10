#!/bin/bash
# svc_units.sh - the systemd units as `make install` ships them: each passes
# `systemd-analyze verify`, is Type=notify with a reload that checks the
# configuration first, and `systemd-analyze security` rates it 2.0 or below
# (the figures are printed). The example configuration installed next to
# them passes each daemon's own --check.
. "${SP_TOP_SRCDIR:?}/tests/integration/lib.sh"
sp_need systemd-analyze systemd
sp_init 300

stage=$SP_TMP/stage
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -s -C "$SP_TOP_BUILDDIR" DESTDIR="$stage" install \
	>"$SP_TMP/install.log" 2>&1 || { cat "$SP_TMP/install.log" >&2; sp_hard_error "make install into $stage failed"; }

units=$(find "$stage" -path '*/systemd/system/smartproxy-*.service' | sort)
[ "$(echo "$units" | wc -w)" -eq 3 ] || sp_fail "expected 3 installed units, got: $units"
for d in server client api; do
	for kind in sysusers.d tmpfiles.d; do
		find "$stage" -path "*/$kind/smartproxy-$d.conf" | grep -q . || sp_fail "no $kind entry for smartproxy-$d"
	done
done

mkdir -p "$SP_TMP/units"
for u in $units; do
	name=$(basename "$u")
	grep -q '^Type=notify$' "$u" || sp_fail "$name is not Type=notify"
	grep -q '^ExecReload=.* --check ' "$u" || sp_fail "$name reloads without checking its configuration"
	grep -q '@[a-z]*@' "$u" && sp_fail "$name has unsubstituted @...@"
	# verify looks for the programs where the unit names them: in the stage.
	prefix=$(sed -n 's|^ExecStart=\(/.*\)/sbin/.*|\1|p' "$u")
	sed "s|$prefix/|$stage$prefix/|g" "$u" >"$SP_TMP/units/$name"
done
(cd "$SP_TMP/units" && systemd-analyze verify --man=no ./*.service) >"$SP_TMP/verify.log" 2>&1 ||
	{ cat "$SP_TMP/verify.log" >&2; sp_fail "systemd-analyze verify"; }
for u in "$SP_TMP"/units/*.service; do
	systemd-analyze security --offline=true "$u" >"$SP_TMP/security.log" 2>&1
	sp_log "$(tail -n 1 "$SP_TMP/security.log")"
	systemd-analyze security --offline=true --threshold=20 "$u" >/dev/null 2>&1 ||
		sp_fail "$(basename "$u") is rated above 2.0"
done

# The shipped examples, with this machine's user and a scratch tree for the
# paths, pass --check.
examples=$(find "$stage" -type d -path '*/doc/smartproxy/examples')
[ -n "$examples" ] || sp_fail "examples not installed"
sbin=$(dirname "$(find "$stage" -name smartproxy-server -type f)")
moddir=$(dirname "$(find "$stage" -name oftp2.so | head -n 1)")
# --check looks at the host: the directories and files the examples name.
mkdir -p "$SP_TMP"/var/lib/smartproxy/empty "$SP_TMP"/var/lib/smartproxy-client \
	"$SP_TMP"/var/lib/smartproxy-api "$SP_TMP"/var/log/smartproxy{,-client,-api} "$SP_TMP"/etc/smartproxy
cp "$examples/pairing" "$SP_TMP/etc/smartproxy/"
(umask 077 && echo token >"$SP_TMP/etc/smartproxy/client.token")
make_certs "$SP_TMP/pki"
cp "$SP_TMP/pki/ca.pem" "$SP_TMP/etc/smartproxy/api-ca.pem"
cp "$SP_TMP/pki/server.pem" "$SP_TMP/etc/smartproxy/api-cert.pem"
cp "$SP_TMP/pki/server.key" "$SP_TMP/etc/smartproxy/api-key.pem"
for f in server client api; do
	# Modules from the stage, not from the configured module directory.
	mods=
	[ "$f" = server ] && mods="s|^  - name: \([a-z0-9_]*\)\$|&\n    path: $moddir/\1.so|"
	sed -e "s|^user: .*|user: $(id -un)|" -e "s|/var/|$SP_TMP/var/|g" -e "s|/etc/|$SP_TMP/etc/|g" \
		-e "${mods:-s|^\$||}" "$examples/$f.yaml" >"$SP_TMP/$f.yaml"
	"$sbin/smartproxy-$f" --check -c "$SP_TMP/$f.yaml" >"$SP_TMP/check-$f.log" 2>&1 ||
		{ cat "$SP_TMP/check-$f.log" >&2; sp_fail "the example $f.yaml fails --check"; }
done
exit 0
