# src/core: build fragment, included from the top Makefile.am.
