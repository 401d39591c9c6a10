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
	src/oftp2/reason.c

# Unit tests of the codec. liboftp2.la first: it needs libsmartproxy's
# buf/err, which SP_CHECK_LIBS brings.
check_PROGRAMS += tests/unit/check_oftp2_cmd
TESTS += tests/unit/check_oftp2_cmd
tests_unit_check_oftp2_cmd_SOURCES = tests/unit/check_oftp2_cmd.c \
	tests/unit/oftp2_samples.h
tests_unit_check_oftp2_cmd_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_oftp2_cmd_LDADD = liboftp2.la $(SP_CHECK_LIBS)
