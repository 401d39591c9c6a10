# modules/partner: build fragment, included from modules/local.mk.
# The partner verification module (partner.so), its unit tests on the
# real chain engine, the fuzz target of its configuration parser, and the fail2ban
# filter test. src/api/pwhash.c is compiled in: one PBKDF2 implementation for
# the backend that makes the hashes and the module that checks them; so is
# src/core/crl.c, the one CRL reader.
SP_PARTNER_SOURCES = \
	modules/partner/partner.c modules/partner/partner.h \
	modules/partner/config.c modules/partner/net.c modules/partner/cert.c \
	modules/partner/brake.c modules/partner/counts.c modules/partner/online.c \
	modules/partner/pwcache.c \
	src/api/pwhash.c src/api/pwhash.h \
	src/core/crl.c src/core/crl.h
EXTRA_DIST += modules/partner/README.md
SP_PARTNER_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS) $(JSONC_CFLAGS)
SP_PARTNER_LIBS = $(JSONC_LIBS) $(GNUTLS_LIBS) -lpthread

module_LTLIBRARIES += partner.la
partner_la_SOURCES = $(SP_PARTNER_SOURCES)
partner_la_CFLAGS = $(SP_PARTNER_CFLAGS) -fvisibility=hidden
partner_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared
partner_la_LIBADD = $(SP_PARTNER_LIBS)

# Unit tests: the module's sources compiled in, driven through the real chain
# engine with a recording sink (tests/unit/partner_drive.[ch]).
check_PROGRAMS += tests/unit/check_partner
TESTS += tests/unit/check_partner
tests_unit_check_partner_SOURCES = tests/unit/check_partner.c \
	tests/unit/partner_drive.c tests/unit/partner_drive.h \
	src/server/chain.c src/server/chain.h \
	$(SP_PARTNER_SOURCES)
tests_unit_check_partner_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit \
	-DSP_TOP_SRCDIR=\"$(abs_top_srcdir)\"
tests_unit_check_partner_CFLAGS = $(SP_PARTNER_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_partner_LDADD = $(SP_PARTNER_LIBS) $(SP_CORE_LIBS) $(CHECK_LIBS)
EXTRA_DIST += tests/unit/data/partner

# Fuzz target: the configuration parser (the section comes from outside).
check_PROGRAMS += tests/fuzz/fuzz_partner_config
TESTS += tests/fuzz/fuzz_partner_config
tests_fuzz_fuzz_partner_config_SOURCES = tests/fuzz/fuzz_partner_config.c \
	$(SP_FUZZ_REPLAY) $(SP_PARTNER_SOURCES)
tests_fuzz_fuzz_partner_config_CFLAGS = $(SP_PARTNER_CFLAGS)
tests_fuzz_fuzz_partner_config_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSP_FUZZ_CORPUS=\"$(abs_top_srcdir)/tests/fuzz/corpus/partner_config\"
tests_fuzz_fuzz_partner_config_LDADD = $(SP_PARTNER_LIBS)
EXTRA_DIST += tests/fuzz/corpus/partner_config
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_partner_config_libfuzzer
tests_fuzz_fuzz_partner_config_libfuzzer_SOURCES = tests/fuzz/fuzz_partner_config.c \
	$(SP_PARTNER_SOURCES)
tests_fuzz_fuzz_partner_config_libfuzzer_CFLAGS = $(SP_PARTNER_CFLAGS)
tests_fuzz_fuzz_partner_config_libfuzzer_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_partner_config_libfuzzer_LDADD = $(SP_PARTNER_LIBS)
endif
