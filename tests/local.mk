# Unit tests (Check), fuzz corpus replays and integration tests.

# Fuzz targets: built as libFuzzer programs with --enable-fuzzing, and always
# as corpus replayers that `make check` runs (tests/fuzz/standalone.c).
SP_FUZZ_REPLAY = tests/fuzz/standalone.c

check_PROGRAMS += tests/unit/check_buf
TESTS += tests/unit/check_buf
tests_unit_check_buf_SOURCES = tests/unit/check_buf.c
tests_unit_check_buf_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_buf_LDADD = $(SP_CHECK_LIBS)

check_PROGRAMS += tests/unit/check_loop tests/unit/check_conn tests/unit/check_net
TESTS += tests/unit/check_loop tests/unit/check_conn tests/unit/check_net
tests_unit_check_loop_SOURCES = tests/unit/check_loop.c
tests_unit_check_loop_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_loop_LDADD = $(SP_CHECK_LIBS)
tests_unit_check_conn_SOURCES = tests/unit/check_conn.c
tests_unit_check_conn_CFLAGS = $(SP_CHECK_CFLAGS) $(GNUTLS_CFLAGS)
tests_unit_check_conn_LDADD = $(SP_CHECK_LIBS)
tests_unit_check_net_SOURCES = tests/unit/check_net.c
tests_unit_check_net_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_net_LDADD = $(SP_CHECK_LIBS)

check_PROGRAMS += tests/unit/check_workers
TESTS += tests/unit/check_workers
tests_unit_check_workers_SOURCES = tests/unit/check_workers.c
tests_unit_check_workers_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_workers_LDADD = $(SP_CHECK_LIBS)
