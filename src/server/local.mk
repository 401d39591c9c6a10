# src/server: build fragment, included from the top Makefile.am.
