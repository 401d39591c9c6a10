# src/oftp2: build fragment, included from the top Makefile.am.
