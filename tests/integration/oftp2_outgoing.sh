#!/usr/bin/env bash
# oftp2_outgoing.sh - an outgoing session through the oftp2 module: the inside
# OFTP2 server (oftp2-peer send) calls the route, the server dials the partner
# (oftp2-peer listen, TLS). The module greets the inside with its own SSRM,
# swallows the partner's, holds the inside's SSID until the partner's SSRM is
# in; files both ways arrive byte for byte. Then a partner that breaks the
# protocol (a python responder answering with SSID level 4): the inside gets
# ESID 10 and the partner's SSID never reaches it.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/oftp2_lib.sh"
sp_init 120

O2_ROUTE=1 o2_chain_up '{}'
sp_make_file "$SP_TMP/ORDERS.OUT" 200000
sp_make_file "$SP_TMP/reply.txt" 50000 runs
mkdir -p "$SP_TMP/partner-in" "$SP_TMP/inside-in"

# 1. Valid: files both ways, compression, EERP.
sp_start partner "$OFTP2_PEER" listen -v --listen "127.0.0.1:$OUT_PORT" --once --timeout $(sp_time 20) \
	--cert "$SP_TMP/pki/server.pem" --key "$SP_TMP/pki/server.key" \
	--id "$O2_PARTNER_ID" --password PARTPW --partner "$O2_INSIDE_ID:INPW" \
	--dir "$SP_TMP/partner-in" --send "$SP_TMP/reply.txt" --compress --eerp
PARTNER_PID=$SP_LAST_PID
chain_wait_log partner "listening on"
sp_run "$OFTP2_PEER" send -v --connect "127.0.0.1:$ROUTE_PORT" --timeout $(sp_time 20) \
	--id "$O2_INSIDE_ID" --password INPW --partner "$O2_PARTNER_ID:PARTPW" \
	--dir "$SP_TMP/inside-in" --send "$SP_TMP/ORDERS.OUT" --compress --wait-eerp \
	2>"$SP_TMP/inside-call.log" ||
	{ sp_dump_logs; cat "$SP_TMP/inside-call.log" >&2; sp_fail "outgoing call failed"; }
sp_wait "$PARTNER_PID" 20 || { sp_dump_logs; sp_fail "partner failed"; }
sp_cmp "$SP_TMP/ORDERS.OUT" "$SP_TMP/partner-in/ORDERS.OUT"
sp_cmp "$SP_TMP/reply.txt" "$SP_TMP/inside-in/REPLY.TXT"
chain_wait_log server "proxy -> inside: SSRM"
chain_wait_log server "partner -> SSRM"
chain_wait_log server "file 'ORDERS.OUT' inside -> partner, format U, 200000 octets .*: EFPA"
chain_wait_log server "file 'REPLY.TXT' partner -> inside, .*: EFPA"
chain_wait_log server "end-to-end response 'ORDERS.OUT' partner -> inside: EERP"
chain_wait_log server "session 1 ended: normal"

# 2. A partner answering with an OFTP 1.4 SSID.
python3 - "$OUT_PORT" "$SP_TMP/pki/server.pem" "$SP_TMP/pki/server.key" \
	>"$SP_TMP/bad-partner.log" 2>&1 <<-'PY' &
	import socket, ssl, sys
	port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
	ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
	ctx.load_cert_chain(cert, key)
	ls = socket.socket()
	ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	ls.bind(("127.0.0.1", port))
	ls.listen(1)
	print("listening", flush=True)
	c, _ = ls.accept()
	s = ctx.wrap_socket(c, server_side=True)
	s.settimeout(15 * int(__import__("os").environ["SP_TIME_FACTOR"]))
	def frame(oeb):
	    return bytes([0x10]) + (len(oeb) + 4).to_bytes(3, "big") + oeb
	s.sendall(frame(b"IODETTE FTP READY \r"))
	got = b""
	while len(got) < 65:
	    part = s.recv(4096)
	    if not part:
	        break
	    got += part
	print("got SSID" if got[4:5] == b"X" else "no SSID", flush=True)
	s.sendall(frame(b"X4" + b"O0013000000ACME".ljust(25) + b"PARTPW  04096BNNN064N" + b" " * 12 + b"\r"))
	rest = b""
	try:
	    while True:
	        part = s.recv(4096)
	        if not part:
	            break
	        rest += part
	except (OSError, ssl.SSLError):
	    pass
	print("ESID %s" % rest[4:7].decode(errors="replace"), flush=True)
	PY
BADP=$!
SP_PIDS="$SP_PIDS $BADP"
chain_wait_log bad-partner listening
"$OFTP2_PEER" send -v --connect "127.0.0.1:$ROUTE_PORT" --timeout $(sp_time 10) \
	--id "$O2_INSIDE_ID" --password INPW --partner "$O2_PARTNER_ID:PARTPW" \
	--dir "$SP_TMP/inside-in" --send "$SP_TMP/ORDERS.OUT" 2>"$SP_TMP/inside-bad.log" &&
	sp_fail "the inside's call succeeded against a level-4 partner"
sp_wait "$BADP" 20
sp_grep "got SSID" "$SP_TMP/bad-partner.log"
sp_grep "ESID F10" "$SP_TMP/bad-partner.log"
sp_grep "ESID 10" "$SP_TMP/inside-bad.log"
grep -q "X4O0013" "$SP_TMP/inside-bad.log" && sp_fail "the partner's bad SSID reached the inside"
chain_wait_log server "SSID SSIDLEV from the partner in state WAIT_SSID_R"
chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
exit 0
