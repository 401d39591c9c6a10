# libsmartproxy: the core library every program, test and fuzzer links.
noinst_LTLIBRARIES += libsmartproxy.la
libsmartproxy_la_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS) $(YAML_CFLAGS) $(JSONC_CFLAGS)
libsmartproxy_la_SOURCES = \
	src/core/err.c src/core/err.h \
	src/core/buf.c src/core/buf.h
libsmartproxy_la_SOURCES += \
	src/core/loop.c src/core/loop.h \
	src/core/hmap.c src/core/hmap.h \
	src/core/conn.c src/core/conn.h \
	src/core/relay.c src/core/relay.h \
	src/core/memtrim.c src/core/memtrim.h \
	src/core/cpus.c src/core/cpus.h \
	src/core/nofile.c src/core/nofile.h \
	src/core/net.c src/core/net.h
libsmartproxy_la_SOURCES += src/core/tls.c src/core/tls.h
libsmartproxy_la_SOURCES += src/core/crl.c src/core/crl.h
libsmartproxy_la_SOURCES += src/tunnel/msg.c src/tunnel/msg.h
libsmartproxy_la_SOURCES += src/tunnel/sign.c src/tunnel/sign.h
libsmartproxy_la_SOURCES += src/core/workers.c src/core/workers.h
libsmartproxy_la_LIBADD = -lpthread
libsmartproxy_la_SOURCES += src/core/signals.c src/core/signals.h

# Fuzz target: the CRL reader (crl.c) on fetched or posted bytes.
check_PROGRAMS += tests/fuzz/fuzz_crl
TESTS += tests/fuzz/fuzz_crl
tests_fuzz_fuzz_crl_SOURCES = tests/fuzz/fuzz_crl.c $(SP_FUZZ_REPLAY)
tests_fuzz_fuzz_crl_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSP_FUZZ_CORPUS=\"$(abs_top_srcdir)/tests/fuzz/corpus/crl\"
tests_fuzz_fuzz_crl_LDADD = $(SP_CORE_LIBS)
EXTRA_DIST += tests/fuzz/corpus/crl
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_crl_libfuzzer
tests_fuzz_fuzz_crl_libfuzzer_SOURCES = tests/fuzz/fuzz_crl.c
tests_fuzz_fuzz_crl_libfuzzer_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_crl_libfuzzer_LDADD = $(SP_CORE_LIBS)
endif
libsmartproxy_la_SOURCES += src/core/notify.c src/core/notify.h
# PROXY protocol headers from a load balancer, and the networks trusted to send them.
libsmartproxy_la_SOURCES += src/core/proxyhdr.c src/core/proxyhdr.h src/core/cidr.c src/core/cidr.h
