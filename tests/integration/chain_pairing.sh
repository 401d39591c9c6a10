#!/usr/bin/env bash
# chain_pairing.sh - who may open the tunnel: an unpaired client key is
# refused and logged with its fingerprint and never gets a configuration; a
# client pinning the wrong Proxy ID refuses the server.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
sp_init 120

chain_init
PARTNER_PORT=$(chain_free_port)
chain_config "$PARTNER_PORT" 1
chain_fake_backend
CLIENT_KEY=$(cut -d' ' -f1 "$SP_TMP/pairing")

# Unpaired: the pairing file names another key.
echo "# nobody we know" >"$SP_TMP/pairing"
echo "0000000000000000000000000000000000000000000000000000000000000000 other" >>"$SP_TMP/pairing"
chain_start_server
chain_start_client
chain_wait_log server "refused client key $CLIENT_KEY from 127.0.0.1: not in the pairing file"
# The client retries: a second refusal means its first attempt is over, and
# that attempt is the only way a configuration could have come in.
i=0
until [ "$(grep -c "refused client key $CLIENT_KEY" "$SP_TMP/server.log")" -ge 2 ]; do
	[ "$i" -ge $(($(sp_time 30) * 10)) ] && { sp_dump_logs; sp_fail "the unpaired client did not try again"; }
	sleep 0.1; i=$((i + 1))
done
grep -q "revision 1" "$SP_TMP/server.log" && sp_fail "an unpaired client delivered a configuration"
sp_connects 127.0.0.1 "$PARTNER_PORT" && sp_fail "partner port open for an unpaired client"
chain_stop client "$CLIENT_PID"

# Pairing the key and reloading (SIGHUP) lets the same client in.
echo "$CLIENT_KEY test-client" >>"$SP_TMP/pairing"
kill -HUP "$SERVER_PID"
chain_wait_log server "pairing file reloaded: 2 client key"
chain_start_client
chain_wait_log server "revision 1 applied" 30
chain_stop client "$CLIENT_PID"

# Wrong Proxy ID pinned: the client refuses the server before saying hello.
chain_write_client_conf "1111111111111111111111111111111111111111111111111111111111111111"
sp_start client2 "$SP_CLIENT" -c "$SP_TMP/client.yaml"
CLIENT_PID=$SP_LAST_PID
chain_wait_log client2 "but the pinned Proxy ID is 1111111111111111111111111111111111111111111111111111111111111111: refusing it"
chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
exit 0
