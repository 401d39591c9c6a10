#!/bin/bash
# peer_tls.sh - oftp2-peer over TLS: files both ways with a verified server
# certificate and a required client certificate (U and T, with and without
# compression), then the TLS refusals: client without certificate, client
# certificate from an unknown CA, server name mismatch, untrusted server.
. "${SP_TOP_SRCDIR:?}/tests/integration/lib.sh"
sp_require_prog "$OFTP2_PEER"
sp_init 100

A_ID=O0013000000ALPHA
B_ID=O0013000000BRAVO
pki=$SP_TMP/pki
make_certs "$pki"

# start_listener NAME [options]: TLS responder requiring a client certificate.
start_listener() {
	local n=$1
	shift
	mkdir -p "$SP_TMP/$n/in-l" "$SP_TMP/$n/in-s"
	sp_start "$n-listen" "$OFTP2_PEER" listen -v --listen 127.0.0.1:0 \
		--port-file "$SP_TMP/$n/port" --once --timeout $(sp_time 20) \
		--cert "$pki/server.pem" --key "$pki/server.key" --ca "$pki/ca.pem" \
		--require-client-cert \
		--id "$B_ID" --password BPASS --partner "$A_ID:APASS" \
		--dir "$SP_TMP/$n/in-l" "$@"
	LPID=$SP_LAST_PID
	PORT=$(sp_wait_port_file "$SP_TMP/$n/port")
}

# send_to NAME [options]: TLS initiator; exit status in RC.
send_to() {
	local n=$1
	shift
	sp_run "$OFTP2_PEER" send -v --connect "127.0.0.1:$PORT" --timeout $(sp_time 20) \
		--id "$A_ID" --password APASS --partner "$B_ID:BPASS" \
		--dir "$SP_TMP/$n/in-s" "$@" 2>"$SP_TMP/$n-send.log"
	RC=$?
}

# 1. Both directions, no compression, U out and T back.
n=both
start_listener $n --send "$SP_TMP/back.txt" --format T --eerp
sp_make_file "$SP_TMP/out.bin" 400000
sp_make_file "$SP_TMP/back.txt" 120000 runs
send_to $n --ca "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client.key" \
	--send "$SP_TMP/out.bin" --wait-eerp
sp_wait "$LPID" 30 || { sp_dump_logs; sp_fail "$n: listener failed"; }
[ "$RC" -eq 0 ] || { sp_dump_logs; sp_fail "$n: sender exit $RC"; }
sp_cmp "$SP_TMP/out.bin" "$SP_TMP/$n/in-l/OUT.BIN"
sp_cmp "$SP_TMP/back.txt" "$SP_TMP/$n/in-s/BACK.TXT"
sp_grep 'TLS established: (TLS1\.[23])' "$SP_TMP/$n-send.log"
sp_grep 'TLS established' "$SP_TMP/$n-listen.log"

# 2. Both directions with compression, T out and U back, via "localhost".
n=comp
sp_make_file "$SP_TMP/out.txt" 300000 runs
sp_make_file "$SP_TMP/back.bin" 5000
start_listener $n --compress --send "$SP_TMP/back.bin"
send_to $n --ca "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client.key" \
	--compress --format T --send "$SP_TMP/out.txt" --servername localhost
sp_wait "$LPID" 30 || { sp_dump_logs; sp_fail "$n: listener failed"; }
[ "$RC" -eq 0 ] || { sp_dump_logs; sp_fail "$n: sender exit $RC"; }
sp_cmp "$SP_TMP/out.txt" "$SP_TMP/$n/in-l/OUT.TXT"
sp_cmp "$SP_TMP/back.bin" "$SP_TMP/$n/in-s/BACK.BIN"
sp_grep 'compression Y' "$SP_TMP/$n-send.log"

# expect_refused NAME PATTERN [send options]: the sender must fail, saying PATTERN.
expect_refused() {
	local n=$1 pat=$2
	shift 2
	start_listener "$n"
	send_to "$n" --send "$SP_TMP/out.bin" "$@"
	sp_wait "$LPID" 30 && sp_fail "$n: listener reported success"
	[ "$RC" -ne 0 ] || sp_fail "$n: sender reported success"
	sp_grep "$pat" "$SP_TMP/$n-send.log"
	[ ! -e "$SP_TMP/$n/in-l/OUT.BIN" ] || sp_fail "$n: file arrived anyway"
}

# 3. No client certificate while one is required.
expect_refused nocert 'TLS' --ca "$pki/ca.pem"
# 4. Client certificate from a CA the responder does not trust.
expect_refused rogue 'TLS' --ca "$pki/ca.pem" --cert "$pki/rogue-client.pem" \
	--key "$pki/rogue-client.key"
sp_grep 'TLS' "$SP_TMP/rogue-listen.log"
# 5. Server certificate not valid for the name asked for.
expect_refused badname 'TLS handshake failed: .*name' --ca "$pki/ca.pem" \
	--cert "$pki/client.pem" --key "$pki/client.key" --servername other.example
# 6. Server certificate from a CA the initiator does not trust.
expect_refused untrusted 'TLS handshake failed' --ca "$pki/rogue-ca.pem" \
	--cert "$pki/client.pem" --key "$pki/client.key"
exit 0
