# man/: build fragment, included from the top Makefile.am.
# Pages are written by hand as roff -man sources (NAME.SECTION.in); make fills
# in the version and the configured paths and installs them with `make install`.
# tests/integration/man_pages.sh renders the installed pages and checks them
# against each program's --help.

SP_MAN_PAGES = \
	man/smartproxy-server.8 \
	man/smartproxy-client.8 \
	man/smartproxy-api.8 \
	man/smartproxyctl.1 \
	man/oftp2-peer.1 \
	man/smartproxy-server.yaml.5 \
	man/smartproxy-client.yaml.5 \
	man/smartproxy-api.yaml.5 \
	man/smartproxy-site.yaml.5
man_MANS = $(SP_MAN_PAGES)
EXTRA_DIST += $(SP_MAN_PAGES:=.in)
CLEANFILES += $(SP_MAN_PAGES)

SP_MAN_SUBST = $(AM_V_GEN)$(MKDIR_P) man && sed \
	-e 's|@VERSION[@]|$(VERSION)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@localstatedir[@]|$(localstatedir)|g' \
	-e 's|@moduledir[@]|$(moduledir)|g' \
	-e 's|@pkgdatadir[@]|$(pkgdatadir)|g' \
	-e 's|@SP_DEFAULT_USER[@]|$(SP_DEFAULT_USER)|g' \
	$(srcdir)/$@.in >$@.tmp && mv $@.tmp $@

man/smartproxy-server.8: $(srcdir)/man/smartproxy-server.8.in Makefile
	$(SP_MAN_SUBST)
man/smartproxy-client.8: $(srcdir)/man/smartproxy-client.8.in Makefile
	$(SP_MAN_SUBST)
man/smartproxy-api.8: $(srcdir)/man/smartproxy-api.8.in Makefile
	$(SP_MAN_SUBST)
man/smartproxyctl.1: $(srcdir)/man/smartproxyctl.1.in Makefile
	$(SP_MAN_SUBST)
man/oftp2-peer.1: $(srcdir)/man/oftp2-peer.1.in Makefile
	$(SP_MAN_SUBST)
man/smartproxy-server.yaml.5: $(srcdir)/man/smartproxy-server.yaml.5.in Makefile
	$(SP_MAN_SUBST)
man/smartproxy-client.yaml.5: $(srcdir)/man/smartproxy-client.yaml.5.in Makefile
	$(SP_MAN_SUBST)
man/smartproxy-api.yaml.5: $(srcdir)/man/smartproxy-api.yaml.5.in Makefile
	$(SP_MAN_SUBST)
man/smartproxy-site.yaml.5: $(srcdir)/man/smartproxy-site.yaml.5.in Makefile
	$(SP_MAN_SUBST)
