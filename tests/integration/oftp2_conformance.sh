#!/usr/bin/env bash
# oftp2_conformance.sh - the OFTP2 conformance suite (tests/conformance/*.case,
# one runner: tests/conformance/run.py) replayed byte-exact through the
# running proxy with the oftp2 module: each case is one session whose frames
# the runner plays as the partner (TLS) and as the inside server; valid
# frames must reach the other side octet for octet, a refused one must end
# with its ESID and never reach the other side. The module section is built
# from the cases: a case that needs a switch names a partner code of its own
# with that switch, so every switch is exercised off (the default code) and
# on (its code) in one chain.
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/chain.sh"
. "$SP_TOP_SRCDIR/tests/integration/oftp2_lib.sh"
sp_init 300
sp_need python3 python3

CASES=$SP_TOP_SRCDIR/tests/conformance
json=$(python3 "$CASES/run.py" config "$CASES") || sp_hard_error "the cases do not load"
o2_chain_up "$json"
sp_run python3 "$CASES/run.py" run "$CASES" "$PARTNER_PORT" "$SP_TMP/pki/ca.pem" "$INSIDE_PORT" \
	2>"$SP_TMP/conformance.log" || { sp_dump_logs; cat "$SP_TMP/conformance.log" >&2; sp_fail "conformance cases"; }
cat "$SP_TMP/conformance.log" >&2

# Every admitted deviation was named, with the partner code and the rule
# (sr_any and restart_and are the inside's: the responder's SSID deviates).
for rule in lf_trailer missing_cr data_padding esid_early time_counter0 lowercase sr_any \
	numeric_spaces x_charset bare_cdt restart_and efid_no_credit sth_octet0 reserved_not_spaces; do
	sp_grep "oftp2_deviation from 127.0.0.1: [a-z]* code=O0013000000[A-Z]* rule=$rule " "$SP_TMP/server.log"
done
chain_stop client "$CLIENT_PID"
chain_stop server "$SERVER_PID"
exit 0
