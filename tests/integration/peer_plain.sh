#!/bin/bash
# peer_plain.sh - two oftp2-peer processes exchange files over plain TCP,
# both directions in one session: U, T and F files, a 0-byte file, with and
# without buffer compression, buffer sizes 128 and 99999, credit 1 and 999,
# EERP both ways, and a virtual file name that must not escape --dir.
. "${SP_TOP_SRCDIR:?}/tests/integration/lib.sh"
sp_require_prog "$OFTP2_PEER"
sp_init 100

A_ID=O0013000000ALPHA
B_ID=O0013000000BRAVO

# One session: $1 = case name, then "--" separated: listener options, sender options.
# Files to send are taken from $SP_TMP/$case/out-{l,s}/, received into in-{l,s}/.
run_case() {
	local c=$1 port lrc src rc
	shift
	local -a lopts=() sopts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do lopts+=("$1"); shift; done
	shift
	sopts=("$@")
	mkdir -p "$SP_TMP/$c/in-l" "$SP_TMP/$c/in-s"
	sp_start "$c-listen" "$OFTP2_PEER" listen -v --listen 127.0.0.1:0 \
		--port-file "$SP_TMP/$c/port" --once --timeout $(sp_time 20) \
		--id "$B_ID" --password BPASS --partner "$A_ID:APASS" \
		--dir "$SP_TMP/$c/in-l" "${lopts[@]}"
	local lpid=$SP_LAST_PID
	port=$(sp_wait_port_file "$SP_TMP/$c/port")
	sp_run "$OFTP2_PEER" send -v --connect "127.0.0.1:$port" --timeout $(sp_time 20) \
		--id "$A_ID" --password APASS --partner "$B_ID:BPASS" \
		--dir "$SP_TMP/$c/in-s" "${sopts[@]}" 2>"$SP_TMP/$c-send.log"
	rc=$?
	sp_wait "$lpid" 30
	lrc=$?
	if [ "$rc" -ne 0 ] || [ "$lrc" -ne 0 ]; then
		sp_dump_logs
		sp_fail "$c: send exit $rc, listen exit $lrc"
	fi
}

# Case 1: defaults (buffer 4096, credit 64), no compression; U + 0-byte + T
# from the initiator, U + T back from the responder; EERP both ways.
c=$SP_TMP/basic
mkdir -p "$c"
sp_make_file "$c/u.bin" 300000
: >"$c/empty.bin"
sp_make_file "$c/text.txt" 50000 runs
sp_make_file "$c/back.bin" 100000
sp_make_file "$c/back.txt" 7777 runs
run_case basic --eerp --wait-eerp --send "$c/back.bin" --send "$c/back.txt" --format T -- \
	--eerp --wait-eerp --send "$c/u.bin" --send "$c/empty.bin" --send "$c/text.txt" --format U
sp_cmp "$c/u.bin" "$c/in-l/U.BIN"
sp_cmp "$c/empty.bin" "$c/in-l/EMPTY.BIN"
sp_cmp "$c/text.txt" "$c/in-l/TEXT.TXT"
sp_cmp "$c/back.bin" "$c/in-s/BACK.BIN"
sp_cmp "$c/back.txt" "$c/in-s/BACK.TXT"
# The trace shows both turns, credit windows and the orderly end.
sp_grep '> CD' "$SP_TMP/basic-send.log"
sp_grep '< CD' "$SP_TMP/basic-send.log"
sp_grep 'EERP dsn=.U.BIN' "$SP_TMP/basic-send.log"
sp_grep 'ESID reason=00' "$SP_TMP/basic-send.log"

# Case 2: compression, buffer 128, credit 1, T files both ways.
c=$SP_TMP/small
mkdir -p "$c"
sp_make_file "$c/runs.txt" 200000 runs
sp_make_file "$c/rand.bin" 30000
sp_make_file "$c/back.txt" 90000 runs
run_case small --compress --credit 1 --buffer-size 128 --send "$c/back.txt" --format T -- \
	--compress --credit 1 --buffer-size 128 --format T --send "$c/runs.txt" --send "$c/rand.bin"
sp_cmp "$c/runs.txt" "$c/in-l/RUNS.TXT"
sp_cmp "$c/rand.bin" "$c/in-l/RAND.BIN"
sp_cmp "$c/back.txt" "$c/in-s/BACK.TXT"
sp_grep 'compression Y' "$SP_TMP/small-send.log"
sp_grep 'buffer 128, credit 1' "$SP_TMP/small-send.log"
# With credit 1 every DATA buffer but the first needs its own CDT.
sp_grep "RUNS.TXT.*DATA buffers, [1-9][0-9]* CDT, accepted" "$SP_TMP/small-send.log"

# Case 3: buffer 99999, credit 999, compression offered by one side only
# (so not used), F format with 80-octet records, odd virtual file names.
c=$SP_TMP/big
mkdir -p "$c"
sp_make_file "$c/fixed.dat" 800000 runs
sp_make_file "$c/evil" 800
sp_make_file "$c/dot" 80
run_case big --credit 999 --buffer-size 99999 -- \
	--compress --credit 999 --buffer-size 99999 --format F --record-length 80 \
	--send "$c/fixed.dat" --send "$c/evil" --as "../../ETC/PASSWD" --send "$c/dot" --as ".PROFILE"
sp_cmp "$c/fixed.dat" "$c/in-l/FIXED.DAT"
sp_grep 'compression N' "$SP_TMP/big-send.log"
sp_grep 'buffer 99999, credit 999' "$SP_TMP/big-send.log"
sp_grep 'EFID rcnt=10000 ucnt=800000' "$SP_TMP/big-send.log"
# Stored inside --dir only, under sanitised names.
sp_cmp "$c/evil" "$c/in-l/_._.._ETC_PASSWD"
sp_cmp "$c/dot" "$c/in-l/_PROFILE"
[ "$(find "$SP_TMP" -name PASSWD -o -name .PROFILE | wc -l)" -eq 0 ] ||
	sp_fail "a virtual file name escaped --dir"

# Case 4: the responder asks for the turn after every file (EFPA CD=Y), so the
# initiator must send CD after each file and the turn goes back and forth.
c=$SP_TMP/askcd
mkdir -p "$c"
sp_make_file "$c/one.bin" 5000
sp_make_file "$c/two.bin" 6000
sp_make_file "$c/back.bin" 7000
run_case askcd --efpa-cd --send "$c/back.bin" -- --send "$c/one.bin" --send "$c/two.bin"
sp_cmp "$c/one.bin" "$c/in-l/ONE.BIN"
sp_cmp "$c/two.bin" "$c/in-l/TWO.BIN"
sp_cmp "$c/back.bin" "$c/in-s/BACK.BIN"
[ "$(grep -c '> CD' "$SP_TMP/askcd-send.log")" -ge 2 ] ||
	sp_fail "askcd: the initiator did not hand the turn over after each file"
sp_grep '< EFPA cd=Y' "$SP_TMP/askcd-send.log"
exit 0
