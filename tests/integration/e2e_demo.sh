#!/usr/bin/env bash
# e2e_demo.sh - the README's main job as a test: the real backend, server,
# client and oftp2-peer on both sides carry a file through the chain.
export SP_KEEP_TMP=0 DEMO_FILE_MIB=4
exec "$SP_TOP_SRCDIR/contrib/demo/run" "$SP_TOP_BUILDDIR"
