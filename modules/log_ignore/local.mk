# modules/log_ignore: build fragment, included from modules/local.mk.
# The log-ignore module (log_ignore.so) and its unit test on the real chain
# engine (tests/unit/mod_drive.h; the test compiles the module's source in).
module_LTLIBRARIES += log_ignore.la
log_ignore_la_SOURCES = modules/log_ignore/log_ignore.c
log_ignore_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) -fvisibility=hidden
log_ignore_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared
log_ignore_la_LIBADD = $(JSONC_LIBS) -lpthread
EXTRA_DIST += modules/log_ignore/README.md

check_PROGRAMS += tests/unit/check_logignore
TESTS += tests/unit/check_logignore
tests_unit_check_logignore_SOURCES = tests/unit/check_logignore.c \
	modules/log_ignore/log_ignore.c $(SP_MOD_DRIVE)
tests_unit_check_logignore_CFLAGS = $(SP_CHECK_CFLAGS) $(JSONC_CFLAGS)
tests_unit_check_logignore_LDADD = $(SP_CHECK_LIBS) -lpthread
