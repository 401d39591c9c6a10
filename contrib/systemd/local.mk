# contrib/systemd: build fragment, included from the top Makefile.am.
# Units for the three daemons (paths filled in by make), and the sysusers.d
# and tmpfiles.d entries they rely on; installed by `make install` unless
# configure ran with --without-systemdsystemunitdir.
SP_UNITS = \
	contrib/systemd/smartproxy-server.service \
	contrib/systemd/smartproxy-client.service \
	contrib/systemd/smartproxy-api.service
EXTRA_DIST += $(SP_UNITS:=.in)
CLEANFILES += $(SP_UNITS)
if SYSTEMD_UNITS
systemdsystemunit_DATA = $(SP_UNITS)
sysusersdir = $(prefix)/lib/sysusers.d
tmpfilesdir = $(prefix)/lib/tmpfiles.d
install-data-local: install-sp-sysusers
uninstall-local: uninstall-sp-sysusers
else
noinst_DATA = $(SP_UNITS)
endif

SP_UNIT_SUBST = $(AM_V_GEN)$(MKDIR_P) contrib/systemd && sed \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	$(srcdir)/$@.in >$@.tmp && mv $@.tmp $@
contrib/systemd/smartproxy-server.service: $(srcdir)/contrib/systemd/smartproxy-server.service.in Makefile
	$(SP_UNIT_SUBST)
contrib/systemd/smartproxy-client.service: $(srcdir)/contrib/systemd/smartproxy-client.service.in Makefile
	$(SP_UNIT_SUBST)
contrib/systemd/smartproxy-api.service: $(srcdir)/contrib/systemd/smartproxy-api.service.in Makefile
	$(SP_UNIT_SUBST)

# NAME.sysusers -> sysusers.d/NAME.conf (and the same for tmpfiles.d).
install-sp-sysusers:
	$(MKDIR_P) '$(DESTDIR)$(sysusersdir)' '$(DESTDIR)$(tmpfilesdir)'
	for d in server client api; do \
	  $(INSTALL_DATA) $(srcdir)/contrib/systemd/smartproxy-$$d.sysusers '$(DESTDIR)$(sysusersdir)/smartproxy-'$$d.conf && \
	  $(INSTALL_DATA) $(srcdir)/contrib/systemd/smartproxy-$$d.tmpfiles '$(DESTDIR)$(tmpfilesdir)/smartproxy-'$$d.conf || exit 1; \
	done
uninstall-sp-sysusers:
	for d in server client api; do \
	  rm -f '$(DESTDIR)$(sysusersdir)/smartproxy-'$$d.conf '$(DESTDIR)$(tmpfilesdir)/smartproxy-'$$d.conf; \
	done
.PHONY: install-sp-sysusers uninstall-sp-sysusers
