# libsmartproxy: the core library every program, test and fuzzer links.
noinst_LTLIBRARIES += libsmartproxy.la
libsmartproxy_la_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS) $(YAML_CFLAGS) $(JSONC_CFLAGS)
libsmartproxy_la_SOURCES = \
	src/core/err.c src/core/err.h \
	src/core/buf.c src/core/buf.h
libsmartproxy_la_SOURCES += \
	src/core/loop.c src/core/loop.h \
	src/core/conn.c src/core/conn.h \
	src/core/net.c src/core/net.h
libsmartproxy_la_SOURCES += src/core/tls.c src/core/tls.h
libsmartproxy_la_SOURCES += src/tunnel/msg.c src/tunnel/msg.h
libsmartproxy_la_SOURCES += src/tunnel/sign.c src/tunnel/sign.h
libsmartproxy_la_SOURCES += src/core/workers.c src/core/workers.h
libsmartproxy_la_LIBADD = -lpthread
libsmartproxy_la_SOURCES += src/core/signals.c src/core/signals.h
libsmartproxy_la_SOURCES += src/core/notify.c src/core/notify.h
