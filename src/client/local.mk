# src/client: build fragment, included from the top Makefile.am.
