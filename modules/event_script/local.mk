# modules/event_script: build fragment, included from modules/local.mk.
# The event-script bridge (event_script.so): critical records become event
# documents for the backend. Its unit test compiles the source in.
module_LTLIBRARIES += event_script.la
event_script_la_SOURCES = modules/event_script/event_script.c
event_script_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) -fvisibility=hidden
event_script_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared
event_script_la_LIBADD = $(JSONC_LIBS)
EXTRA_DIST += modules/event_script/README.md

check_PROGRAMS += tests/unit/check_eventscript
TESTS += tests/unit/check_eventscript
tests_unit_check_eventscript_SOURCES = tests/unit/check_eventscript.c \
	modules/event_script/event_script.c $(SP_MOD_DRIVE)
tests_unit_check_eventscript_CFLAGS = $(SP_CHECK_CFLAGS) $(JSONC_CFLAGS)
tests_unit_check_eventscript_LDADD = $(SP_CHECK_LIBS)
