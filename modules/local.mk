# modules: build fragment, included from the top Makefile.am.
include $(srcdir)/modules/log_ignore/local.mk
include $(srcdir)/modules/event_script/local.mk
include $(srcdir)/modules/partner/local.mk
include $(srcdir)/modules/oftp2/local.mk
