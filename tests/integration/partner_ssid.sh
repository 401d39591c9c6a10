#!/usr/bin/env bash
# partner_ssid.sh - the partner module's SSID decisions through the running
# chain with the OFTP2 module in front of it (modules: oftp2, partner) and
# oftp2-peer on both sides: a valid partner's file arrives; an unknown code,
# a wrong password, the right password from an address its partner does not
# allow, a missing and a wrong client certificate, a disabled partner and a
# partner over its session limit are each refused with the specified ESID and
# security line, and the inside oftp2-peer sees none of them. Then a burst of
# 200 bad-password attempts from one address is braked while a valid
# partner's transfer runs beside it (its duration is reported, not asserted).
# Finally the fail2ban filter must match exactly the refused attempts.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/partner_lib.sh"
sp_init 300

partner_init oftp2 partner
PKI=$SP_TMP/pki
PARTNER_PORT=$(chain_free_port)
INSIDE_ID=O0013000000INSIDE
PARTNER_BRAKE='{"max_failures": 10, "window_ms": 60000, "block_ms": 300000}' \
partner_config "$PARTNER_PORT" \
	"ACME ACMEPW 127.0.0.1/32" \
	"FARAWAY FARPW 127.0.0.2/32" \
	"PINNED PINPW 127.0.0.1/32 pin=$PKI/client.pem" \
	"DISABLED OFFPW 127.0.0.1/32 enabled=false" \
	"LIMITED ONEPW 127.0.0.1/32 max=1" \
	"GUESSED GPW 127.0.0.9/32"
chain_fake_backend
mkdir -p "$SP_TMP/inbox"
# The inside OFTP2 server knows every partner, so any refusal is the proxy's.
sp_start inside "$OFTP2_PEER" listen -v --listen "127.0.0.1:$INSIDE_PORT" --timeout $(sp_time 60) \
	--id "$INSIDE_ID" --password INSIDEPW --dir "$SP_TMP/inbox" \
	--partner ACME:ACMEPW --partner FARAWAY:FARPW --partner PINNED:PINPW \
	--partner DISABLED:OFFPW --partner LIMITED:ONEPW --partner GUESSED:GPW --partner NOBODY:NOPW
chain_wait_log inside "listening on" 10
chain_start_server
chain_start_client
chain_wait_log server "revision 1 applied"
sp_make_file "$SP_TMP/FILE1" 65536

inside_sessions() { grep -c "SSID level=.* code='" "$SP_TMP/inside.log"; }

# send NAME ID PASSWORD [oftp2-peer options]: one session to the partner port.
send() {
	local name=$1 id=$2 pw=$3
	shift 3
	sp_run "$OFTP2_PEER" send -v --connect "127.0.0.1:$PARTNER_PORT" --ca "$PKI/ca.pem" \
		--timeout $(sp_time 30) --id "$id" --password "$pw" --partner "$INSIDE_ID:INSIDEPW" \
		"$@" 2>"$SP_TMP/$name.log"
}

# refused NAME ID PASSWORD ESID EVENT [options]: the partner gets ESID, the
# server logs EVENT from 127.0.0.1, the inside saw nothing.
refused() {
	local name=$1 id=$2 pw=$3 esid=$4 event=$5 before
	shift 5
	before=$(inside_sessions)
	send "$name" "$id" "$pw" --send "$SP_TMP/FILE1" "$@" &&
		{ sp_dump_logs; sp_fail "$name: the session succeeded"; }
	grep -q "ESID reason=$esid" "$SP_TMP/$name.log" ||
		{ sed 's/^/  | /' "$SP_TMP/$name.log" >&2; sp_fail "$name: no ESID $esid"; }
	chain_wait_log server "WARN security \[h_security\] $event from 127.0.0.1: .*ESID $esid"
	[ "$(inside_sessions)" -eq "$before" ] || sp_fail "$name: the inside saw the session"
	sp_log "$name: ESID $esid, $event"
}

# The valid partner first: the file arrives, the fact names the partner.
send valid ACME ACMEPW --send "$SP_TMP/FILE1" || { sp_dump_logs; sp_fail "valid partner refused"; }
sp_cmp "$SP_TMP/FILE1" "$SP_TMP/inbox/FILE1"
chain_wait_log server "partner ACME accepted"
rm -f "$SP_TMP/inbox/FILE1"

refused unknown NOBODY NOPW 03 unknown_partner
refused password ACME WRONGPW 04 bad_password
refused address FARAWAY FARPW 03 address_not_allowed
refused nocert PINNED PINPW 03 certificate_refused
refused roguecert PINNED PINPW 03 certificate_refused --cert "$PKI/rogue-client.pem" --key "$PKI/rogue-client.key"
refused disabled DISABLED OFFPW 03 partner_disabled
# The right certificate passes.
send pinned PINNED PINPW --send "$SP_TMP/FILE1" --cert "$PKI/client.pem" --key "$PKI/client.key" ||
	{ sp_dump_logs; sp_fail "pinned partner refused"; }
rm -f "$SP_TMP/inbox/FILE1"

# Over the limit: LIMITED holds a session open (a slow 8 MiB transfer at credit 1),
# a second session of LIMITED gets ESID 08.
sp_make_file "$SP_TMP/BIG" $((8 * 1024 * 1024))
sp_start holder "$OFTP2_PEER" send -v --connect "127.0.0.1:$PARTNER_PORT" --ca "$PKI/ca.pem" \
	--timeout $(sp_time 60) --id LIMITED --password ONEPW --partner "$INSIDE_ID:INSIDEPW" \
	--credit 1 --buffer-size 128 --send "$SP_TMP/BIG"
HOLDER_PID=$SP_LAST_PID
chain_wait_log server "partner LIMITED accepted"
# The holder's own SSID reaches the inside a moment later: wait for it, or
# refused() would count it against the session it refuses.
chain_wait_log inside "SSID level=.* code='LIMITED'"
refused limit LIMITED ONEPW 08 session_limit
kill "$HOLDER_PID" 2>/dev/null
sp_wait "$HOLDER_PID" 20 || true

# A brute force from 127.0.0.9 beside a valid transfer from 127.0.0.1.
sp_make_file "$SP_TMP/FILE2" $((4 * 1024 * 1024))
start=$(date +%s.%N)
sp_start valid2 "$OFTP2_PEER" send --connect "127.0.0.1:$PARTNER_PORT" --ca "$PKI/ca.pem" \
	--timeout $(sp_time 120) --id ACME --password ACMEPW --partner "$INSIDE_ID:INSIDEPW" --send "$SP_TMP/FILE2"
VALID_PID=$SP_LAST_PID
cat >"$SP_TMP/burst.py" <<-'PY'
	# 200 SSIDs with wrong passwords from 127.0.0.9, 8 at a time.
	import socket, ssl, struct, sys, concurrent.futures
	port = int(sys.argv[1])
	ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
	ctx.check_hostname = False
	ctx.verify_mode = ssl.CERT_NONE
	def frame(oeb):
	    n = len(oeb) + 4
	    return bytes([0x10, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]) + oeb
	def ssid(i):
	    return (b"X5" + b"GUESSED".ljust(25) + ("G%07d" % i).encode() + b"04096" +
	            b"BNNN064N" + b"    " + b" " * 8 + b"\r")
	def attempt(i):
	    try:
	        s = socket.socket()
	        s.bind(("127.0.0.9", 0))
	        s.settimeout(20 * int(__import__("os").environ["SP_TIME_FACTOR"]))
	        s.connect(("127.0.0.1", port))
	        t = ctx.wrap_socket(s)
	        t.recv(4096)                      # SSRM
	        t.sendall(frame(ssid(i)))
	        data = b""
	        while True:
	            d = t.recv(4096)
	            if not d:
	                break
	            data += d
	        return "esid04" if b"F04" in data else "closed"
	    except (OSError, ssl.SSLError):
	        return "refused"
	with concurrent.futures.ThreadPoolExecutor(8) as ex:
	    res = list(ex.map(attempt, range(200)))
	print("esid04=%d refused=%d closed=%d" % (res.count("esid04"), res.count("refused"),
	      res.count("closed")))
	PY
sp_run python3 "$SP_TMP/burst.py" "$PARTNER_PORT" >"$SP_TMP/burst.out" || sp_fail "burst failed"
sp_wait "$VALID_PID" 120 || { sp_dump_logs; sp_fail "the valid transfer beside the burst failed"; }
end=$(date +%s.%N)
sp_cmp "$SP_TMP/FILE2" "$SP_TMP/inbox/FILE2"
read -r burst <"$SP_TMP/burst.out"
n04=$(grep -c "bad_password from 127.0.0.9" "$SP_TMP/server.log")
nbrake=$(grep -c "rate_limited from 127.0.0.9: address blocked for another" "$SP_TMP/server.log")
sp_log "burst of 200 from 127.0.0.9: $burst; bad_password lines $n04, refused at accept $nbrake"
sp_log "valid 4 MiB transfer beside the burst took $(awk "BEGIN { printf \"%.2f\", $end - $start }") s"
# The brake engaged: at most a few PBKDF2 per window got through.
[ "$nbrake" -gt 0 ] || sp_fail "the burst was not braked"
[ "$n04" -lt 30 ] || sp_fail "$n04 password checks for one address: the brake did not hold"
grep -q "rate_limited from 127.0.0.9: 10 failures within 60 s: address blocked for 300 s" \
	"$SP_TMP/server.log" || sp_fail "no line for the start of the block"

chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
partner_fail2ban "$SP_TMP/server.log"
exit 0
