# bench: build fragment, included from the top Makefile.am.
# The benchmark's load generator and inside sink (bench/run drives them).
# Built with the tree but never part of `make check` or CI: performance is
# measured and recorded in docs/performance.md, not asserted by tests.
noinst_PROGRAMS += bench/bench-load bench/bench-sink
bench_bench_load_SOURCES = bench/load.c bench/common.c bench/bench.h
bench_bench_load_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS) -pthread
bench_bench_load_LDADD = $(SP_CORE_LIBS) -lpthread
bench_bench_sink_SOURCES = bench/sink.c bench/common.c bench/bench.h
bench_bench_sink_CFLAGS = $(AM_CFLAGS)
bench_bench_sink_LDADD = $(SP_CORE_LIBS)
EXTRA_DIST += bench/run bench/table.py bench/keyless
