#!/bin/bash
# peer_refuse.sh - refusals and failures end with a clear message and a
# non-zero exit: wrong password (ESID 04) and unknown code (ESID 03) in both
# directions, a silent peer (timeout), a closed port, a file that cannot be
# sent as F records.
. "${SP_TOP_SRCDIR:?}/tests/integration/lib.sh"
sp_require_prog "$OFTP2_PEER"
sp_init 60

A_ID=O0013000000ALPHA
B_ID=O0013000000BRAVO
sp_make_file "$SP_TMP/f.bin" 1000

# session NAME LISTEN_OPTS... -- SEND_OPTS...: LRC and RC are the exit statuses.
session() {
	local n=$1 port
	shift
	local -a lopts=()
	while [ "$1" != -- ]; do lopts+=("$1"); shift; done
	shift
	mkdir -p "$SP_TMP/$n"
	sp_start "$n-listen" "$OFTP2_PEER" listen --listen 127.0.0.1:0 \
		--port-file "$SP_TMP/$n/port" --once --dir "$SP_TMP/$n" --timeout $(sp_time 10) \
		"${lopts[@]}"
	local lpid=$SP_LAST_PID
	port=$(sp_wait_port_file "$SP_TMP/$n/port")
	sp_run "$OFTP2_PEER" send --connect "127.0.0.1:$port" --dir "$SP_TMP/$n" \
		--send "$SP_TMP/f.bin" "$@" 2>"$SP_TMP/$n-send.log"
	RC=$?
	sp_wait "$lpid" 20
	LRC=$?
}

listener_b=(--id "$B_ID" --password BPASS --partner "$A_ID:APASS")

# 1. Initiator sends a wrong password: the responder answers ESID 04.
session badpw "${listener_b[@]}" -- \
	--id "$A_ID" --password WRONG --partner "$B_ID:BPASS" --timeout $(sp_time 10)
[ "$RC" -ne 0 ] || sp_fail "badpw: sender exit 0"
[ "$LRC" -ne 0 ] || sp_fail "badpw: listener exit 0"
sp_grep 'ESID 04 invalid password' "$SP_TMP/badpw-send.log"
sp_grep 'wrong password (answering ESID 04)' "$SP_TMP/badpw-listen.log"
[ ! -e "$SP_TMP/badpw/F.BIN" ] || sp_fail "badpw: file stored"

# 2. Unknown initiator code: ESID 03.
session badid "${listener_b[@]}" -- \
	--id O0013000000OTHER --password APASS --partner "$B_ID:BPASS" --timeout $(sp_time 10)
[ "$RC" -ne 0 ] || sp_fail "badid: sender exit 0"
sp_grep 'ESID 03 user code not known' "$SP_TMP/badid-send.log"

# 3. The responder presents a password the initiator does not expect: the
#    initiator ends the session with ESID 04 and both fail.
session badresp "${listener_b[@]}" -- \
	--id "$A_ID" --password APASS --partner "$B_ID:NOTB" --timeout $(sp_time 10)
[ "$RC" -ne 0 ] || sp_fail "badresp: sender exit 0"
[ "$LRC" -ne 0 ] || sp_fail "badresp: listener exit 0"
sp_grep 'wrong password (answering ESID 04)' "$SP_TMP/badresp-send.log"
sp_grep 'ESID 04 invalid password' "$SP_TMP/badresp-listen.log"

# 4. A peer that never answers: plain TCP against a TLS listener. Each side
#    waits for the other; both must give up within their --timeout.
pki=$SP_TMP/pki
make_certs "$pki"
start=$(date +%s)
session silent "${listener_b[@]}" --cert "$pki/server.pem" --key "$pki/server.key" -- \
	--id "$A_ID" --password APASS --partner "$B_ID:BPASS" --timeout 2
[ "$RC" -ne 0 ] || sp_fail "silent: sender exit 0"
[ "$LRC" -ne 0 ] || sp_fail "silent: listener exit 0"
sp_grep 'timed out after 2 s waiting for SSRM' "$SP_TMP/silent-send.log"
[ $(( $(date +%s) - start )) -lt $(sp_time 15) ] || sp_fail "silent: timeouts took too long"

# 5. Nobody listening.
sp_run "$OFTP2_PEER" send --connect "127.0.0.1:$(cat "$SP_TMP/badpw/port")" \
	--id "$A_ID" --password APASS --partner "$B_ID:BPASS" --timeout $(sp_time 5) \
	--send "$SP_TMP/f.bin" 2>"$SP_TMP/closed.log" && sp_fail "closed: exit 0"
sp_grep 'cannot connect to 127.0.0.1:' "$SP_TMP/closed.log"

# 6. F records that do not divide the file: not sent, the session still ends
#    normally, but the exit status says the file did not get through.
session frec "${listener_b[@]}" -- \
	--id "$A_ID" --password APASS --partner "$B_ID:BPASS" --timeout $(sp_time 10) \
	--format F --record-length 300
[ "$RC" -ne 0 ] || sp_fail "frec: sender exit 0"
[ "$LRC" -eq 0 ] || sp_fail "frec: listener exit $LRC"
sp_grep 'not a multiple of the record length 300' "$SP_TMP/frec-send.log"

# 7. Usage errors exit 2 without touching the network.
"$OFTP2_PEER" send --connect 127.0.0.1:1 --id "$A_ID" 2>"$SP_TMP/usage.log"
[ $? -eq 2 ] || sp_fail "usage: exit status not 2"
sp_grep 'required' "$SP_TMP/usage.log"
exit 0
