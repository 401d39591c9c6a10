# src/tools: build fragment, included from the top Makefile.am.

# oftp2-peer: OFTP2 endpoint for tests and diagnostics (uses the codec).
bin_PROGRAMS += oftp2-peer
oftp2_peer_SOURCES = \
	src/tools/oftp2-peer/main.c \
	src/tools/oftp2-peer/opts.c src/tools/oftp2-peer/opts.h \
	src/tools/oftp2-peer/msg.c src/tools/oftp2-peer/msg.h \
	src/tools/oftp2-peer/net.c src/tools/oftp2-peer/net.h \
	src/tools/oftp2-peer/conn.c src/tools/oftp2-peer/conn.h \
	src/tools/oftp2-peer/store.c src/tools/oftp2-peer/store.h \
	src/tools/oftp2-peer/trace.c src/tools/oftp2-peer/trace.h \
	src/tools/oftp2-peer/session.c src/tools/oftp2-peer/session.h \
	src/tools/oftp2-peer/io.c \
	src/tools/oftp2-peer/xfer_send.c \
	src/tools/oftp2-peer/xfer_recv.c
oftp2_peer_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS)
oftp2_peer_LDADD = liboftp2.la $(SP_CORE_LIBS) $(GNUTLS_LIBS)
include $(srcdir)/src/tools/smartproxyctl/local.mk
