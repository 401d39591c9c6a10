# src/core/modules.mk: build fragment, included from the top Makefile.am.
# The module loader, the installed module ABI header, the example module
# (modules/example-connlimit, also built out of tree by its own Makefile in
# tests/integration/module_out_of_tree.sh) and the loader's tests.

libsmartproxy_la_SOURCES += src/core/module.c src/core/module.h
smartproxyinclude_HEADERS += include/smartproxy/module.h

# The example module, installed into $(moduledir) like any module.
module_LTLIBRARIES += connlimit.la
connlimit_la_SOURCES = modules/example-connlimit/connlimit.c
connlimit_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
connlimit_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared
EXTRA_DIST += modules/example-connlimit/Makefile modules/example-connlimit/README.md

# Test modules: tests/unit/modules/testmod.c once per variant, as real
# dlopen()able objects (-rpath makes libtool build them shared).
SP_TESTMOD_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared -rpath /nowhere
SP_TESTMOD_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
SP_TESTMODS = \
	tests/unit/modules/good.la tests/unit/modules/good_b.la \
	tests/unit/modules/bad_magic.la tests/unit/modules/bad_major.la \
	tests/unit/modules/newer_minor.la tests/unit/modules/no_symbol.la \
	tests/unit/modules/small_struct.la tests/unit/modules/init_fail.la
check_LTLIBRARIES += $(SP_TESTMODS)
tests_unit_modules_good_la_SOURCES = tests/unit/modules/testmod.c
tests_unit_modules_good_la_CPPFLAGS = $(AM_CPPFLAGS) -DTESTMOD_NAME=\"good\"
tests_unit_modules_good_la_CFLAGS = $(SP_TESTMOD_CFLAGS)
tests_unit_modules_good_la_LDFLAGS = $(SP_TESTMOD_LDFLAGS)
tests_unit_modules_good_b_la_SOURCES = tests/unit/modules/testmod.c
tests_unit_modules_good_b_la_CPPFLAGS = $(AM_CPPFLAGS) -DTESTMOD_NAME=\"good_b\"
tests_unit_modules_good_b_la_CFLAGS = $(SP_TESTMOD_CFLAGS)
tests_unit_modules_good_b_la_LDFLAGS = $(SP_TESTMOD_LDFLAGS)
tests_unit_modules_bad_magic_la_SOURCES = tests/unit/modules/testmod.c
tests_unit_modules_bad_magic_la_CPPFLAGS = $(AM_CPPFLAGS) -DTESTMOD_NAME=\"bad_magic\" -DTESTMOD_BAD_MAGIC
tests_unit_modules_bad_magic_la_CFLAGS = $(SP_TESTMOD_CFLAGS)
tests_unit_modules_bad_magic_la_LDFLAGS = $(SP_TESTMOD_LDFLAGS)
tests_unit_modules_bad_major_la_SOURCES = tests/unit/modules/testmod.c
tests_unit_modules_bad_major_la_CPPFLAGS = $(AM_CPPFLAGS) -DTESTMOD_NAME=\"bad_major\" -DTESTMOD_BAD_MAJOR
tests_unit_modules_bad_major_la_CFLAGS = $(SP_TESTMOD_CFLAGS)
tests_unit_modules_bad_major_la_LDFLAGS = $(SP_TESTMOD_LDFLAGS)
tests_unit_modules_newer_minor_la_SOURCES = tests/unit/modules/testmod.c
tests_unit_modules_newer_minor_la_CPPFLAGS = $(AM_CPPFLAGS) -DTESTMOD_NAME=\"newer_minor\" -DTESTMOD_NEWER_MINOR
tests_unit_modules_newer_minor_la_CFLAGS = $(SP_TESTMOD_CFLAGS)
tests_unit_modules_newer_minor_la_LDFLAGS = $(SP_TESTMOD_LDFLAGS)
tests_unit_modules_no_symbol_la_SOURCES = tests/unit/modules/testmod.c
tests_unit_modules_no_symbol_la_CPPFLAGS = $(AM_CPPFLAGS) -DTESTMOD_NAME=\"no_symbol\" -DTESTMOD_NO_SYMBOL
tests_unit_modules_no_symbol_la_CFLAGS = $(SP_TESTMOD_CFLAGS)
tests_unit_modules_no_symbol_la_LDFLAGS = $(SP_TESTMOD_LDFLAGS)
tests_unit_modules_small_struct_la_SOURCES = tests/unit/modules/testmod.c
tests_unit_modules_small_struct_la_CPPFLAGS = $(AM_CPPFLAGS) -DTESTMOD_NAME=\"small_struct\" -DTESTMOD_SMALL_STRUCT
tests_unit_modules_small_struct_la_CFLAGS = $(SP_TESTMOD_CFLAGS)
tests_unit_modules_small_struct_la_LDFLAGS = $(SP_TESTMOD_LDFLAGS)
tests_unit_modules_init_fail_la_SOURCES = tests/unit/modules/testmod.c
tests_unit_modules_init_fail_la_CPPFLAGS = $(AM_CPPFLAGS) -DTESTMOD_NAME=\"init_fail\" -DTESTMOD_INIT_FAIL
tests_unit_modules_init_fail_la_CFLAGS = $(SP_TESTMOD_CFLAGS)
tests_unit_modules_init_fail_la_LDFLAGS = $(SP_TESTMOD_LDFLAGS)

# Modules under test run on the real chain engine with a recording sink.
SP_MOD_DRIVE = tests/unit/mod_drive.c tests/unit/mod_drive.h src/server/chain.c src/server/chain.h

check_PROGRAMS += tests/unit/check_module
TESTS += tests/unit/check_module
tests_unit_check_module_SOURCES = tests/unit/check_module.c $(SP_MOD_DRIVE)
tests_unit_check_module_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSP_TEST_MODDIR=\"$(abs_top_builddir)/tests/unit/modules/$(LT_OBJDIR_NAME)\" \
	-DSP_CONNLIMIT_SO=\"$(abs_top_builddir)/$(LT_OBJDIR_NAME)/connlimit.so\" \
	-DSP_TOP_SRCDIR=\"$(abs_top_srcdir)\"
tests_unit_check_module_CFLAGS = $(SP_CHECK_CFLAGS)
tests_unit_check_module_LDADD = $(SP_CHECK_LIBS)
EXTRA_tests_unit_check_module_DEPENDENCIES = $(SP_TESTMODS) connlimit.la

# Driver of tests/integration/module_out_of_tree.sh (not a test by itself).
check_PROGRAMS += tests/integration/module_drive
tests_integration_module_drive_SOURCES = tests/integration/module_drive.c $(SP_MOD_DRIVE)
tests_integration_module_drive_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_integration_module_drive_CFLAGS = $(AM_CFLAGS)
tests_integration_module_drive_LDADD = $(SP_CORE_LIBS)

# libtool's directory for built shared objects.
LT_OBJDIR_NAME = .libs
