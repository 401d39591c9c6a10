# smartproxy-client: the inside daemon.
sbin_PROGRAMS += smartproxy-client
smartproxy_client_SOURCES = \
	src/client/main.c src/client/sig.c src/client/client.h \
	src/client/control.c src/client/backend.c src/client/pipe.c \
	src/client/routes.c src/client/warm.c src/client/dmz.c src/client/heartbeat.c \
	src/client/crl.c src/client/keyless.c
smartproxy_client_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS) $(JSONC_CFLAGS) $(CURL_CFLAGS)
# libspapi: the DMZ surface and the body validators the api runs (dmz.c).
smartproxy_client_LDADD = libspapi.la $(SP_CORE_LIBS) $(CURL_LIBS)
