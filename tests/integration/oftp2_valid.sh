#!/usr/bin/env bash
# oftp2_valid.sh - valid OFTP2 crosses the proxy with the oftp2 module
# unchanged: oftp2-peer sends through the partner TLS port to an oftp2-peer
# inside, files both ways (EERP, EFPA with CD), with and without compression,
# buffer sizes 128 and 99999, credit 1 and 999; every file byte for byte, one
# INFO line per file in the server log, every session ended normally.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/oftp2_lib.sh"
sp_init 240

o2_chain_up '{"ssid_timeout_ms": 10000}'
sp_make_file "$SP_TMP/out.bin" 150000
sp_make_file "$SP_TMP/out.txt" 120000 runs
sp_make_file "$SP_TMP/back.bin" 90000
sp_make_file "$SP_TMP/back.txt" 70000 runs

# transfer NAME "inside options" "partner options" OUTFILE BACKFILE
transfer() {
	local n=$1 iopts=$2 popts=$3 out=$4 back=$5 ob bb
	# shellcheck disable=SC2086
	o2_inside "$n" $iopts --send "$back"
	# shellcheck disable=SC2086
	o2_send "$n" $popts --send "$out"
	sp_wait "$INSIDE_PID" 60 || { sp_dump_logs; sp_fail "$n: inside server failed"; }
	[ "$RC" -eq 0 ] || { sp_dump_logs; cat "$SP_TMP/$n-send.log" >&2; sp_fail "$n: sender exit $RC"; }
	ob=$(basename "$out" | tr '[:lower:]' '[:upper:]')
	bb=$(basename "$back" | tr '[:lower:]' '[:upper:]')
	sp_cmp "$out" "$SP_TMP/$n/in-inside/$ob"
	sp_cmp "$back" "$SP_TMP/$n/in-partner/$bb"
	chain_wait_log server "file '$ob' partner -> inside, format .*: EFPA"
	chain_wait_log server "file '$bb' inside -> partner, format .*: EFPA"
	sp_log "$n: both files intact"
}

# buffer 128, credit 1, no compression; EERPs both ways
transfer small "--buffer-size 128 --credit 1 --eerp" \
	"--buffer-size 128 --credit 1 --eerp --wait-eerp" "$SP_TMP/out.bin" "$SP_TMP/back.txt"
chain_wait_log server "session parameters: buffer 128, credit 1, compression N"
# buffer 99999, credit 999, compression, T out, the inside asks for the turn
transfer big "--buffer-size 99999 --credit 999 --compress --efpa-cd" \
	"--buffer-size 99999 --credit 999 --compress --format T" "$SP_TMP/out.txt" "$SP_TMP/back.bin"
chain_wait_log server "session parameters: buffer 99999, credit 999, compression Y"
# buffer 128 with compression and credit 999; buffer 99999 with credit 1
transfer mixed1 "--buffer-size 128 --credit 999 --compress" \
	"--buffer-size 128 --credit 999 --compress --format T" "$SP_TMP/out.txt" "$SP_TMP/back.txt"
transfer mixed2 "--buffer-size 99999 --credit 1" \
	"--buffer-size 99999 --credit 1 --efpa-cd" "$SP_TMP/out.bin" "$SP_TMP/back.bin"

# Four sessions, every one ended by ESID 00, no violation logged.
[ "$(grep -c 'ended: normal' "$SP_TMP/server.log")" -eq 4 ] ||
	{ grep 'ended:' "$SP_TMP/server.log" >&2; sp_fail "not every session ended normally"; }
grep -q 'oftp2_violation' "$SP_TMP/server.log" && sp_fail "violation logged for valid OFTP2"
grep -q 'PARTPW\|INPW' "$SP_TMP/server.log" && sp_fail "a password reached the log"
chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
exit 0
