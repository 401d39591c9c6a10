# src/api: build fragment, included from the top Makefile.am.
# smartproxy-api, the reference backend (docs/api.md). Its non-daemon parts
# (site file, password hashes, store, rendering, api.yaml) form a small
# convenience library shared by the program, its unit tests and the fuzzer.
SP_API_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS) $(YAML_CFLAGS) $(JSONC_CFLAGS) \
	$(SQLITE_CFLAGS) $(PQ_CFLAGS) $(MHD_CFLAGS)
SP_API_LIBS = libspapi.la $(SP_CORE_LIBS) $(SQLITE_LIBS) $(PQ_LIBS)

noinst_LTLIBRARIES += libspapi.la
libspapi_la_CFLAGS = $(SP_API_CFLAGS)
libspapi_la_SOURCES = \
	src/api/site.c src/api/site.h \
	src/api/partner_rules.c src/api/partner_rules.h \
	src/api/partner_body.c src/api/partner_body.h \
	src/api/pwhash.c src/api/pwhash.h \
	src/api/db.c src/api/db.h src/api/db_int.h src/api/db_sqlite.c \
	src/api/db_pg.c \
	src/api/store.c src/api/store.h src/api/store_int.h \
	src/api/store_crl.c \
	src/api/render.c \
	src/api/export.c src/api/export.h \
	src/api/store_tls.c src/api/pem.c src/api/pem.h \
	src/api/store_blocks.c src/api/blocks.h \
	src/api/conf.c src/api/conf.h \
	src/api/store_ops.c src/api/store_ops.h \
	src/api/store_decide.c src/api/decide.h \
	src/api/store_oftp2.c src/api/oftp2.h src/api/oftp2_switches.c \
	src/api/bodies.c src/api/bodies.h \
	src/api/surface.c src/api/surface.h \
	src/api/users.c src/api/users.h src/api/store_users.c \
	src/api/login_brake.c src/api/login_brake.h \
	src/api/panel_sessions.c src/api/panel_sessions.h

sbin_PROGRAMS += smartproxy-api
smartproxy_api_CFLAGS = $(SP_API_CFLAGS)
smartproxy_api_SOURCES = \
	src/api/main.c src/api/api.h \
	src/api/http.c src/api/guard.c src/api/handlers.c src/api/watch.c \
	src/api/ops.h src/api/events.c src/api/sessions.c src/api/status.c \
	src/api/purge.c src/api/decide.c src/api/listeners.c src/api/blocks.c \
	src/api/oftp2.c src/api/crls.c \
	src/api/panel.c src/api/panel.h src/api/panel_files.c src/api/routes.c
smartproxy_api_CPPFLAGS = $(AM_CPPFLAGS) -DSP_PANEL_DIR=\"$(pkgdatadir)/panel\"
smartproxy_api_LDADD = $(SP_API_LIBS) $(MHD_LIBS) -lpthread

# The admin panel's files (panel.h): plain HTML, JS and CSS, no build step.
paneldir = $(pkgdatadir)/panel
dist_panel_DATA = src/api/panel/index.html src/api/panel/app.js \
	src/api/panel/style.css

# Unit tests.
check_PROGRAMS += tests/unit/check_api_site tests/unit/check_api_store \
	tests/unit/check_api_surface tests/unit/check_api_live
TESTS += tests/unit/check_api_site tests/unit/check_api_store \
	tests/unit/check_api_surface tests/unit/check_api_live
tests_unit_check_api_site_SOURCES = tests/unit/check_api_site.c
tests_unit_check_api_site_CFLAGS = $(SP_API_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_api_site_LDADD = $(SP_API_LIBS) $(CHECK_LIBS)
tests_unit_check_api_store_SOURCES = tests/unit/check_api_store.c
tests_unit_check_api_store_CFLAGS = $(SP_API_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_api_store_LDADD = $(SP_API_LIBS) $(CHECK_LIBS)
check_PROGRAMS += tests/unit/check_api_db
TESTS += tests/unit/check_api_db
tests_unit_check_api_db_SOURCES = tests/unit/check_api_db.c
tests_unit_check_api_db_CFLAGS = $(SP_API_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_api_db_LDADD = $(SP_API_LIBS) $(CHECK_LIBS)
check_PROGRAMS += tests/unit/check_api_users
TESTS += tests/unit/check_api_users
tests_unit_check_api_users_SOURCES = tests/unit/check_api_users.c
tests_unit_check_api_users_CFLAGS = $(SP_API_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_api_users_LDADD = $(SP_API_LIBS) $(CHECK_LIBS)
tests_unit_check_api_surface_SOURCES = tests/unit/check_api_surface.c
tests_unit_check_api_surface_CFLAGS = $(SP_API_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_api_surface_LDADD = $(SP_API_LIBS) $(CHECK_LIBS)
# One set of partner rules: the site file, POST and PUT refuse alike.
check_PROGRAMS += tests/unit/check_api_partner_rules
TESTS += tests/unit/check_api_partner_rules
tests_unit_check_api_partner_rules_SOURCES = tests/unit/check_api_partner_rules.c
tests_unit_check_api_partner_rules_CFLAGS = $(SP_API_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_api_partner_rules_LDADD = $(SP_API_LIBS) $(CHECK_LIBS)
tests_unit_check_api_live_SOURCES = tests/unit/check_api_live.c
tests_unit_check_api_live_CFLAGS = $(SP_API_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_api_live_LDADD = $(SP_API_LIBS) $(CHECK_LIBS)

# The proxy's heartbeat (issue 15): the check of its live part, staleness,
# the live list and GET /metrics.
libspapi_la_SOURCES += src/api/live_body.c
smartproxy_api_SOURCES += src/api/live.c src/api/metrics.c

# Fuzz target: the site-file parser.
check_PROGRAMS += tests/fuzz/fuzz_site
TESTS += tests/fuzz/fuzz_site
tests_fuzz_fuzz_site_SOURCES = tests/fuzz/fuzz_site.c $(SP_FUZZ_REPLAY)
tests_fuzz_fuzz_site_CFLAGS = $(SP_API_CFLAGS)
tests_fuzz_fuzz_site_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSP_FUZZ_CORPUS=\"$(abs_top_srcdir)/tests/fuzz/corpus/site\"
tests_fuzz_fuzz_site_LDADD = $(SP_API_LIBS)
EXTRA_DIST += tests/fuzz/corpus/site
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_site_libfuzzer
tests_fuzz_fuzz_site_libfuzzer_SOURCES = tests/fuzz/fuzz_site.c
tests_fuzz_fuzz_site_libfuzzer_CFLAGS = $(SP_API_CFLAGS)
tests_fuzz_fuzz_site_libfuzzer_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_site_libfuzzer_LDADD = $(SP_API_LIBS)
endif

# Fuzz target: the bodies the proxy posts (events, sessions, status,
# decisions); the first octet of an input picks the endpoint.
check_PROGRAMS += tests/fuzz/fuzz_api_bodies
TESTS += tests/fuzz/fuzz_api_bodies
tests_fuzz_fuzz_api_bodies_SOURCES = tests/fuzz/fuzz_api_bodies.c \
	$(SP_FUZZ_REPLAY)
tests_fuzz_fuzz_api_bodies_CFLAGS = $(SP_API_CFLAGS)
tests_fuzz_fuzz_api_bodies_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSP_FUZZ_CORPUS=\"$(abs_top_srcdir)/tests/fuzz/corpus/api_bodies\"
tests_fuzz_fuzz_api_bodies_LDADD = $(SP_API_LIBS)
EXTRA_DIST += tests/fuzz/corpus/api_bodies
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_api_bodies_libfuzzer
tests_fuzz_fuzz_api_bodies_libfuzzer_SOURCES = tests/fuzz/fuzz_api_bodies.c
tests_fuzz_fuzz_api_bodies_libfuzzer_CFLAGS = $(SP_API_CFLAGS)
tests_fuzz_fuzz_api_bodies_libfuzzer_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_api_bodies_libfuzzer_LDADD = $(SP_API_LIBS)
endif

# Fuzz target: POST and PUT /v1/partners bodies and the partner rules
# (src/api/partner_body.c, partner_rules.c); the first octet picks which.
check_PROGRAMS += tests/fuzz/fuzz_partner_body
TESTS += tests/fuzz/fuzz_partner_body
tests_fuzz_fuzz_partner_body_SOURCES = tests/fuzz/fuzz_partner_body.c \
	$(SP_FUZZ_REPLAY)
tests_fuzz_fuzz_partner_body_CFLAGS = $(SP_API_CFLAGS)
tests_fuzz_fuzz_partner_body_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSP_FUZZ_CORPUS=\"$(abs_top_srcdir)/tests/fuzz/corpus/partner_body\"
tests_fuzz_fuzz_partner_body_LDADD = $(SP_API_LIBS)
EXTRA_DIST += tests/fuzz/corpus/partner_body
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_partner_body_libfuzzer
tests_fuzz_fuzz_partner_body_libfuzzer_SOURCES = tests/fuzz/fuzz_partner_body.c
tests_fuzz_fuzz_partner_body_libfuzzer_CFLAGS = $(SP_API_CFLAGS)
tests_fuzz_fuzz_partner_body_libfuzzer_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_partner_body_libfuzzer_LDADD = $(SP_API_LIBS)
endif

# Fuzz target: the client's check of what the server asks it to send to the
# backend (path and body from the DMZ; src/api/surface.c).
check_PROGRAMS += tests/fuzz/fuzz_dmz_surface
TESTS += tests/fuzz/fuzz_dmz_surface
tests_fuzz_fuzz_dmz_surface_SOURCES = tests/fuzz/fuzz_dmz_surface.c \
	$(SP_FUZZ_REPLAY)
tests_fuzz_fuzz_dmz_surface_CFLAGS = $(SP_API_CFLAGS)
tests_fuzz_fuzz_dmz_surface_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSP_FUZZ_CORPUS=\"$(abs_top_srcdir)/tests/fuzz/corpus/dmz_surface\"
tests_fuzz_fuzz_dmz_surface_LDADD = $(SP_API_LIBS)
EXTRA_DIST += tests/fuzz/corpus/dmz_surface
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_dmz_surface_libfuzzer
tests_fuzz_fuzz_dmz_surface_libfuzzer_SOURCES = tests/fuzz/fuzz_dmz_surface.c
tests_fuzz_fuzz_dmz_surface_libfuzzer_CFLAGS = $(SP_API_CFLAGS)
tests_fuzz_fuzz_dmz_surface_libfuzzer_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_dmz_surface_libfuzzer_LDADD = $(SP_API_LIBS)
endif

# Fuzz target: the panel's parsers of outside bytes (users.c): the Cookie
# header, the session id and the login body; the first octet picks.
check_PROGRAMS += tests/fuzz/fuzz_panel
TESTS += tests/fuzz/fuzz_panel
tests_fuzz_fuzz_panel_SOURCES = tests/fuzz/fuzz_panel.c $(SP_FUZZ_REPLAY)
tests_fuzz_fuzz_panel_CFLAGS = $(SP_API_CFLAGS)
tests_fuzz_fuzz_panel_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSP_FUZZ_CORPUS=\"$(abs_top_srcdir)/tests/fuzz/corpus/panel\"
tests_fuzz_fuzz_panel_LDADD = $(SP_API_LIBS)
EXTRA_DIST += tests/fuzz/corpus/panel
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_panel_libfuzzer
tests_fuzz_fuzz_panel_libfuzzer_SOURCES = tests/fuzz/fuzz_panel.c
tests_fuzz_fuzz_panel_libfuzzer_CFLAGS = $(SP_API_CFLAGS)
tests_fuzz_fuzz_panel_libfuzzer_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_panel_libfuzzer_LDADD = $(SP_API_LIBS)
endif
