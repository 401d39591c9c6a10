# The seccomp filter of the DMZ process (src/core/sandbox.h).
libsmartproxy_la_SOURCES += src/core/sandbox.c src/core/sandbox.h

check_PROGRAMS += tests/unit/check_sandbox
TESTS += tests/unit/check_sandbox
tests_unit_check_sandbox_SOURCES = tests/unit/check_sandbox.c
tests_unit_check_sandbox_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_sandbox_LDADD = $(SP_CHECK_LIBS)
