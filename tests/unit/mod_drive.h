/*
 * mod_drive.h - drive a loaded module through the real chain engine
 * (src/server/chain.c) with a recording sink: the module loader's tests
 * (check_module, module_drive of module_out_of_tree.sh) and the process-level
 * modules' tests (check_logignore, check_eventscript).
 *
 * md_host is the engine's own host table. Every line a module logs comes
 * through the engine's tap into md_rec: log lines as "<level> <text>",
 * security lines as "<session> <event>: <text>" (session -1 without one).
 * A struct md_sess is one session whose chain holds only the module under
 * test; what it forwards reaches the sink and is recorded.
 *
 * Not thread-safe; one recorder per process, reset with md_reset().
 * Ownership: the test owns its struct md_sess; md_open() builds its chain,
 * md_close() ends it (every on_close, once) and frees it.
 */
#ifndef SP_TEST_MOD_DRIVE_H
#define SP_TEST_MOD_DRIVE_H

#include <stdbool.h>
#include <stddef.h>

#include <smartproxy/module.h>

#include "server/chain.h"

#define MD_LINES_MAX 64
#define MD_LINE_MAX 256

struct md_record {
	size_t nlog;
	char log[MD_LINES_MAX][MD_LINE_MAX];      /* "<level> <text>" */
	size_t nsecurity;
	char security[MD_LINES_MAX][MD_LINE_MAX]; /* "<session> <event>: <text>" */
	size_t nforward;                          /* writes that reached a leg */
	enum sp_dir forward_dir;
	char forwarded[MD_LINE_MAX];              /* the last one, NUL-terminated */
};

struct md_sess {
	int id;
	char idtext[16];
	bool open;
	struct chain_entry entry;
	struct sp_chain c;
};

#define md_host sp_chain_host
extern struct md_record md_rec;

/* Forget every line; set the engine's tap. Call before init. */
void md_reset(void);
/* Index of the first log line containing `needle`, or -1. */
int md_log_find(const char *needle);

/* Open session `id` (on_open, then on_tls of a plain leg if it goes on):
 * returns the module's on_open verdict. */
enum sp_verdict md_open(struct md_sess *s, int id, const struct sp_module *desc, void *mctx,
    enum sp_mode mode, const struct sp_peer *peer);
/* Bytes read from the source leg of `dir`; the module's verdict. */
enum sp_verdict md_data(struct md_sess *s, enum sp_dir dir, const void *p, size_t n);
/* The core ends the session (if the chain has not) and frees the chain. */
void md_close(struct md_sess *s, const char *reason);

#endif
