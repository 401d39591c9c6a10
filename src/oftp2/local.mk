# src/oftp2: the OFTP2 codec (framing, commands, negotiation, DATA buffers).
# liboftp2.la is a convenience library WITHOUT the core base objects
# (buf.c, err.c): programs get those from libsmartproxy.la, and a shared
# module links liboftp2.la together with them.
smartproxyinclude_HEADERS += include/smartproxy/oftp2.h
noinst_HEADERS += src/oftp2/codec.h
