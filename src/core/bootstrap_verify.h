/*
 * bootstrap_verify.h - the verify hooks of the bootstrap schemas (see
 * bootstrap_verify.c): users, directories, files and modes, module ABI.
 * Each takes the decoded section and reports through sp_bs_fail().
 */
#ifndef SP_BOOTSTRAP_VERIFY_H
#define SP_BOOTSTRAP_VERIFY_H

#include "core/bootstrap.h"

/*
 * For other programs' verify hooks: `path` (named by key `rel`) is a
 * readable regular file / a directory, not writable by everyone; a `secret`
 * file not readable by everyone either. 0 or SP_ERR_CONFIG (reported).
 */
int sp_bsv_file(struct sp_bs_ctx *ctx, const char *rel, const char *path,
    bool secret);
int sp_bsv_dir(struct sp_bs_ctx *ctx, const char *rel, const char *path);

int sp_bsv_log_target(void *obj, struct sp_bs_ctx *ctx);
int sp_bsv_module(void *obj, struct sp_bs_ctx *ctx);
int sp_bsv_server(void *obj, struct sp_bs_ctx *ctx);
int sp_bsv_client(void *obj, struct sp_bs_ctx *ctx);

#endif
