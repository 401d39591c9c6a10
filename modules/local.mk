# modules: build fragment, included from the top Makefile.am.
include $(srcdir)/modules/log_ignore/local.mk
include $(srcdir)/modules/event_script/local.mk
include $(srcdir)/modules/partner/local.mk
include $(srcdir)/modules/oftp2/local.mk

# Modules are dlopen()ed by path: libtool's .la files would serve nobody once
# installed (and distributions remove them anyway).
install-data-hook: sp-remove-module-la
sp-remove-module-la:
	rm -f '$(DESTDIR)$(moduledir)'/*.la
.PHONY: sp-remove-module-la
