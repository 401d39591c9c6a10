#!/bin/bash
# module_out_of_tree.sh - a third party's view of the module ABI: install the
# header and smartproxy-module.pc (the tree's own install rules, into a
# DESTDIR), copy modules/example-connlimit somewhere else, build it with its
# own Makefile through pkg-config only, install it, then load the result with
# the real loader (tests/integration/module_drive) and show its limit works.
. "${SP_TOP_SRCDIR:?}/tests/integration/lib.sh"
DRIVE=$SP_TOP_BUILDDIR/tests/integration/module_drive
sp_require_prog "$DRIVE"
sp_need pkg-config pkg-config
sp_init 120

stage=$SP_TMP/stage
# Only what a module author needs, through the tree's real install targets.
# The parent make's flags (-n, -k, jobserver) are not ours.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -s -C "$SP_TOP_BUILDDIR" DESTDIR="$stage" \
	install-smartproxyincludeHEADERS install-pkgconfigDATA \
	>"$SP_TMP/install.log" 2>&1 || { sp_dump_logs; sp_hard_error "make install into $stage failed"; }

header=$(find "$stage" -path '*/include/smartproxy/module.h' | head -n 1)
pc=$(find "$stage" -name smartproxy-module.pc | head -n 1)
[ -n "$header" ] || sp_fail "smartproxy/module.h was not installed"
[ -n "$pc" ] || sp_fail "smartproxy-module.pc was not installed"
cmp -s "$header" "$SP_TOP_SRCDIR/include/smartproxy/module.h" ||
	sp_fail "installed module.h differs from the source"

# A staged install: the .pc names the final prefix, the sysroot maps it here.
export PKG_CONFIG_PATH=${pc%/*}
export PKG_CONFIG_SYSROOT_DIR=$stage
cflags=$(pkg-config --cflags smartproxy-module) || sp_fail "pkg-config does not know smartproxy-module"
case " $cflags " in
*" -I$stage"*) ;;
*) sp_fail "pkg-config --cflags gives '$cflags', not the staged include dir" ;;
esac
moduledir=$(pkg-config --variable=moduledir smartproxy-module)
case $moduledir in
*/smartproxy/modules) ;;
*) sp_fail "pkg-config --variable=moduledir gives '$moduledir'" ;;
esac

# The installed header and the example must stay clean under the tree's warnings.
STRICT="-Wall -Wextra -Wno-unused-parameter -Wformat=2 -Wmissing-prototypes
	-Wstrict-prototypes -Wshadow -Wpointer-arith -Wsign-compare -Wundef -Wvla -Werror"
STRICT=$(echo $STRICT)

# The copy a third party starts from: nothing of the tree is on its paths.
src=$SP_TMP/my-module
mkdir -p "$src"
cp "$SP_TOP_SRCDIR/modules/example-connlimit/connlimit.c" \
	"$SP_TOP_SRCDIR/modules/example-connlimit/Makefile" "$src/" ||
	sp_hard_error "cannot copy the example module"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -C "$src" CFLAGS="-O2 -g -std=gnu11 $STRICT" \
	>"$SP_TMP/build.log" 2>&1 || { sp_dump_logs; sp_fail "out-of-tree build failed"; }
[ -f "$src/connlimit.so" ] || sp_fail "no connlimit.so after the build"
grep -q -- "-I$stage" "$SP_TMP/build.log" || { sp_dump_logs; sp_fail "the build did not use pkg-config's include dir"; }
if grep -q -- "-I$SP_TOP_SRCDIR" "$SP_TMP/build.log"; then
	sp_dump_logs
	sp_fail "the build reached into the source tree"
fi

env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -C "$src" install DESTDIR="$SP_TMP/inst" MODULEDIR=/usr/lib/smartproxy/modules \
	>"$SP_TMP/module-install.log" 2>&1 || { sp_dump_logs; sp_fail "module make install failed"; }
installed=$SP_TMP/inst/usr/lib/smartproxy/modules/connlimit.so
[ -f "$installed" ] || sp_fail "make install did not put connlimit.so into its MODULEDIR"

# Load the installed copy with the real loader; drive it through the real
# chain engine (tests/unit/mod_drive.h).
sp_run "$DRIVE" "$installed" 3 >"$SP_TMP/drive.log" 2>&1 || { sp_dump_logs; sp_fail "module_drive failed"; }
sp_grep '^ok: 3 sessions per address, session 4 rejected' "$SP_TMP/drive.log"
sp_log "ok"
