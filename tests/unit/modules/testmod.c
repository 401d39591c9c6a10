/*
 * testmod.c - the modules check_module loads. One source, built once per
 * variant with -DTESTMOD_<VARIANT> (see src/core/modules.mk):
 *   good, good_b  a well-formed module; traces init/fini through host->log
 *   BAD_MAGIC     descriptor magic is wrong
 *   BAD_MAJOR     ABI major + 1
 *   NEWER_MINOR   ABI minor + 1 (a module from a newer smartproxy)
 *   NO_SYMBOL     exports its descriptor as sp_module_v0, not SP_MODULE_SYMBOL
 *   SMALL_STRUCT  struct_size smaller than the ABI 1.0 descriptor
 *   INIT_FAIL     init() returns -22
 * Uses only <smartproxy/module.h>, like any third-party module.
 */
#include <smartproxy/module.h>

#include <stdlib.h>
#include <string.h>

#ifndef TESTMOD_NAME
#define TESTMOD_NAME "good"
#endif

/* Process context: counts hook calls so the test can see they are ours. */
struct testmod {
	const struct sp_host *host;
	unsigned opens, closes;
};

struct testmod_sess {
	unsigned open_seq;
};

#ifdef TESTMOD_INIT_FAIL
static int
testmod_init(const struct sp_host *host, const struct sp_module_args *args,
    void **mctx)
{
	host->log(NULL, SP_LEVEL_ERR, "init %s refuses", args->name);
	return -22;
}
#else
static int
testmod_init(const struct sp_host *host, const struct sp_module_args *args,
    void **mctx)
{
	struct testmod *t;
	const char *const *o;
	char opts[256] = "";

	for (o = args->options; o[0] != NULL && o[1] != NULL; o += 2) {
		strncat(opts, o[0], sizeof(opts) - strlen(opts) - 1);
		strncat(opts, "=", sizeof(opts) - strlen(opts) - 1);
		strncat(opts, o[1], sizeof(opts) - strlen(opts) - 1);
		strncat(opts, ";", sizeof(opts) - strlen(opts) - 1);
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -12;
	t->host = host;
	host->log(NULL, SP_LEVEL_INFO, "init %s abi=%u.%u host=%p mode=%d opts=%s",
	    args->name, (unsigned)host->abi_major, (unsigned)host->abi_minor,
	    (const void *)host, (int)args->mode, opts);
	*mctx = t;
	return 0;
}
#endif

static void
testmod_fini(void *mctx)
{
	struct testmod *t = mctx;

	t->host->log(NULL, SP_LEVEL_INFO, "fini %s opens=%u closes=%u",
	    TESTMOD_NAME, t->opens, t->closes);
	free(t);
}

static enum sp_verdict
testmod_open(void *mctx, struct sp_msess *ms, void *sctx,
    const struct sp_peer *peer)
{
	struct testmod *t = mctx;
	struct testmod_sess *s = sctx;

	s->open_seq = ++t->opens;
	t->host->log(ms, SP_LEVEL_DEBUG, "open %s seq=%u", peer->addr, s->open_seq);
	return SP_CONTINUE;
}

/* Echo every span back the other way, so a test sees forward() called. */
static enum sp_verdict
testmod_data(void *mctx, struct sp_msess *ms, void *sctx, enum sp_dir dir,
    const uint8_t *p, size_t n)
{
	struct testmod *t = mctx;

	if (t->host->forward(ms, dir, p, n) != 0)
		return SP_FAIL;
	return SP_CONTINUE;
}

static void
testmod_close(void *mctx, struct sp_msess *ms, void *sctx,
    const struct sp_close *info)
{
	struct testmod *t = mctx;

	t->closes++;
	t->host->log(ms, SP_LEVEL_DEBUG, "close %s", info->reason);
}

/* The broken variants spell the header out; the good one uses the macro. */
#if defined(TESTMOD_BAD_MAGIC) || defined(TESTMOD_BAD_MAJOR) || \
    defined(TESTMOD_NEWER_MINOR) || defined(TESTMOD_SMALL_STRUCT)
#define TM_MAGIC SP_MODULE_MAGIC
#define TM_MAJOR SP_MODULE_ABI_MAJOR
#define TM_MINOR SP_MODULE_ABI_MINOR
#define TM_SIZE sizeof(struct sp_module)
#if defined(TESTMOD_BAD_MAGIC)
#undef TM_MAGIC
#define TM_MAGIC 0x464f4f21u
#elif defined(TESTMOD_BAD_MAJOR)
#undef TM_MAJOR
#define TM_MAJOR (SP_MODULE_ABI_MAJOR + 1)
#elif defined(TESTMOD_NEWER_MINOR)
#undef TM_MINOR
#define TM_MINOR (SP_MODULE_ABI_MINOR + 1)
#else
#undef TM_SIZE
#define TM_SIZE 16
#endif
#define TM_HEADER .magic = TM_MAGIC, .abi_major = TM_MAJOR, \
	.abi_minor = TM_MINOR, .struct_size = TM_SIZE
#else
#define TM_HEADER SP_MODULE_HEADER
#endif

/* NO_SYMBOL exports its descriptor under a name the loader does not look for. */
#ifdef TESTMOD_NO_SYMBOL
#define TM_SYMBOL sp_module_v0
#else
#define TM_SYMBOL sp_module_v1
#endif

__attribute__((visibility("default")))
const struct sp_module TM_SYMBOL = {
	TM_HEADER,
	.name = TESTMOD_NAME,
	.version = "0.0.1",
	.session_ctx_size = sizeof(struct testmod_sess),
	.init = testmod_init,
	.fini = testmod_fini,
	.on_open = testmod_open,
	.on_data = testmod_data,
	.on_close = testmod_close,
};
