# src/tools: build fragment, included from the top Makefile.am.
