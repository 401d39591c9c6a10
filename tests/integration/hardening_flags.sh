#!/bin/bash
# hardening_flags.sh - what configure's hardening gives the installed DMZ
# daemon: smartproxy-server (installed with the tree's own install rules into
# a DESTDIR) is a position-independent executable (ELF type DYN, PIE flag),
# with full RELRO (a GNU_RELRO segment and BIND_NOW), and calls the stack
# protector; unless sanitizers are on, it calls the _FORTIFY_SOURCE checked
# functions (__*_chk). A module (oftp2.so) has RELRO and BIND_NOW too.
# With ./configure --disable-hardening the test skips.
. "${SP_TOP_SRCDIR:?}/tests/integration/lib.sh"
sp_need readelf binutils
sp_init 120

mk=$SP_TOP_BUILDDIR/Makefile
harden_cflags=$(sed -n 's/^SP_HARDEN_CFLAGS = //p' "$mk")
harden_ldflags=$(sed -n 's/^SP_HARDEN_LDFLAGS = //p' "$mk")
[ -n "$harden_cflags$harden_ldflags" ] || sp_skip "configured with --disable-hardening"

stage=$SP_TMP/stage
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -s -C "$SP_TOP_BUILDDIR" DESTDIR="$stage" \
	install-sbinPROGRAMS install-moduleLTLIBRARIES \
	>"$SP_TMP/install.log" 2>&1 || { cat "$SP_TMP/install.log" >&2; sp_hard_error "make install into $stage failed"; }
srv=$(find "$stage" -path '*/sbin/smartproxy-server' -type f | head -n 1)
mod=$(find "$stage" -path '*/smartproxy/modules/oftp2.so' -type f | head -n 1)
[ -n "$srv" ] || sp_fail "smartproxy-server was not installed"
[ -n "$mod" ] || sp_fail "oftp2.so was not installed"

export LC_ALL=C
readelf -h "$srv" | grep -qE 'Type:[[:space:]]+DYN' ||
	sp_fail "smartproxy-server is not position-independent: $(readelf -h "$srv" | grep Type:)"
readelf -d "$srv" | grep -E 'FLAGS_1' | grep -qw PIE ||
	sp_fail "smartproxy-server has no PIE flag in FLAGS_1 (a shared object, not an executable?)"
for f in "$srv" "$mod"; do
	readelf -lW "$f" | grep -qw GNU_RELRO || sp_fail "${f##*/}: no GNU_RELRO segment (-z relro)"
	readelf -d "$f" | grep -qE 'BIND_NOW|FLAGS_1.*NOW' || sp_fail "${f##*/}: no BIND_NOW (-z now)"
done
readelf --dyn-syms -W "$srv" | grep -q '__stack_chk_fail' ||
	sp_fail "smartproxy-server does not call __stack_chk_fail (-fstack-protector-strong)"
case " $harden_cflags " in
*" -D_FORTIFY_SOURCE=2 "*)
	readelf --dyn-syms -W "$srv" | grep -qE '__[a-z]+_chk(@|[[:space:]]|$)' ||
		sp_fail "smartproxy-server calls no __*_chk function (-D_FORTIFY_SOURCE=2)"
	sp_log "fortify: $(readelf --dyn-syms -W "$srv" | grep -oE '__[a-z]+_chk(@|[[:space:]]|$)' | tr -d '@ ' | sort -u | tr '\n' ' ')" ;;
*)
	sp_log "no -D_FORTIFY_SOURCE=2 in this build (sanitizers, or given by the user): not checked" ;;
esac
sp_log "PASS: smartproxy-server is PIE with full RELRO and the stack protector; oftp2.so has full RELRO"
