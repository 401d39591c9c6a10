# src/tools/smartproxyctl: build fragment, included from src/tools/local.mk.
# smartproxyctl, the command line over the backend API (libcurl, json-c).
bin_PROGRAMS += smartproxyctl
smartproxyctl_SOURCES = \
	src/tools/smartproxyctl/ctl.h \
	src/tools/smartproxyctl/main.c \
	src/tools/smartproxyctl/http.c \
	src/tools/smartproxyctl/commands.c \
	src/tools/smartproxyctl/listeners.c \
	src/tools/smartproxyctl/oftp2.c
smartproxyctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CURL_CFLAGS)
smartproxyctl_LDADD = $(JSONC_LIBS) $(CURL_LIBS)
