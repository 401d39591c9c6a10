# Unit tests (Check), fuzz corpus replays and integration tests.

# Fuzz targets: built as libFuzzer programs with --enable-fuzzing, and always
# as corpus replayers that `make check` runs (tests/fuzz/standalone.c).
SP_FUZZ_REPLAY = tests/fuzz/standalone.c

check_PROGRAMS += tests/unit/check_buf
TESTS += tests/unit/check_buf
tests_unit_check_buf_SOURCES = tests/unit/check_buf.c
tests_unit_check_buf_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_buf_LDADD = $(SP_CHECK_LIBS)
check_PROGRAMS += tests/unit/check_relay
TESTS += tests/unit/check_relay
tests_unit_check_relay_SOURCES = tests/unit/check_relay.c
tests_unit_check_relay_CFLAGS = $(SP_CHECK_CFLAGS) $(GNUTLS_CFLAGS)
tests_unit_check_relay_LDADD = $(SP_CHECK_LIBS)
check_PROGRAMS += tests/unit/check_memtrim
TESTS += tests/unit/check_memtrim
tests_unit_check_memtrim_SOURCES = tests/unit/check_memtrim.c
tests_unit_check_memtrim_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_memtrim_LDADD = $(SP_CHECK_LIBS)

check_PROGRAMS += tests/unit/check_loop tests/unit/check_conn tests/unit/check_net
TESTS += tests/unit/check_loop tests/unit/check_conn tests/unit/check_net
tests_unit_check_loop_SOURCES = tests/unit/check_loop.c
tests_unit_check_loop_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_loop_LDADD = $(SP_CHECK_LIBS)
# The chain engine of smartproxy-server, driven with a recording sink.
check_PROGRAMS += tests/unit/check_chain
TESTS += tests/unit/check_chain
tests_unit_check_chain_SOURCES = tests/unit/check_chain.c src/server/chain.c src/server/chain.h
tests_unit_check_chain_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_chain_LDADD = $(SP_CHECK_LIBS)
# The hash table behind the server's per-accept lookups (core/hmap.h).
check_PROGRAMS += tests/unit/check_hmap
TESTS += tests/unit/check_hmap
tests_unit_check_hmap_SOURCES = tests/unit/check_hmap.c
tests_unit_check_hmap_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_hmap_LDADD = $(SP_CHECK_LIBS)
# `loops: auto`: the CPUs this process may use (core/cpus.h).
check_PROGRAMS += tests/unit/check_cpus
TESTS += tests/unit/check_cpus
tests_unit_check_cpus_SOURCES = tests/unit/check_cpus.c
tests_unit_check_cpus_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_cpus_LDADD = $(SP_CHECK_LIBS)
tests_unit_check_conn_SOURCES = tests/unit/check_conn.c
tests_unit_check_conn_CFLAGS = $(SP_CHECK_CFLAGS) $(GNUTLS_CFLAGS)
tests_unit_check_conn_LDADD = $(SP_CHECK_LIBS)
tests_unit_check_net_SOURCES = tests/unit/check_net.c
tests_unit_check_net_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_net_LDADD = $(SP_CHECK_LIBS)

check_PROGRAMS += tests/unit/check_tunnel_sign
TESTS += tests/unit/check_tunnel_sign
tests_unit_check_tunnel_sign_SOURCES = tests/unit/check_tunnel_sign.c
tests_unit_check_tunnel_sign_CFLAGS = $(SP_CHECK_CFLAGS) $(JSONC_CFLAGS) $(GNUTLS_CFLAGS)
tests_unit_check_tunnel_sign_LDADD = $(SP_CHECK_LIBS)
# The server's questions to the backend (bridge.c), tunnel and loops stood in.
check_PROGRAMS += tests/unit/check_bridge
TESTS += tests/unit/check_bridge
tests_unit_check_bridge_SOURCES = tests/unit/check_bridge.c src/server/bridge.c
tests_unit_check_bridge_CFLAGS = $(SP_CHECK_CFLAGS) $(JSONC_CFLAGS) $(GNUTLS_CFLAGS)
tests_unit_check_bridge_LDADD = $(SP_CHECK_LIBS)
check_PROGRAMS += tests/unit/check_mailbox
TESTS += tests/unit/check_mailbox
tests_unit_check_mailbox_SOURCES = tests/unit/check_mailbox.c
tests_unit_check_mailbox_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_mailbox_LDADD = $(SP_CHECK_LIBS)
check_PROGRAMS += tests/unit/check_workers
TESTS += tests/unit/check_workers
tests_unit_check_workers_SOURCES = tests/unit/check_workers.c
tests_unit_check_workers_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_workers_LDADD = $(SP_CHECK_LIBS)

# Fuzz targets of the tunnel: message framing (both ends parse what the other
# sends) and the server's validation of a runtime configuration revision.
EXTRA_DIST += tests/fuzz/corpus/tunnel_msg tests/fuzz/corpus/rtconf
SP_RTCONF_SOURCES = src/server/rtconf.c src/server/server.h src/server/keyless.c
check_PROGRAMS += tests/fuzz/fuzz_tunnel_msg tests/fuzz/fuzz_rtconf
TESTS += tests/fuzz/fuzz_tunnel_msg tests/fuzz/fuzz_rtconf
tests_fuzz_fuzz_tunnel_msg_SOURCES = tests/fuzz/fuzz_tunnel_msg.c $(SP_FUZZ_REPLAY)
tests_fuzz_fuzz_tunnel_msg_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSP_FUZZ_CORPUS=\"$(abs_top_srcdir)/tests/fuzz/corpus/tunnel_msg\"
tests_fuzz_fuzz_tunnel_msg_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(GNUTLS_CFLAGS)
# libspapi: the client's check of the server's live snapshot (sp_body_live).
tests_fuzz_fuzz_tunnel_msg_LDADD = libspapi.la $(SP_CORE_LIBS) $(SQLITE_LIBS) $(PQ_LIBS)
tests_fuzz_fuzz_rtconf_SOURCES = tests/fuzz/fuzz_rtconf.c $(SP_RTCONF_SOURCES) $(SP_FUZZ_REPLAY)
tests_fuzz_fuzz_rtconf_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSP_FUZZ_CORPUS=\"$(abs_top_srcdir)/tests/fuzz/corpus/rtconf\"
tests_fuzz_fuzz_rtconf_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(GNUTLS_CFLAGS)
tests_fuzz_fuzz_rtconf_LDADD = $(SP_CORE_LIBS)
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_tunnel_msg_libfuzzer tests/fuzz/fuzz_rtconf_libfuzzer
tests_fuzz_fuzz_tunnel_msg_libfuzzer_SOURCES = tests/fuzz/fuzz_tunnel_msg.c
tests_fuzz_fuzz_tunnel_msg_libfuzzer_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(GNUTLS_CFLAGS)
tests_fuzz_fuzz_tunnel_msg_libfuzzer_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_tunnel_msg_libfuzzer_LDADD = libspapi.la $(SP_CORE_LIBS) $(SQLITE_LIBS) $(PQ_LIBS)
tests_fuzz_fuzz_rtconf_libfuzzer_SOURCES = tests/fuzz/fuzz_rtconf.c $(SP_RTCONF_SOURCES)
tests_fuzz_fuzz_rtconf_libfuzzer_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(GNUTLS_CFLAGS)
tests_fuzz_fuzz_rtconf_libfuzzer_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_rtconf_libfuzzer_LDADD = $(SP_CORE_LIBS)
endif

# PROXY protocol headers (what a load balancer puts before the partner's
# bytes) and the trusted networks: unit tests and a fuzz target.
check_PROGRAMS += tests/unit/check_proxyhdr
TESTS += tests/unit/check_proxyhdr
tests_unit_check_proxyhdr_SOURCES = tests/unit/check_proxyhdr.c
tests_unit_check_proxyhdr_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_proxyhdr_LDADD = $(SP_CHECK_LIBS)
EXTRA_DIST += tests/fuzz/corpus/proxyhdr
check_PROGRAMS += tests/fuzz/fuzz_proxyhdr
TESTS += tests/fuzz/fuzz_proxyhdr
tests_fuzz_fuzz_proxyhdr_SOURCES = tests/fuzz/fuzz_proxyhdr.c $(SP_FUZZ_REPLAY)
tests_fuzz_fuzz_proxyhdr_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSP_FUZZ_CORPUS=\"$(abs_top_srcdir)/tests/fuzz/corpus/proxyhdr\"
tests_fuzz_fuzz_proxyhdr_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS)
tests_fuzz_fuzz_proxyhdr_LDADD = $(SP_CORE_LIBS)
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_proxyhdr_libfuzzer
tests_fuzz_fuzz_proxyhdr_libfuzzer_SOURCES = tests/fuzz/fuzz_proxyhdr.c
tests_fuzz_fuzz_proxyhdr_libfuzzer_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS)
tests_fuzz_fuzz_proxyhdr_libfuzzer_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_proxyhdr_libfuzzer_LDADD = $(SP_CORE_LIBS)
endif

# Unit tests and fuzz corpus replays only, without the integration suite's
# daemons on loopback (debian/rules runs this at package build time).
check-unit:
	@units=`for t in $(TESTS); do case $$t in tests/unit/*|tests/fuzz/*) echo $$t;; esac; done`; \
	$(MAKE) $(AM_MAKEFLAGS) check TESTS="`echo $$units`"
.PHONY: check-unit
