#!/usr/bin/env bash
# partner_open.sh - the partner module's refusals before any OFTP2 byte,
# through the running chain (backend, smartproxy-client, smartproxy-server
# with partner.so only): an address no partner allows is closed before TLS; a
# client certificate no partner allowed from that address accepts is refused
# right after the handshake; repeated failed handshakes brake the address at
# accept; the right certificate passes. Each refusal leaves its security line,
# the inside sees no connection for any of them, and the fail2ban filter
# matches exactly the refused attempts.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/partner_lib.sh"
sp_init 180

PROBE=$SP_IT/partner_probe.py
partner_init partner
PKI=$SP_TMP/pki
PARTNER_PORT=$(chain_free_port)
PARTNER_BRAKE='{"max_failures": 3, "window_ms": 60000, "block_ms": 60000}' \
partner_config "$PARTNER_PORT" \
	"PINNED SECRET1 127.0.0.5/32 pin=$PKI/client.pem" \
	"O0013000000TEST SECRET1 127.0.0.7/32 ca=$PKI/ca.pem" \
	"OPEN SECRET1 127.0.0.6/32" \
	"OFF SECRET1 127.0.0.8/32 enabled=false"
chain_fake_backend
# The inside: counts every connection it gets.
sp_start inside python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
print("listening", flush=True)
while True:
    c, a = s.accept(); print("inside connection", a, flush=True); c.close()
' "$INSIDE_PORT"
chain_wait_log inside listening
chain_start_server
chain_start_client
chain_wait_log server "revision 1 applied"

probe() { # SOURCE MODE [CERT KEY] -> expected word in $want
	local got
	got=$(sp_run python3 "$PROBE" "$1" "$PARTNER_PORT" "$2" ${3:+"$3" "$4"}) ||
		sp_fail "probe from $1 failed"
	[ "$got" = "$want" ] || { sp_dump_logs; sp_fail "from $1 ($2 ${3:-}): $got, expected $want"; }
}
inside_count() { grep -c "inside connection" "$SP_TMP/inside.log"; }

# 1. Nobody allows 127.0.0.3; OFF allows 127.0.0.8 but is disabled.
want=closed-before-tls probe 127.0.0.3 tls
want=closed-before-tls probe 127.0.0.8 tls
chain_wait_log server "address_not_allowed from 127.0.0.3: no enabled partner allows this address; connection closed before TLS .*src=127.0.0.3 "
# The disabled partner's own address: its own line, which fail2ban does not
# act on (partner_fail2ban below: the filter matches the refusals only).
chain_wait_log server "partner_inactive from 127.0.0.8: partner OFF is disabled and this is its address; connection closed before TLS .*src=127.0.0.8 "
grep -q "address_not_allowed from 127.0.0.8" "$SP_TMP/server.log" &&
	sp_fail "the disabled partner's address is logged as address_not_allowed"

# 2. Certificates: PINNED wants client.pem exactly, O0013000000TEST anything
#    its CA issued that names it (client.pem has CN O0013000000TEST).
want=closed-after-tls probe 127.0.0.5 tls
chain_wait_log server "certificate_refused from 127.0.0.5: no client certificate; no partner allowed from this address accepts it"
want=closed-after-tls probe 127.0.0.5 tls "$PKI/rogue-client.pem" "$PKI/rogue-client.key"
chain_wait_log server "certificate_refused from 127.0.0.5: client certificate sha256=[0-9a-f]\{64\}[ ;]"
want=closed-after-tls probe 127.0.0.7 tls "$PKI/rogue-client.pem" "$PKI/rogue-client.key"
chain_wait_log server "certificate_refused from 127.0.0.7: "
[ "$(inside_count)" -eq 0 ] || sp_fail "the inside saw a connection of a refused attempt"
# The right certificates pass on to the inside (no OFTP2 module gates it here).
want=closed-after-tls probe 127.0.0.5 tls "$PKI/client.pem" "$PKI/client.key"
want=closed-after-tls probe 127.0.0.7 tls "$PKI/client.pem" "$PKI/client.key"
chain_wait_log inside "inside connection" 10
n=$(inside_count)
[ "$n" -eq 2 ] || { sp_dump_logs; sp_fail "the inside saw $n connections, expected the 2 accepted ones"; }

# 3. The brake: three broken handshakes from 127.0.0.6, then refused at accept.
for i in 1 2 3; do
	sp_run python3 "$PROBE" 127.0.0.6 "$PARTNER_PORT" garbage >/dev/null
done
chain_wait_log server "rate_limited from 127.0.0.6: 3 failures within 60 s: address blocked for 60 s"
want=closed-before-tls probe 127.0.0.6 tls
chain_wait_log server "rate_limited from 127.0.0.6: address blocked for another [0-9]* s after repeated failures; connection closed before TLS"
n=$(grep -c "TLS error .* during connect try from 127.0.0.6: " "$SP_TMP/server.log")
[ "$n" -eq 3 ] || sp_fail "expected 3 TLS error lines for 127.0.0.6, got $n"
[ "$(inside_count)" -eq 2 ] || sp_fail "the inside saw a connection of a refused attempt"
# Other addresses are not braked.
want=closed-after-tls probe 127.0.0.7 tls "$PKI/client.pem" "$PKI/client.key"

chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
partner_fail2ban "$SP_TMP/server.log"
grep -qx 127.0.0.8 "$SP_TMP/f2b-got" && sp_fail "fail2ban would ban the disabled partner's own address"
exit 0
