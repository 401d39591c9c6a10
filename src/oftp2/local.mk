# src/oftp2: the OFTP2 codec (framing, commands, negotiation, DATA buffers).
# liboftp2.la is a convenience library WITHOUT the core base objects
# (buf.c, err.c): programs get those from libsmartproxy.la, and a shared
# module links liboftp2.la together with them.
smartproxyinclude_HEADERS += include/smartproxy/oftp2.h
noinst_HEADERS += src/oftp2/codec.h

noinst_LTLIBRARIES += liboftp2.la
liboftp2_la_CFLAGS = $(AM_CFLAGS)
liboftp2_la_SOURCES = \
	src/oftp2/fields.c src/oftp2/fields.h \
	src/oftp2/frame.c \
	src/oftp2/parse.c \
	src/oftp2/build.c \
	src/oftp2/negotiate.c \
	src/oftp2/data.c \
	src/oftp2/data_enc.c \
	src/oftp2/reason.c \
	src/oftp2/deviation.c

# Unit tests of the codec. liboftp2.la first: it needs libsmartproxy's
# buf/err, which SP_CHECK_LIBS brings.
check_PROGRAMS += tests/unit/check_oftp2_cmd
TESTS += tests/unit/check_oftp2_cmd
tests_unit_check_oftp2_cmd_SOURCES = tests/unit/check_oftp2_cmd.c \
	tests/unit/oftp2_samples.h
tests_unit_check_oftp2_cmd_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_oftp2_cmd_LDADD = liboftp2.la $(SP_CHECK_LIBS)

check_PROGRAMS += tests/unit/check_oftp2_data
TESTS += tests/unit/check_oftp2_data
tests_unit_check_oftp2_data_SOURCES = tests/unit/check_oftp2_data.c
tests_unit_check_oftp2_data_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_oftp2_data_LDADD = liboftp2.la $(SP_CHECK_LIBS)

# Fuzz targets: corpus replay in `make check`, libFuzzer with --enable-fuzzing.
EXTRA_DIST += tests/fuzz/corpus/oftp2_frame tests/fuzz/corpus/oftp2_data
check_PROGRAMS += tests/fuzz/fuzz_oftp2_frame tests/fuzz/fuzz_oftp2_data
TESTS += tests/fuzz/fuzz_oftp2_frame tests/fuzz/fuzz_oftp2_data
tests_fuzz_fuzz_oftp2_frame_SOURCES = tests/fuzz/fuzz_oftp2_frame.c \
	$(SP_FUZZ_REPLAY)
tests_fuzz_fuzz_oftp2_frame_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSP_FUZZ_CORPUS=\"$(abs_top_srcdir)/tests/fuzz/corpus/oftp2_frame\"
tests_fuzz_fuzz_oftp2_frame_LDADD = liboftp2.la $(SP_CORE_LIBS)
tests_fuzz_fuzz_oftp2_data_SOURCES = tests/fuzz/fuzz_oftp2_data.c \
	$(SP_FUZZ_REPLAY)
tests_fuzz_fuzz_oftp2_data_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSP_FUZZ_CORPUS=\"$(abs_top_srcdir)/tests/fuzz/corpus/oftp2_data\"
tests_fuzz_fuzz_oftp2_data_LDADD = liboftp2.la $(SP_CORE_LIBS)
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_oftp2_frame_libfuzzer \
	tests/fuzz/fuzz_oftp2_data_libfuzzer
tests_fuzz_fuzz_oftp2_frame_libfuzzer_SOURCES = tests/fuzz/fuzz_oftp2_frame.c
tests_fuzz_fuzz_oftp2_frame_libfuzzer_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_oftp2_frame_libfuzzer_LDADD = liboftp2.la $(SP_CORE_LIBS)
tests_fuzz_fuzz_oftp2_data_libfuzzer_SOURCES = tests/fuzz/fuzz_oftp2_data.c
tests_fuzz_fuzz_oftp2_data_libfuzzer_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_oftp2_data_libfuzzer_LDADD = liboftp2.la $(SP_CORE_LIBS)
endif
