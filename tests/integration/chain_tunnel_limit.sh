#!/usr/bin/env bash
# chain_tunnel_limit.sh - the paired client's own data connections are not
# held to the strangers' handshake limit on the tunnel port (issue 16,
# docs/performance.md 9; docs/threat-model.md, "Descriptors").
#
# The real smartproxy-api, server, client (no modules: a plain relay, as in
# the flood) and an inside oftp2-peer. Then:
#
# 1. 32 raw TCP connections from the client's own address (127.0.0.1) sit in
#    the tunnel handshake (no ClientHello), which was the whole per-address
#    allowance. Three partners send a file at once: two sessions may take the
#    client's two warm connections; the third, or the warm connection that
#    replaces a taken one, needs a fresh handshake from 127.0.0.1. All three files must arrive intact while the 32 are still
#    held, and no tunnel_limit line may name 127.0.0.1. Before the fix the
#    third session's data connection was refused and it ended with
#    inside_timeout.
# 2. From another address (127.0.0.9), 32 held connections and a 33rd: the
#    33rd is refused with the security line tunnel_limit for 127.0.0.9.
# 3. 129 from the client's address: the 129th (or earlier, if the client's
#    own warm connections take slots) is refused with a plain tunnel line;
#    no security line ever names 127.0.0.1 (fail2ban must never ban it).
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_init 240

OFTP2_PEER=$SP_TOP_BUILDDIR/oftp2-peer
sp_require_prog "$SP_API" "$OFTP2_PEER"
sp_need python3 python3
HOLD=$SP_IT/tunnel_hold.py
SENDS=3

chain_init
PARTNER_PORT=$(chain_free_port)

# ---- the real backend: one listener, no modules ----
chain_api_yaml
cat >"$SP_TMP/site.yaml" <<YAML
listeners:
  - name: partners
    address: "127.0.0.1:$PARTNER_PORT"
    tls:
      certificate_chain: pki/server.pem
      private_key: pki/server.key
YAML
"$SP_API" --config "$SP_TMP/api.yaml" --import "$SP_TMP/site.yaml" >"$SP_TMP/import.log" 2>&1 ||
	{ cat "$SP_TMP/import.log" >&2; sp_fail "site import failed"; }
sp_start api "$SP_API" --config "$SP_TMP/api.yaml" --port-file "$SP_TMP/api.port"
BACKEND_PORT=$(sp_wait_port_file "$SP_TMP/api.port")
chain_write_client_conf "$PROXY_ID"

mkdir -p "$SP_TMP/inbox"
sp_start inside "$OFTP2_PEER" listen -v --parallel --listen "127.0.0.1:$INSIDE_PORT" \
	--timeout $(sp_time 60) --id O0013000000INSIDE --password INPW \
	--partner O0013000000ACME:PARTPW --dir "$SP_TMP/inbox" --port-file "$SP_TMP/inside.port"
INSIDE_PID=$SP_LAST_PID
sp_wait_port_file "$SP_TMP/inside.port" >/dev/null
chain_start_server
chain_start_client
chain_wait_log server "opened partner listener" 30
# The client's warm pool is up: no handshake of its own is in progress.
i=0
until [ "$(grep -c 'warm data connection from 127.0.0.1 on standby' "$SP_TMP/server.log")" -ge 2 ]; do
	[ "$i" -lt $(($(sp_time 30) * 10)) ] || { sp_dump_logs; sp_fail "the client's warm pool did not come up"; }
	sleep 0.1
	i=$((i + 1))
done

# ---- 1. the client's address already holds 32 handshakes ----
sp_start hold1 python3 "$HOLD" "$TUNNEL_PORT" 127.0.0.1 32 "$SP_TMP/hold1.ready" "$SP_TMP/hold1.release"
HOLD1_PID=$SP_LAST_PID
sp_wait_file "$SP_TMP/hold1.ready" 60
grep -q "^open=32 " "$SP_TMP/hold1.ready" ||
	{ sp_dump_logs; sp_fail "32 connections from 127.0.0.1: $(cat "$SP_TMP/hold1.ready")"; }
sp_log "32 connections from the client's address are in their handshake"
standby() { grep -c "warm data connection from 127.0.0.1 on standby" "$SP_TMP/server.log"; }
warmed() { grep -c "using a warm data connection" "$SP_TMP/client.log"; }
standby0=$(standby) warm0=$(warmed)
for n in $(seq "$SENDS"); do
	sp_make_file "$SP_TMP/f$n.bin" $((150000 + n * 1000))
done
pids=
for n in $(seq "$SENDS"); do
	sp_start "send$n" "$OFTP2_PEER" send -v --connect "127.0.0.1:$PARTNER_PORT" \
		--timeout $(sp_time 60) --ca "$SP_TMP/pki/ca.pem" --id O0013000000ACME --password PARTPW \
		--partner O0013000000INSIDE:INPW --send "$SP_TMP/f$n.bin"
	pids="$pids $SP_LAST_PID"
done
n=0
for pid in $pids; do
	n=$((n + 1))
	sp_wait "$pid" 120 ||
		{ sp_dump_logs; sp_fail "partner $n's transfer failed while 127.0.0.1 held 32 handshakes"; }
done
# Tunnel handshakes of the client's during the hold: warm connections that
# replaced the ones taken, and sessions that found none and dialled. With a
# pool of two and three sessions there is at least one.
fresh=$(($(standby) - standby0 + SENDS - ($(warmed) - warm0)))
: >"$SP_TMP/hold1.release"
sp_wait "$HOLD1_PID" 30 || sp_fail "holder 1 exited with an error"
# The condition must have lasted through the transfers (the server's hello
# timeout closes held connections after 10 s): else the run proved nothing.
grep -q "^open=32 " "$SP_TMP/hold1.log" ||
	sp_hard_error "the held connections did not last through the transfers: $(cat "$SP_TMP/hold1.log")"
for n in $(seq "$SENDS"); do
	sp_cmp "$SP_TMP/f$n.bin" "$SP_TMP/inbox/F$n.BIN"
done
[ "$fresh" -ge 1 ] || sp_hard_error "the client made no tunnel handshake during the hold: nothing was tried"
! grep -q "refused a connection from 127.0.0.1" "$SP_TMP/server.log" ||
	{ sp_dump_logs; sp_fail "a connection from the client's address was refused"; }
sp_log "$SENDS files crossed intact beside 32 held from 127.0.0.1; the client made $fresh tunnel handshake(s) meanwhile"

# ---- 2. a stranger keeps the limit of 32 ----
sp_start hold2 python3 "$HOLD" "$TUNNEL_PORT" 127.0.0.9 33 "$SP_TMP/hold2.ready" "$SP_TMP/hold2.release"
HOLD2_PID=$SP_LAST_PID
chain_wait_log server "WARN security .*tunnel: refused a connection from 127.0.0.9: 32 handshakes from this address is the limit" 30
sp_wait_file "$SP_TMP/hold2.ready" 60
: >"$SP_TMP/hold2.release"
sp_wait "$HOLD2_PID" 30 || sp_fail "holder 2 exited with an error"
grep -q "^open=32 closed=1" "$SP_TMP/hold2.log" ||
	{ sp_dump_logs; sp_fail "33 connections from 127.0.0.9: $(cat "$SP_TMP/hold2.log")"; }
sp_log "127.0.0.9: 32 held, the 33rd refused (tunnel_limit)"
# Each held connection the holder closed ends its handshake on the server,
# which gives its place back: 32 from 127.0.0.9 fit again, none refused
# (the count per address is a table, tunnel.c hs_enter/hs_leave).
failed() { grep -c "tunnel connection from 127\.0\.0\.9 closed: " "$SP_TMP/server.log"; }
limited() { grep -c "refused a connection from 127\.0\.0\.9:" "$SP_TMP/server.log"; }
i=0
until [ "$(failed)" -ge 32 ]; do
	[ "$i" -lt $(($(sp_time 30) * 10)) ] || { sp_dump_logs; sp_fail "the 32 closed handshakes from 127.0.0.9 did not end: $(failed)"; }
	sleep 0.1
	i=$((i + 1))
done
limited0=$(limited)
sp_start hold2b python3 "$HOLD" "$TUNNEL_PORT" 127.0.0.9 32 "$SP_TMP/hold2b.ready" "$SP_TMP/hold2b.release"
HOLD2B_PID=$SP_LAST_PID
sp_wait_file "$SP_TMP/hold2b.ready" 60
: >"$SP_TMP/hold2b.release"
sp_wait "$HOLD2B_PID" 30 || sp_fail "holder 2b exited with an error"
grep -q "^open=32 closed=0" "$SP_TMP/hold2b.ready" && [ "$(limited)" -eq "$limited0" ] ||
	{ sp_dump_logs; sp_fail "127.0.0.9 after its 32 ended: $(cat "$SP_TMP/hold2b.ready"), $(($(limited) - limited0)) refused"; }
sp_log "127.0.0.9: its 32 ended handshakes gave their places back (32 held again)"

# ---- 3. the client's address has 128, refused beyond with no security line ----
sp_start hold3 python3 "$HOLD" "$TUNNEL_PORT" 127.0.0.1 129 "$SP_TMP/hold3.ready" "$SP_TMP/hold3.release"
HOLD3_PID=$SP_LAST_PID
chain_wait_log server "WARN tunnel .*refused a connection from 127.0.0.1, the paired client's address: 128 handshakes is its limit" 30
sp_wait_file "$SP_TMP/hold3.ready" 60
: >"$SP_TMP/hold3.release"
sp_wait "$HOLD3_PID" 30 || sp_fail "holder 3 exited with an error"
sp_log "127.0.0.1: $(cat "$SP_TMP/hold3.ready") of 129 (the client's own warm connections may take slots too)"
! grep -qE "event=tunnel_limit src=127\.0\.0\.1( |$)|WARN security .*the paired client's address" "$SP_TMP/server.log" ||
	sp_fail "a tunnel_limit line names the client's address"

kill -TERM "$INSIDE_PID"
sp_wait "$INSIDE_PID" 20 >/dev/null 2>&1
chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
exit 0
