/*
 * bootstrap_verify.h - the verify hooks of the bootstrap schemas (see
 * bootstrap_verify.c): users, directories, files and modes, module ABI.
 * Each takes the decoded section and reports through sp_bs_fail().
 */
#ifndef SP_BOOTSTRAP_VERIFY_H
#define SP_BOOTSTRAP_VERIFY_H

#include "core/bootstrap.h"

int sp_bsv_log_target(void *obj, struct sp_bs_ctx *ctx);
int sp_bsv_module(void *obj, struct sp_bs_ctx *ctx);
int sp_bsv_server(void *obj, struct sp_bs_ctx *ctx);
int sp_bsv_client(void *obj, struct sp_bs_ctx *ctx);

#endif
