# modules/oftp2: the OFTP2 verification module (oftp2.so), its unit tests,
# its fuzz target and its integration tests' helpers. Included from
# modules/local.mk.

SP_O2MOD_SOURCES = \
	modules/oftp2/o2.h \
	modules/oftp2/module.c \
	modules/oftp2/config.c \
	modules/oftp2/stream.c \
	modules/oftp2/state.c \
	modules/oftp2/report.c \
	modules/oftp2/admit.c

# The module links nothing of the daemon: the codec (liboftp2.la) and the
# two core base objects it needs are built into it.
module_LTLIBRARIES += oftp2.la
oftp2_la_SOURCES = $(SP_O2MOD_SOURCES) src/core/buf.c src/core/err.c
oftp2_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(JSONC_CFLAGS)
# --exclude-libs: the codec's symbols stay inside; sp_module_v1 is the one
# symbol the module exports.
oftp2_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-Wl,--exclude-libs,ALL
oftp2_la_LIBADD = liboftp2.la $(JSONC_LIBS)
EXTRA_DIST += modules/oftp2/README.md

# Unit tests: the hooks driven through the real chain engine with a recording
# sink (tests/unit/o2_drive.[ch]).
SP_O2_DRIVE = tests/unit/o2_drive.c tests/unit/o2_drive.h src/server/chain.c src/server/chain.h
check_PROGRAMS += tests/unit/check_oftp2_module
TESTS += tests/unit/check_oftp2_module
tests_unit_check_oftp2_module_SOURCES = tests/unit/check_oftp2_module.c \
	$(SP_O2_DRIVE) $(SP_O2MOD_SOURCES)
tests_unit_check_oftp2_module_CFLAGS = $(SP_CHECK_CFLAGS) $(JSONC_CFLAGS)
tests_unit_check_oftp2_module_LDADD = liboftp2.la $(SP_CHECK_LIBS)

# Fuzz target: the module's input path, both directions, split at
# fuzzer-chosen boundaries. Corpus replay in `make check`.
EXTRA_DIST += tests/fuzz/corpus/oftp2_module
check_PROGRAMS += tests/fuzz/fuzz_oftp2_module
TESTS += tests/fuzz/fuzz_oftp2_module
tests_fuzz_fuzz_oftp2_module_SOURCES = tests/fuzz/fuzz_oftp2_module.c \
	$(SP_O2_DRIVE) $(SP_O2MOD_SOURCES) $(SP_FUZZ_REPLAY)
tests_fuzz_fuzz_oftp2_module_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit \
	-DSP_FUZZ_CORPUS=\"$(abs_top_srcdir)/tests/fuzz/corpus/oftp2_module\"
tests_fuzz_fuzz_oftp2_module_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_fuzz_fuzz_oftp2_module_LDADD = liboftp2.la $(SP_CORE_LIBS)
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_oftp2_module_libfuzzer
tests_fuzz_fuzz_oftp2_module_libfuzzer_SOURCES = tests/fuzz/fuzz_oftp2_module.c \
	$(SP_O2_DRIVE) $(SP_O2MOD_SOURCES)
tests_fuzz_fuzz_oftp2_module_libfuzzer_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_fuzz_fuzz_oftp2_module_libfuzzer_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_fuzz_fuzz_oftp2_module_libfuzzer_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_oftp2_module_libfuzzer_LDADD = liboftp2.la $(SP_CORE_LIBS)
endif
