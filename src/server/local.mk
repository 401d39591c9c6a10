# smartproxy-server: the DMZ daemon.
sbin_PROGRAMS += smartproxy-server
smartproxy_server_SOURCES = \
	src/server/main.c src/server/server.h \
	src/server/pairing.c src/server/sig.c src/server/tunnel.c \
	src/server/rtconf.c src/server/listener.c \
	src/server/session.c src/server/session.h \
	src/server/chain.c src/server/chain.h \
	src/server/proxywait.c src/server/admit.c \
	src/server/acceptor.c src/server/acceptor.h
smartproxy_server_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS) $(JSONC_CFLAGS)
smartproxy_server_LDADD = $(SP_CORE_LIBS)
smartproxy_server_SOURCES += src/server/keyless.c
smartproxy_server_SOURCES += src/server/bridge.c src/server/stats.c src/server/stats.h
smartproxy_server_SOURCES += src/server/sloop.c src/server/sloop.h src/server/handoff.c
