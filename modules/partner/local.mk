# modules/partner: build fragment, included from modules/local.mk.
# The partner verification module (partner.so), its unit tests through a
# fake host, the fuzz target of its configuration parser, and the fail2ban
# filter test. src/api/pwhash.c is compiled in: one PBKDF2 implementation for
# the backend that makes the hashes and the module that checks them.
SP_PARTNER_SOURCES = \
	modules/partner/partner.c modules/partner/partner.h \
	modules/partner/config.c modules/partner/net.c modules/partner/cert.c \
	modules/partner/brake.c modules/partner/counts.c \
	src/api/pwhash.c src/api/pwhash.h
SP_PARTNER_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS) $(JSONC_CFLAGS)
SP_PARTNER_LIBS = $(JSONC_LIBS) $(GNUTLS_LIBS) -lpthread

module_LTLIBRARIES += partner.la
partner_la_SOURCES = $(SP_PARTNER_SOURCES)
partner_la_CFLAGS = $(SP_PARTNER_CFLAGS) -fvisibility=hidden
partner_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared
partner_la_LIBADD = $(SP_PARTNER_LIBS)

# Unit tests: the module's sources compiled in, driven through a recording host.
check_PROGRAMS += tests/unit/check_partner
TESTS += tests/unit/check_partner
tests_unit_check_partner_SOURCES = tests/unit/check_partner.c \
	tests/unit/partner_host.c tests/unit/partner_host.h \
	$(SP_PARTNER_SOURCES)
tests_unit_check_partner_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit \
	-DSP_TOP_SRCDIR=\"$(abs_top_srcdir)\"
tests_unit_check_partner_CFLAGS = $(SP_PARTNER_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_partner_LDADD = $(SP_PARTNER_LIBS) $(CHECK_LIBS)
EXTRA_DIST += tests/unit/data/partner
