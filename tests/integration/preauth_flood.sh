#!/usr/bin/env bash
# preauth_flood.sh - attacks before authentication, driven as an attacker
# would (preauth_drive.py), against the chain with modules oftp2 and partner
# and the default limits for unverified sessions (8 per address, 128 in all):
#
# 1. 20 TLS connections from each of 127.0.0.2..6 that finish the handshake
#    and never send an SSID: at most 8 per address are held, the rest are
#    refused at accept; a valid partner's transfer from 127.0.0.1 goes
#    through while they are held; their SSID timeouts count for the brake,
#    so each address is blocked after two rounds.
# 2. The same from 16 addresses (16 x 8 = 128 fills max_unverified): a
#    valid partner is refused until the fill is braked; how long is measured
#    (docs/threat-model.md, "Pre-authentication floods").
# 3. Protocol violations before authentication from one address: blocked
#    after max_failures, refused before TLS afterwards.
# 4. 200 wrong passwords, 50 at once, from one address (refused ones tried
#    again): at most max_failures password checks run (8 at a time: the
#    unverified limit per address; checks in flight count for the brake,
#    tests/unit/check_partner.c).
# Finally the fail2ban filter must match exactly the refused attempts.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/partner_lib.sh"
sp_init 300

SSID_MS=4000
partner_init oftp2 partner
PKI=$SP_TMP/pki
PARTNER_PORT=$(chain_free_port)
INSIDE_ID=O0013000000INSIDE
DRIVE=$SP_TOP_SRCDIR/tests/integration/preauth_drive.py
# The partner's network holds the attackers' addresses too: the partner
# module lets them through to TLS, as it would for a partner's NAT.
PARTNER_LIMITS="{\"ssid_timeout_ms\": $SSID_MS, \"max_unverified\": 128,
	\"max_unverified_per_address\": 8, \"max_sessions\": 1000}" \
PARTNER_BRAKE='{"max_failures": 10, "window_ms": 60000, "block_ms": 300000}' \
partner_config "$PARTNER_PORT" \
	"ACME ACMEPW 127.0.0.0/8" \
	"GUESSED GPW 127.0.0.0/8"
chain_fake_backend
mkdir -p "$SP_TMP/inbox"
sp_start inside "$OFTP2_PEER" listen -v --listen "127.0.0.1:$INSIDE_PORT" --timeout $(sp_time 200) \
	--id "$INSIDE_ID" --password INSIDEPW --dir "$SP_TMP/inbox" \
	--partner ACME:ACMEPW --partner GUESSED:GPW
chain_wait_log inside "listening on" 10
chain_start_server
chain_start_client
chain_wait_log server "revision 1 applied"
sp_make_file "$SP_TMP/FILE" 65536

now() { date +%s.%N; }
elapsed() { awk "BEGIN { printf \"%.1f\", $2 - $1 }"; }

# valid NAME: one transfer of the valid partner from 127.0.0.1.
valid() {
	sp_run "$OFTP2_PEER" send --connect "127.0.0.1:$PARTNER_PORT" --ca "$PKI/ca.pem" \
		--timeout $(sp_time 30) --id ACME --password ACMEPW --partner "$INSIDE_ID:INSIDEPW" \
		--send "$SP_TMP/FILE" >"$SP_TMP/$1.log" 2>&1
}

# blocked ADDR: the server's line for the start of ADDR's block.
blocked() { grep -q "rate_limited from $1: 10 failures within 60 s: address blocked" "$SP_TMP/server.log"; }

# ---- 1. 100 silent TLS connections from 5 addresses ----
srcs1="127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6"
t0=$(now)
sp_start fill1 python3 "$DRIVE" fill "$PARTNER_PORT" 20 120 "$SP_TMP/fill1.ready" $srcs1
FILL1_PID=$SP_LAST_PID
sp_wait_file "$SP_TMP/fill1.ready" 60
held=$(sed -n 's/^open=//p' "$SP_TMP/fill1.ready")
nlimit=$(grep -c "address_limit from 127\.0\.0\.[2-6]: 8 sessions from this address without a verified partner" "$SP_TMP/server.log")
sp_log "phase 1: $held TLS sessions held of 100 attempts, $nlimit refused at accept"
[ "$held" -le 40 ] || sp_fail "phase 1: $held silent sessions held, more than 5 x 8"
[ "$nlimit" -ge 1 ] || sp_fail "phase 1: no refusal at max_unverified_per_address"
valid valid1 || { sp_dump_logs; sp_fail "phase 1: the valid partner was denied by 100 silent connections"; }
sp_cmp "$SP_TMP/FILE" "$SP_TMP/inbox/FILE"
rm -f "$SP_TMP/inbox/FILE"
sp_log "phase 1: the valid partner's transfer went through beside them"
for a in $srcs1; do
	chain_wait_log server "rate_limited from $a: 10 failures within 60 s: address blocked" 60
done
t1=$(now)
sp_wait "$FILL1_PID" 60 || sp_fail "phase 1: the driver did not end"
sp_log "phase 1: all 5 addresses blocked $(elapsed "$t0" "$t1") s after the fill began" \
	"(ssid_timeout_ms $SSID_MS); driver: $(tr '\n' ' ' <"$SP_TMP/fill1.log")"
ntimeout=$(grep -c "oftp2_timeout from 127\.0\.0\.[2-6]: " "$SP_TMP/server.log")
sp_log "phase 1: $ntimeout SSID timeouts counted before the blocks"

# ---- 2. a fill of max_unverified from 16 addresses ----
srcs2=
for i in $(seq 10 25); do srcs2="$srcs2 127.0.0.$i"; done
sp_start fill2 python3 "$DRIVE" fill "$PARTNER_PORT" 8 120 "$SP_TMP/fill2.ready" $srcs2
FILL2_PID=$SP_LAST_PID
sp_wait_file "$SP_TMP/fill2.ready" 60
t0=$(now)
tries=0
denied=0
until valid "valid2"; do
	tries=$((tries + 1))
	grep -q "refused 127.0.0.1: 128 sessions without a verified partner is the limit" \
		"$SP_TMP/server.log" && denied=1
	[ "$(elapsed "$t0" "$(now)" | cut -d. -f1)" -lt "$(sp_time 60)" ] ||
		{ sp_dump_logs; sp_fail "phase 2: the valid partner never got through"; }
	sleep 0.2
done
t1=$(now)
sp_cmp "$SP_TMP/FILE" "$SP_TMP/inbox/FILE"
rm -f "$SP_TMP/inbox/FILE"
sp_log "phase 2: 16 addresses x 8 silent sessions; the valid partner refused $tries times" \
	"(max_unverified reached: $denied), through after $(elapsed "$t0" "$t1") s" \
	"(ssid_timeout_ms $SSID_MS)"
nblocked=0
for a in $srcs2; do
	chain_wait_log server "rate_limited from $a: 10 failures within 60 s: address blocked" 60
	nblocked=$((nblocked + 1))
done
sp_wait "$FILL2_PID" 60 || sp_fail "phase 2: the driver did not end"
sp_log "phase 2: $nblocked addresses blocked $(elapsed "$t0" "$(now)") s after the fill"

# ---- 3. protocol violations before authentication ----
sp_run python3 "$DRIVE" badssid "$PARTNER_PORT" 127.0.0.31 3000 15 >"$SP_TMP/bad.out" ||
	sp_fail "phase 3: driver failed"
nviol=$(grep -c "oftp2_violation from 127\.0\.0\.31: " "$SP_TMP/server.log")
# The flood's security lines: the first 20 per 10 s, then a count.
chain_wait_log server "[0-9]* more from 127\.0\.0\.31 in 10 s" 30
sp_log "phase 3: $(grep -c "WARN security .*127\.0\.0\.31" "$SP_TMP/server.log") security lines" \
	"from 127.0.0.31 ($(grep "WARN security .*127\.0\.0\.31" "$SP_TMP/server.log" | wc -c) bytes)," \
	"summaries: $(grep -o "[0-9]* more from 127\.0\.0\.31 in 10 s" "$SP_TMP/server.log" | tr '\n' ' ')"
sp_log "phase 3: $(cat "$SP_TMP/bad.out"); $nviol violations logged"
blocked 127.0.0.31 || sp_fail "phase 3: protocol violations were not braked"
[ "$nviol" -le 10 ] || sp_fail "phase 3: $nviol violations from one address, max_failures 10"

# ---- 4. wrong passwords, 50 at once ----
sp_run python3 "$DRIVE" guess "$PARTNER_PORT" 127.0.0.32 200 50 GUESSED >"$SP_TMP/guess.out" ||
	sp_fail "phase 4: driver failed"
nbad=$(grep -c "bad_password from 127\.0\.0\.32: " "$SP_TMP/server.log")
sp_log "phase 4: $(cat "$SP_TMP/guess.out"); $nbad password checks failed"
blocked 127.0.0.32 || sp_fail "phase 4: the guesses were not braked"
[ "$nbad" -le 10 ] || sp_fail "phase 4: $nbad wrong passwords checked, max_failures 10"

chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
partner_fail2ban "$SP_TMP/server.log"
exit 0
