/*
 * module.h - the module loader: dlopen()s the inspection modules named in
 * the bootstrap file, checks each descriptor against the ABI this binary
 * speaks (include/smartproxy/module.h), runs init() and, at the end, fini().
 *
 * The caller describes the chain as an array of struct sp_module_spec (chain
 * order) so the loader does not depend on the bootstrap reader's struct. A
 * module is refused with ONE line naming the file and the reason, e.g.
 *   /usr/lib/smartproxy/modules/foo.so: ABI major 1, this smartproxy speaks 2 (rebuild the module)
 * and then nothing stays loaded: every module already initialised is
 * finalised again, in reverse order.
 *
 * The loaded chain is an array the relay core walks in order (`mods[i]`):
 * the descriptor, the module's process context, its mode and its name. The
 * descriptor is a copy, zero-filled to the host's struct sp_module, so
 * callbacks appended in a later ABI minor than the module was built with
 * read as NULL: the core may test any member without looking at
 * struct_size.
 *
 * Ownership: sp_modules_load() copies what it keeps from the specs (name,
 * path, mode); options are only read during init() (modules copy what they
 * keep). The `host` table is NOT copied: it must outlive the set. The set
 * owns the descriptor copies, names, paths and dlopen handles;
 * sp_modules_unload() calls fini() in reverse chain order, then dlclose()s
 * and frees everything. Strings inside a descriptor (name, version) point
 * into the module and die with the unload.
 *
 * Threads: load and unload run on one thread, at start (before privileges
 * are dropped) and at exit. The set is read-only in between, so every worker
 * thread may walk it without locks.
 */
#ifndef SP_CORE_MODULE_H
#define SP_CORE_MODULE_H

#include <stddef.h>

#include <smartproxy/module.h>

/* Longest module name ([a-z0-9_]+) the loader accepts. */
#define SP_MODULE_NAME_MAX 64
/* Room for one refusal line. */
#define SP_MODULE_ERR_MAX 512

/*
 * The size of struct sp_module in ABI <major>.0 (2.0 now: the descriptor
 * itself did not change from 1.x). A descriptor must be at least this big;
 * later minors only append members after on_log.
 */
#define SP_MODULE_SIZE_BASE \
	(offsetof(struct sp_module, on_log) + sizeof(((struct sp_module *)0)->on_log))

/* One entry of the chain, as configured. */
struct sp_module_spec {
	const char *name;            /* [a-z0-9_]+, must equal the descriptor's name */
	const char *path;            /* NULL: <moduledir>/<name>.so */
	enum sp_mode mode;
	const char *const *options;  /* NULL-terminated key, value pairs; NULL: none */
};

/* One loaded module. */
struct sp_module_inst {
	const struct sp_module *desc; /* host-sized copy, see above */
	void *mctx;                   /* what init() returned in *mctx */
	enum sp_mode mode;
	const char *name;
	const char *path;             /* the file, for log lines */
	void *dl;                     /* dlopen handle (loader only) */
};

struct sp_module_set {
	struct sp_module_inst *mods;  /* chain order */
	size_t count;
};

/*
 * Load `n` modules in order; `moduledir` NULL means SP_MODULEDIR. On success
 * *out is a new set (count may be 0). On failure *out is NULL, nothing is
 * loaded and `err` holds the line; returns SP_ERR_ABI (descriptor refused),
 * SP_ERR_NOT_FOUND (no such file), SP_ERR_INVALID (bad name, not loadable,
 * duplicate), SP_ERR_CONFIG (init() failed) or SP_ERR_NOMEM.
 */
int sp_modules_load(const struct sp_module_spec *specs, size_t n,
    const char *moduledir, const struct sp_host *host,
    struct sp_module_set **out, char *err, size_t errlen);

/*
 * Open one module and check its descriptor as sp_modules_load() would, then
 * close it again: no init(), nothing stays loaded (--check and the start-up
 * checks). 0 or the codes of sp_modules_load(), the line in `err`.
 */
int sp_module_probe(const struct sp_module_spec *spec, const char *moduledir,
    char *err, size_t errlen);

/* fini() in reverse order, dlclose(), free. NULL is fine. */
void sp_modules_unload(struct sp_module_set *set);

/*
 * Check a descriptor the way the loader does; `file` names it in `err`, and
 * `name` (NULL: any) is the configured name. 0 or SP_ERR_ABI / SP_ERR_INVALID.
 * `size` is how many bytes the symbol has (0: unknown).
 */
int sp_module_check(const struct sp_module *m, size_t size, const char *file,
    const char *name, char *err, size_t errlen);

#endif
