#!/bin/bash
# man_pages.sh - the manual pages as a user gets them: `make install` into a
# DESTDIR, then every page renders without a single warning (groff -ww, all of
# them, and man --warnings), every option a program's --help lists appears in
# its page, and every program answers --version (with the package version)
# and --help with exit status 0.
. "${SP_TOP_SRCDIR:?}/tests/integration/lib.sh"
sp_need groff groff-base
sp_need man man-db
sp_init 300

stage=$SP_TMP/stage
# The tree's real install rules. The parent make's flags (-n, -k, jobserver)
# are not ours.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -s -C "$SP_TOP_BUILDDIR" DESTDIR="$stage" install \
	>"$SP_TMP/install.log" 2>&1 || { cat "$SP_TMP/install.log" >&2; sp_hard_error "make install into $stage failed"; }

version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$SP_TOP_BUILDDIR/config.h")
[ -n "$version" ] || sp_hard_error "no PACKAGE_VERSION in config.h"

# page PROGRAM-OR-EMPTY: each page, with the program it documents.
pages="smartproxy-server.8:smartproxy-server smartproxy-client.8:smartproxy-client
	smartproxy-api.8:smartproxy-api smartproxyctl.1:smartproxyctl oftp2-peer.1:oftp2-peer
	smartproxy-server.yaml.5: smartproxy-client.yaml.5: smartproxy-api.yaml.5:
	smartproxy-site.yaml.5:"

# Options in a help text: -x or --long-name after a space, bracket, bar,
# comma or at the start of a line.
options_of() {
	grep -oE -- '(^|[][ ,|(])--?[A-Za-z][A-Za-z0-9-]*' | sed 's/^[][ ,|(]//' | sort -u
}

export LC_ALL=C MANWIDTH=80
checked=0
for entry in $pages; do
	page=${entry%%:*}
	prog=${entry#*:}
	file=$(find "$stage" -path "*/man/man${page##*.}/$page" -type f | head -n 1)
	[ -n "$file" ] || sp_fail "$page was not installed (expected under share/man/man${page##*.})"

	warn=$(groff -man -ww -z "$file" 2>&1)
	[ -z "$warn" ] || sp_fail "groff -man -ww warns about $page: $warn"
	warn=$(man --warnings -l "$file" 2>&1 >/dev/null)
	[ -z "$warn" ] || sp_fail "man --warnings warns about $page: $warn"
	grep -q "smartproxy $version" "$file" || sp_fail "$page does not name version $version"
	grep -q '@[A-Za-z_]*@' "$file" && sp_fail "$page keeps a placeholder: $(grep -o '@[A-Za-z_]*@' "$file" | head -n 1)"

	# Wide lines, no hyphenation: an option is never split in the text.
	groff -man -Tascii -P-c -P-b -P-u -rLL=250n -rHY=0 "$file" >"$SP_TMP/$page.txt" 2>&1 ||
		sp_fail "groff cannot render $page"
	for sec in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
		grep -q "^$sec" "$SP_TMP/$page.txt" || sp_fail "$page has no $sec section"
	done
	[ -n "$prog" ] || { checked=$((checked + 1)); continue; }
	for sec in OPTIONS "EXIT STATUS" EXAMPLES; do
		grep -q "^$sec" "$SP_TMP/$page.txt" || sp_fail "$page has no $sec section"
	done

	bin=$(find "$stage" -path "*bin/$prog" -type f | head -n 1)
	[ -n "$bin" ] || sp_fail "$prog was not installed"
	out=$("$bin" --version 2>&1) || sp_fail "$prog --version exits $? ($out)"
	[ "$out" = "$prog $version" ] || sp_fail "$prog --version prints '$out', not '$prog $version'"
	"$bin" --help >"$SP_TMP/$prog.help" 2>"$SP_TMP/$prog.help.err" ||
		sp_fail "$prog --help exits $?: $(cat "$SP_TMP/$prog.help.err")"
	[ -s "$SP_TMP/$prog.help" ] || sp_fail "$prog --help prints nothing on stdout"
	opts=$(options_of <"$SP_TMP/$prog.help")
	case $opts in *--version*) ;; *) sp_fail "$prog --help does not list --version" ;; esac
	case $opts in *--help*) ;; *) sp_fail "$prog --help does not list --help" ;; esac
	for opt in $opts; do
		grep -qE -- "(^|[^A-Za-z0-9-])$opt([^A-Za-z0-9-]|\$)" "$SP_TMP/$page.txt" ||
			sp_fail "$prog --help lists $opt, its page $page does not"
	done
	sp_log "$page: renders clean, $(echo $opts | wc -w) options of --help documented"
	checked=$((checked + 1))
done
[ "$checked" -eq 9 ] || sp_fail "checked $checked pages, expected 9"
sp_log "PASS: 9 pages installed and clean; every program answers --version and --help"
