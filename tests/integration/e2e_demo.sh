#!/usr/bin/env bash
# e2e_demo.sh - the README's main job as a test: the real backend, server,
# client and oftp2-peer on both sides carry a file through the chain. 16 MiB:
# enough for TLS records to be read across several turns of the loop (a
# stall there once hid below 8 MiB).
export SP_KEEP_TMP=0 DEMO_FILE_MIB=16
exec "$SP_TOP_SRCDIR/contrib/demo/run" "$SP_TOP_BUILDDIR"
