#!/bin/bash
# api_pg.sh - the API test suite on PostgreSQL: one throwaway server
# (pg.sh), a fresh database for each test, and the same scripts that run on
# SQLite run again with `database:` pointing there (SP_TEST_DATABASE, see
# sp_api_database in lib.sh). Arguments: the tests to run (default: the
# suite below).
. "$SP_TOP_SRCDIR/tests/integration/lib.sh"
. "$SP_TOP_SRCDIR/tests/integration/pg.sh"
sp_init 900

SUITE="api_config api_roles api_limits api_partners api_certs ops_events"
[ $# -gt 0 ] && SUITE="$*"

pg_start
failed=
# The SQL layer's own PostgreSQL checks (tests/unit/check_api_db, tcase pg).
if ! SP_TEST_DATABASE=$(pg_createdb unit_db) CK_VERBOSITY=verbose \
	"$SP_TOP_BUILDDIR/tests/unit/check_api_db" >"$SP_TMP/unit_db.out" 2>&1 ||
	! grep -q ':pg:pg_commit_after_failed_statement:.*Passed' "$SP_TMP/unit_db.out" ||
	! grep -q ':pg:pg_listen_survives_reconnect:.*Passed' "$SP_TMP/unit_db.out"; then
	tail -40 "$SP_TMP/unit_db.out" >&2
	failed="$failed check_api_db"
fi
for t in $SUITE; do
	url=$(pg_createdb "$t")
	sp_log "$t on PostgreSQL"
	SP_TEST_DATABASE=$url sp_run bash "$SP_TOP_SRCDIR/tests/integration/$t.sh" \
		>"$SP_TMP/$t.out" 2>&1
	rc=$?
	if [ "$rc" != 0 ]; then
		tail -40 "$SP_TMP/$t.out" >&2
		sp_log "$t on PostgreSQL: exit $rc"
		failed="$failed $t"
	fi
done
[ -z "$failed" ] || sp_fail "on PostgreSQL:$failed"
exit 0
