#!/bin/bash
# peer_large.sh - a large file in each direction over plain TCP, streamed (the
# peer never holds a whole file in memory): SP_PEER_LARGE_MIB (default 100 MiB;
# it takes about 2 s under ASan) with buffer 99999 and credit 999.
. "${SP_TOP_SRCDIR:?}/tests/integration/lib.sh"
sp_require_prog "$OFTP2_PEER"
sp_init 100

A_ID=O0013000000ALPHA
B_ID=O0013000000BRAVO
mib=${SP_PEER_LARGE_MIB:-100}
sp_make_file "$SP_TMP/large.bin" $((mib * 1024 * 1024))
sp_make_file "$SP_TMP/back.bin" $((mib * 1024 * 1024 / 4))
mkdir -p "$SP_TMP/in-l" "$SP_TMP/in-s"
# Peak memory, where GNU time is installed: a peer that read the file whole
# would need more than its size.
ltime=() stime=()
if [ -x /usr/bin/time ]; then
	ltime=(/usr/bin/time -o "$SP_TMP/listen.rss" -f %M)
	stime=(/usr/bin/time -o "$SP_TMP/send.rss" -f %M)
fi

sp_start listen "${ltime[@]}" "$OFTP2_PEER" listen -v --listen 127.0.0.1:0 --port-file "$SP_TMP/port" \
	--once --timeout $(sp_time 30) --id "$B_ID" --password BPASS --partner "$A_ID:APASS" \
	--dir "$SP_TMP/in-l" --buffer-size 99999 --credit 999 --send "$SP_TMP/back.bin"
lpid=$SP_LAST_PID
port=$(sp_wait_port_file "$SP_TMP/port")
sp_run "${stime[@]}" "$OFTP2_PEER" send -v --connect "127.0.0.1:$port" --timeout $(sp_time 30) \
	--id "$A_ID" --password APASS --partner "$B_ID:BPASS" --dir "$SP_TMP/in-s" \
	--buffer-size 99999 --credit 999 --send "$SP_TMP/large.bin" 2>"$SP_TMP/send.log"
rc=$?
sp_wait "$lpid" 60
lrc=$?
[ "$rc" -eq 0 ] && [ "$lrc" -eq 0 ] || { sp_dump_logs; sp_fail "send exit $rc, listen exit $lrc"; }
sp_cmp "$SP_TMP/large.bin" "$SP_TMP/in-l/LARGE.BIN"
sp_cmp "$SP_TMP/back.bin" "$SP_TMP/in-s/BACK.BIN"
sp_grep "ucnt=$((mib * 1024 * 1024))" "$SP_TMP/send.log"
# (Only meaningful when the file is well above the ~12 MiB an ASan build
# needs anyway.)
for f in "$SP_TMP/listen.rss" "$SP_TMP/send.rss"; do
	[ "$mib" -ge 64 ] && [ -s "$f" ] || continue
	kib=$(tail -n 1 "$f")
	[ "$kib" -lt $((mib * 1024 * 3 / 4)) ] ||
		sp_fail "$(basename "$f" .rss) peaked at $kib KiB for a $mib MiB file: not streaming"
done
exit 0
