/*
 * connlimit.c - example smartproxy module: at most `max_per_address`
 * concurrent sessions per source address (default 4).
 *
 * This is the file to copy when you start a module of your own. It shows the
 * whole shape: one exported descriptor, init/fini for process state, options
 * from the bootstrap file, a per-session context the core allocates, a
 * verdict from on_open, and on_close undoing what on_open did. It includes
 * nothing of smartproxy but <smartproxy/module.h>.
 *
 * Bootstrap entry:
 *   modules:
 *     - name: connlimit
 *       options: { max_per_address: "8" }
 *
 * Ownership: the table and its entries belong to the module (struct
 * connlimit, freed in fini). An entry lives while at least one session from
 * its address is counted; the session context (struct connlimit_sess, owned
 * by the core) points at it from on_open to on_close.
 *
 * Threads: sessions of different worker threads share the table, so a mutex
 * guards it. It is held for a hash lookup only, never across a host call.
 */
#include <smartproxy/module.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CONNLIMIT_DEFAULT 4
#define CONNLIMIT_MAX 1000000
#define CONNLIMIT_BUCKETS 1024          /* power of two */
#define CONNLIMIT_ADDR_MAX 64           /* longer than any numeric IPv6 address */

struct connlimit_entry {
	struct connlimit_entry *next;
	unsigned count;
	char addr[CONNLIMIT_ADDR_MAX];
};

struct connlimit {
	const struct sp_host *host;
	enum sp_mode mode;
	unsigned max_per_address;
	pthread_mutex_t lock;
	struct connlimit_entry *bucket[CONNLIMIT_BUCKETS];
};

/* Per session: the entry this session counts in, or NULL if it was refused. */
struct connlimit_sess {
	struct connlimit_entry *counted;
};

/* FNV-1a: cheap; chains stay short, entries exist only while sessions are open. */
static unsigned
connlimit_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h & (CONNLIMIT_BUCKETS - 1);
}

/* Parse a decimal in [1, CONNLIMIT_MAX]; 0 on success. */
static int
connlimit_parse_uint(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > CONNLIMIT_MAX)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int
connlimit_init(const struct sp_host *host, const struct sp_module_args *args,
    void **mctx)
{
	struct connlimit *cl;
	const char *const *o;

	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return -ENOMEM;
	cl->host = host;
	cl->mode = args->mode;
	cl->max_per_address = CONNLIMIT_DEFAULT;

	/* Options are key, value pairs; refuse what we do not know, so typos show. */
	for (o = args->options; o[0] != NULL; o += 2) {
		if (o[1] == NULL || strcmp(o[0], "max_per_address") != 0 ||
		    connlimit_parse_uint(o[1], &cl->max_per_address) != 0) {
			host->log(NULL, SP_LEVEL_ERR,
			    "%s: bad option '%s' (known: max_per_address = 1..%u)",
			    args->name, o[0], CONNLIMIT_MAX);
			free(cl);
			return -EINVAL;
		}
	}
	if (pthread_mutex_init(&cl->lock, NULL) != 0) {
		free(cl);
		return -ENOMEM;
	}
	host->log(NULL, SP_LEVEL_INFO, "%s: at most %u sessions per address%s",
	    args->name, cl->max_per_address,
	    cl->mode == SP_MODE_DETECT ? " (detect only)" : "");
	*mctx = cl;
	return 0;
}

static void
connlimit_fini(void *mctx)
{
	struct connlimit *cl = mctx;
	struct connlimit_entry *e, *next;
	size_t i;

	/* Every session has closed by now, but free whatever is left anyway. */
	for (i = 0; i < CONNLIMIT_BUCKETS; i++) {
		for (e = cl->bucket[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	pthread_mutex_destroy(&cl->lock);
	free(cl);
}

static enum sp_verdict
connlimit_open(void *mctx, struct sp_msess *ms, void *sctx,
    const struct sp_peer *peer)
{
	struct connlimit *cl = mctx;
	struct connlimit_sess *s = sctx;
	struct connlimit_entry *e;
	unsigned h, open_now = 0;
	int over = 0, nomem = 0;

	/* peer is valid only during this call: the entry keeps its own copy. */
	if (strlen(peer->addr) >= CONNLIMIT_ADDR_MAX)
		return SP_FAIL;
	h = connlimit_hash(peer->addr);

	pthread_mutex_lock(&cl->lock);
	for (e = cl->bucket[h]; e != NULL; e = e->next)
		if (strcmp(e->addr, peer->addr) == 0)
			break;
	if (e != NULL && e->count >= cl->max_per_address) {
		over = 1;
		open_now = e->count;
	}
	if (!over || cl->mode == SP_MODE_DETECT) {
		if (e == NULL && (e = calloc(1, sizeof(*e))) != NULL) {
			strcpy(e->addr, peer->addr);
			e->next = cl->bucket[h];
			cl->bucket[h] = e;
		}
		if (e != NULL) {
			e->count++;
			s->counted = e;
		} else
			nomem = 1;
	}
	pthread_mutex_unlock(&cl->lock);

	/* Host calls after the unlock: they may log, and logging may take time. */
	if (nomem)
		return SP_FAIL;   /* the configured failure policy decides */
	if (!over)
		return SP_CONTINUE;
	cl->host->security(ms, "rate_limited",
	    "%u sessions open from this address, max_per_address %u%s",
	    open_now, cl->max_per_address,
	    cl->mode == SP_MODE_DETECT ? " (detect mode: let through)" : "");
	/* In detect mode the session was counted and goes on. */
	return cl->mode == SP_MODE_DETECT ? SP_CONTINUE : SP_REJECT;
}

/* Runs once for every on_open, rejected ones included: only undo a count. */
static void
connlimit_close(void *mctx, struct sp_msess *ms, void *sctx,
    const struct sp_close *info)
{
	struct connlimit *cl = mctx;
	struct connlimit_sess *s = sctx;
	struct connlimit_entry *e = s->counted, **pp;

	if (e == NULL)
		return;
	s->counted = NULL;
	pthread_mutex_lock(&cl->lock);
	if (--e->count == 0) {
		for (pp = &cl->bucket[connlimit_hash(e->addr)]; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == e) {
				*pp = e->next;
				break;
			}
		}
		free(e);
	}
	pthread_mutex_unlock(&cl->lock);
}

/*
 * The one exported symbol. SP_MODULE_HEADER stamps the magic, the ABI version
 * of the header you compile against, and the struct size. The name must match
 * the `name:` of the bootstrap entry. Callbacks left out are NULL: not
 * interested (bytes pass through unchanged).
 */
__attribute__((visibility("default")))
const struct sp_module sp_module_v1 = {
	SP_MODULE_HEADER,
	.name = "connlimit",
	.version = "1.0",
	.session_ctx_size = sizeof(struct connlimit_sess),
	.init = connlimit_init,
	.fini = connlimit_fini,
	.on_open = connlimit_open,
	.on_close = connlimit_close,
};
