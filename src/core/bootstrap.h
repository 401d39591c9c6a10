/*
 * bootstrap.h - the local bootstrap file (YAML) of each program, validated
 * against a schema and decoded into a plain C struct.
 *
 * Each program declares a schema: a table of keys per section, each with a
 * type (string, path, int with range, bool, host:port, hex string of fixed
 * length, https URL, enum, nested section, sequence of sections), whether it
 * is required and its default. Unknown keys, duplicate keys, wrong types and
 * missing required keys are errors. Decoding writes straight into the
 * program's struct at the offsets the table gives, so a daemon's main only
 * calls sp_server_conf_load() and reads fields.
 *
 * Errors are ONE line, "FILE:LINE: key 'a.b[0].c': what is wrong" (or
 * "FILE: what is wrong" when no line applies), written into the caller's
 * buffer; the function returns SP_ERR_CONFIG (or SP_ERR_NOMEM, SP_ERR_SYSTEM
 * with the reason in the line too). Callers exit with status 2.
 *
 * Bounds: files up to SP_BOOTSTRAP_MAX_SIZE bytes, SP_BOOTSTRAP_MAX_DEPTH
 * nesting levels, SP_BOOTSTRAP_MAX_NODES YAML nodes; no anchors, aliases or
 * tags (see core/yaml.h).
 *
 * Ownership: a decoded struct owns all its strings and arrays; free it with
 * sp_bootstrap_free() (or the typed wrappers). On error nothing is left to
 * free: the struct is zeroed.
 */
#ifndef SP_BOOTSTRAP_H
#define SP_BOOTSTRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"

#define SP_BOOTSTRAP_MAX_SIZE (1024 * 1024)
#define SP_BOOTSTRAP_MAX_DEPTH 16
#define SP_BOOTSTRAP_MAX_NODES 10000
#define SP_BOOTSTRAP_ERR_MAX 512

/* ---- schema ---- */

enum sp_bs_type {
	SP_BS_STRING = 1, /* char *; max length in .max (0: 1024) */
	SP_BS_PATH,       /* char *; absolute path */
	SP_BS_INT,        /* int; range .min .. .max */
	SP_BS_BOOL,       /* bool; true or false */
	SP_BS_ADDR,       /* struct sp_hostport; host:port, [v6]:port */
	SP_BS_HEX,        /* char *; exactly .min hex digits, stored lowercase */
	SP_BS_URL,        /* char *; https://host[:port][/path] */
	SP_BS_ENUM,       /* int; one of .values */
	SP_BS_SECTION,    /* struct embedded at .offset; keys in .section */
	SP_BS_LIST,       /* sequence of mappings: item array pointer at .offset,
	                     size_t count at .count_offset, at most .max items */
	SP_BS_STRMAP      /* char **: free-form mapping of names to strings,
	                     as NULL-terminated key, value, key, value, ...;
	                     at most .max entries (0: 64) */
};

#define SP_BS_REQUIRED 0x1

struct sp_bs_enum {
	const char *name;
	int value;
};

struct sp_bs_ctx;
struct sp_bs_section;

struct sp_bs_key {
	const char *name;
	enum sp_bs_type type;
	unsigned flags;
	size_t offset;
	long long min, max;
	const struct sp_bs_enum *values;       /* ENUM: {NULL} terminated */
	const char *def;                       /* default, decoded as if written */
	const struct sp_bs_section *section;   /* SECTION, LIST */
	size_t count_offset;                   /* LIST */
};

struct sp_bs_section {
	const struct sp_bs_key *keys;          /* {NULL} terminated */
	size_t item_size;                      /* LIST items: sizeof one item */
	/* Before decoding: set values that mean "not given" (optional). */
	void (*init)(void *obj);
	/* After decoding: cross-key rules; report with sp_bs_fail() (optional). */
	int (*finish)(void *obj, struct sp_bs_ctx *ctx);
	/*
	 * Only for sp_bootstrap_load_checked(), after finish: what the values
	 * mean on this host (users, directories, files and their modes, module
	 * ABI); report with sp_bs_fail() (optional). Kept apart from finish so
	 * that a file can be parsed (tests, fuzzers) on a host it is not for.
	 */
	int (*verify)(void *obj, struct sp_bs_ctx *ctx);
};

struct sp_bs_schema {
	const char *name;                      /* "smartproxy-server" */
	const struct sp_bs_section *root;
	size_t size;                           /* sizeof the decoded struct */
};

/*
 * For finish hooks: report an error about `rel`, a key path relative to the
 * section being finished ("dir", "modules[1].name"); the line is that key's
 * line if the file has it, else the section's. Returns SP_ERR_CONFIG.
 */
int sp_bs_fail(struct sp_bs_ctx *ctx, const char *rel, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* For verify hooks: true when `rel` is written in the file (not a default). */
bool sp_bs_given(struct sp_bs_ctx *ctx, const char *rel);

/* For verify hooks: the path of the file being read. */
const char *sp_bs_file(const struct sp_bs_ctx *ctx);

/* ---- generic entry points ---- */

/* Read and decode a file; `out` points at a struct of schema->size bytes. */
int sp_bootstrap_load(const char *path, const struct sp_bs_schema *schema,
    void *out, char *err, size_t errlen);
/*
 * Read, decode and run the verify hooks: what a daemon calls before it opens
 * any socket, and what --check runs. Errors as above.
 */
int sp_bootstrap_load_checked(const char *path,
    const struct sp_bs_schema *schema, void *out, char *err, size_t errlen);
/* Same from memory; `name` stands for the file in error lines. */
int sp_bootstrap_parse(const char *name, const void *data, size_t len,
    const struct sp_bs_schema *schema, void *out, char *err, size_t errlen);
void sp_bootstrap_free(const struct sp_bs_schema *schema, void *obj);

/*
 * --check mode: load `path` with sp_bootstrap_load_checked(); print "ok" on
 * stdout and return 0, or print the error line on stderr and return 2. The
 * caller exits with the result.
 */
int sp_bootstrap_check(const char *path, const struct sp_bs_schema *schema);

/* ---- the programs' files ---- */

struct sp_hostport {
	char *host;       /* name, IPv4, or IPv6 without brackets */
	uint16_t port;
};

struct sp_module_conf {
	char *name;       /* [a-z0-9_]+ */
	char *path;       /* NULL: <moduledir>/<name>.so */
	int mode;         /* enum sp_mode (smartproxy/module.h): enforce, detect */
	char **options;   /* NULL, or NULL-terminated key, value, ... pairs:
	                     what struct sp_module_args.options wants */
};

struct sp_server_conf {
	struct {
		struct sp_hostport listen;
	} tunnel;
	char *state_dir;
	char *pairing_file;
	char *user;
	char *chroot;     /* NULL: no chroot */
	/*
	 * NULL, or the numeric host every partner listener of a revision binds
	 * on instead of the revision's own (several DMZ nodes, one revision).
	 */
	char *partner_host;
	int seccomp;      /* enum sp_sandbox_mode (core/sandbox.h) */
	int drain_timeout; /* s: SIGTERM lets sessions finish this long */
	char *loops;      /* "auto" or 1..64: session loops, one thread each
	                     (src/server/sloop.h) */
	struct sp_module_conf *modules;  /* chain order */
	size_t nmodules;
	struct sp_log_conf logging;
};

struct sp_client_conf {
	struct {
		struct sp_hostport address;
		char *proxy_id;          /* 64 lowercase hex digits */
	} server;
	struct {
		char *url;               /* https://... */
		char *token_file;
		char *ca_file;           /* NULL: system trust store */
		int timeout;             /* seconds */
		int heartbeat;           /* seconds between status reports */
	} backend;
	struct {
		struct sp_hostport address;
	} inside;
	struct {
		int per_minute;          /* signatures per minute per listener;
		                            burst: one second's worth, at least 1 */
		char **keys;             /* NULL, or listener, key source, ...:
		                            a PEM file (0600) or a pkcs11: URL */
	} keyless;
	struct {
		int refresh;             /* seconds between fetches of a CRL; 0: 3600 */
		char *ca_file;           /* for https distribution points; NULL: system */
	} crl;
	char *state_dir;
	int drain_timeout;       /* s: SIGTERM lets sessions finish this long */
	struct sp_log_conf logging;
};

/* The `logging:` section (docs/logging.md), for any program's schema. */
extern const struct sp_bs_section sp_bs_logging_section;

extern const struct sp_bs_schema sp_server_schema;
extern const struct sp_bs_schema sp_client_schema;

/* Parse only; a daemon about to start calls sp_bootstrap_load_checked(). */
static inline int
sp_server_conf_load(const char *path, struct sp_server_conf *c, char *err,
    size_t errlen)
{
	return sp_bootstrap_load(path, &sp_server_schema, c, err, errlen);
}

static inline void
sp_server_conf_free(struct sp_server_conf *c)
{
	sp_bootstrap_free(&sp_server_schema, c);
}

/* Parse only; a daemon about to start calls sp_bootstrap_load_checked(). */
static inline int
sp_client_conf_load(const char *path, struct sp_client_conf *c, char *err,
    size_t errlen)
{
	return sp_bootstrap_load(path, &sp_client_schema, c, err, errlen);
}

static inline void
sp_client_conf_free(struct sp_client_conf *c)
{
	sp_bootstrap_free(&sp_client_schema, c);
}

#endif
