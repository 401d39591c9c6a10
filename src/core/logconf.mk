# src/core: build fragment, included from the top Makefile.am.
# Logging (log*.c) and the bootstrap file reader (yaml.c, bootstrap*.c).
libsmartproxy_la_SOURCES += \
	src/core/log.c src/core/log.h \
	src/core/log_line.c src/core/log_line.h \
	src/core/log_burst.c src/core/log_burst.h \
	src/core/yaml.c src/core/yaml.h \
	src/core/yaml_read.c src/core/yaml_read.h \
	src/core/bootstrap.c src/core/bootstrap.h \
	src/core/bootstrap_conf.c \
	src/core/bootstrap_verify.c src/core/bootstrap_verify.h

check_PROGRAMS += tests/unit/check_log tests/unit/check_bootstrap
TESTS += tests/unit/check_log tests/unit/check_bootstrap
tests_unit_check_log_SOURCES = tests/unit/check_log.c
tests_unit_check_log_CFLAGS = $(SP_CHECK_CFLAGS) $(JSONC_CFLAGS)
tests_unit_check_log_LDADD = $(SP_CHECK_LIBS)
tests_unit_check_bootstrap_SOURCES = tests/unit/check_bootstrap.c
tests_unit_check_bootstrap_CFLAGS = $(SP_CHECK_CFLAGS) \
	-DSP_BOOTSTRAP_DATA=\"$(abs_top_srcdir)/tests/unit/data/bootstrap\" \
	-DSP_TEST_MODDIR=\"$(abs_top_builddir)/tests/unit/modules/$(LT_OBJDIR_NAME)\"
tests_unit_check_bootstrap_LDADD = $(SP_CHECK_LIBS)
# The shared YAML reader (core/yaml_read.h): error lines, key checks, scalars.
check_PROGRAMS += tests/unit/check_yaml_read
TESTS += tests/unit/check_yaml_read
tests_unit_check_yaml_read_SOURCES = tests/unit/check_yaml_read.c
tests_unit_check_yaml_read_CFLAGS = $(SP_CHECK_CFLAGS) $(YAML_CFLAGS)
tests_unit_check_yaml_read_LDADD = $(SP_CHECK_LIBS)
EXTRA_tests_unit_check_bootstrap_DEPENDENCIES = $(SP_TESTMODS)
EXTRA_DIST += tests/unit/data/bootstrap

# Fuzz target: parse + validate a bootstrap file from memory.
check_PROGRAMS += tests/fuzz/fuzz_bootstrap
TESTS += tests/fuzz/fuzz_bootstrap
tests_fuzz_fuzz_bootstrap_SOURCES = tests/fuzz/fuzz_bootstrap.c $(SP_FUZZ_REPLAY)
tests_fuzz_fuzz_bootstrap_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSP_FUZZ_CORPUS=\"$(abs_top_srcdir)/tests/fuzz/corpus/bootstrap\"
tests_fuzz_fuzz_bootstrap_LDADD = $(SP_CORE_LIBS)
EXTRA_DIST += tests/fuzz/corpus/bootstrap
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_bootstrap_libfuzzer
tests_fuzz_fuzz_bootstrap_libfuzzer_SOURCES = tests/fuzz/fuzz_bootstrap.c
tests_fuzz_fuzz_bootstrap_libfuzzer_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_bootstrap_libfuzzer_LDADD = $(SP_CORE_LIBS)
endif

# The logger's file target under a clock the test sets (a day change read by
# a real fail2ban-server: tests/integration/log_fail2ban.sh).
check_PROGRAMS += tests/integration/log_drive
tests_integration_log_drive_SOURCES = tests/integration/log_drive.c
tests_integration_log_drive_LDADD = $(SP_CORE_LIBS)
