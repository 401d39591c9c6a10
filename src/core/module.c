/*
 * module.c - the module loader (see module.h for the contract and who owns
 * what).
 */
#include "core/module.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"

#ifndef SP_MODULEDIR
#error "SP_MODULEDIR must come from the build (-DSP_MODULEDIR=...)"
#endif

/* The descriptor header every ABI shares: magic, major, minor, size. */
#define SP_MODULE_HEADER_SIZE \
	(offsetof(struct sp_module, struct_size) + sizeof(uint32_t))

static const char *const no_options[] = { NULL };

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static int
name_ok(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0')
		return 0;
	for (i = 0; name[i] != '\0'; i++) {
		if (i >= SP_MODULE_NAME_MAX)
			return 0;
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return 0;
	}
	return 1;
}

int
sp_module_check(const struct sp_module *m, size_t size, const char *file,
    const char *name, char *err, size_t errlen)
{
	/* The header is read before we know how big the object is. */
	if (size != 0 && size < SP_MODULE_HEADER_SIZE)
		return fail(err, errlen, SP_ERR_ABI,
		    "%s: symbol %s has %zu bytes, too small for a module descriptor",
		    file, SP_MODULE_SYMBOL, size);
	if (m->magic != SP_MODULE_MAGIC)
		return fail(err, errlen, SP_ERR_ABI,
		    "%s: bad magic 0x%08x in %s, expected 0x%08x (not a smartproxy module)",
		    file, (unsigned)m->magic, SP_MODULE_SYMBOL,
		    (unsigned)SP_MODULE_MAGIC);
	if (m->abi_major != SP_MODULE_ABI_MAJOR)
		return fail(err, errlen, SP_ERR_ABI,
		    "%s: ABI major %u, this smartproxy speaks %u (rebuild the module)",
		    file, (unsigned)m->abi_major, (unsigned)SP_MODULE_ABI_MAJOR);
	if (m->abi_minor > SP_MODULE_ABI_MINOR)
		return fail(err, errlen, SP_ERR_ABI,
		    "%s: ABI %u.%u is newer than this smartproxy's %u.%u "
		    "(upgrade smartproxy or build the module against its header)",
		    file, (unsigned)m->abi_major, (unsigned)m->abi_minor,
		    (unsigned)SP_MODULE_ABI_MAJOR, (unsigned)SP_MODULE_ABI_MINOR);
	if (m->struct_size < SP_MODULE_SIZE_BASE)
		return fail(err, errlen, SP_ERR_ABI,
		    "%s: descriptor struct_size %u, ABI %u.0 needs at least %zu "
		    "(corrupt descriptor: use SP_MODULE_HEADER)",
		    file, (unsigned)m->struct_size, (unsigned)SP_MODULE_ABI_MAJOR,
		    (size_t)SP_MODULE_SIZE_BASE);
	/* A descriptor claiming more than its symbol holds would make us read past it. */
	if (size != 0 && size < m->struct_size)
		return fail(err, errlen, SP_ERR_ABI,
		    "%s: descriptor struct_size %u, but symbol %s has only %zu bytes",
		    file, (unsigned)m->struct_size, SP_MODULE_SYMBOL, size);
	if (m->name == NULL || m->name[0] == '\0')
		return fail(err, errlen, SP_ERR_ABI,
		    "%s: descriptor has no module name", file);
	if (name != NULL && strcmp(m->name, name) != 0)
		return fail(err, errlen, SP_ERR_INVALID,
		    "%s: module calls itself '%.64s', configured as '%s'",
		    file, m->name, name);
	return SP_OK;
}

/* dlerror() usually starts with the file name; do not say it twice. */
static const char *
strip_file(const char *msg, const char *file)
{
	size_t n = strlen(file);

	if (msg == NULL)
		return "unknown dlopen error";
	if (strncmp(msg, file, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
		return msg + n + 2;
	return msg;
}

/*
 * How many bytes the symbol at `sym` has, 0 if unknown; and whether it lives
 * in `dl` itself rather than in a library the module pulled in.
 */
static size_t
symbol_size(void *dl, const void *sym, int *own)
{
	Dl_info info;
	const ElfW(Sym) *es = NULL;
	struct link_map *mine = NULL, *where = NULL;

	*own = 1;
	if (dladdr1(sym, &info, (void **)&es, RTLD_DL_SYMENT) == 0 || es == NULL)
		return 0;
	if (dlinfo(dl, RTLD_DI_LINKMAP, &mine) == 0 &&
	    dladdr1(sym, &info, (void **)&where, RTLD_DL_LINKMAP) != 0 &&
	    mine != NULL && where != NULL && mine != where)
		*own = 0;
	return (size_t)es->st_size;
}

static void
inst_free(struct sp_module_inst *mi)
{
	if (mi->dl != NULL)
		dlclose(mi->dl);
	free((void *)mi->desc);
	free((void *)mi->name);
	free((void *)mi->path);
	memset(mi, 0, sizeof(*mi));
}

static int
make_path(const struct sp_module_spec *spec, const char *moduledir, char **out,
    char *err, size_t errlen)
{
	int n;

	if (spec->path != NULL)
		*out = strdup(spec->path);
	else {
		/* name_ok() already ruled out '/' and "..": the file stays in moduledir. */
		n = asprintf(out, "%s/%s.so", moduledir, spec->name);
		if (n < 0)
			*out = NULL;
	}
	if (*out == NULL)
		return fail(err, errlen, SP_ERR_NOMEM, "%s: out of memory",
		    spec->name);
	return SP_OK;
}

/* Open, check and copy one module's descriptor; no init yet. */
static int
open_one(const struct sp_module_spec *spec, const char *moduledir,
    struct sp_module_inst *mi, char *err, size_t errlen)
{
	const struct sp_module *m;
	struct sp_module *copy;
	size_t size;
	int own, r;

	if (!name_ok(spec->name))
		return fail(err, errlen, SP_ERR_INVALID,
		    "module name '%.64s': use 1 to %d of a-z, 0-9 and _",
		    spec->name != NULL ? spec->name : "", SP_MODULE_NAME_MAX);
	if ((r = make_path(spec, moduledir, (char **)&mi->path, err, errlen)) != 0)
		return r;
	if ((mi->name = strdup(spec->name)) == NULL)
		return fail(err, errlen, SP_ERR_NOMEM, "%s: out of memory", mi->path);
	mi->mode = spec->mode;

	dlerror();
	if ((mi->dl = dlopen(mi->path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		if (access(mi->path, F_OK) != 0 && errno == ENOENT)
			return fail(err, errlen, SP_ERR_NOT_FOUND,
			    "%s: no such file (module '%s')", mi->path, mi->name);
		return fail(err, errlen, SP_ERR_INVALID, "%s: cannot load: %s",
		    mi->path, strip_file(dlerror(), mi->path));
	}
	dlerror();
	m = dlsym(mi->dl, SP_MODULE_SYMBOL);
	if (m == NULL)
		return fail(err, errlen, SP_ERR_ABI,
		    "%s: no symbol %s (not a smartproxy module, or built for another ABI major)",
		    mi->path, SP_MODULE_SYMBOL);
	size = symbol_size(mi->dl, m, &own);
	if (!own)
		return fail(err, errlen, SP_ERR_ABI,
		    "%s: symbol %s comes from a library it links, not from the module",
		    mi->path, SP_MODULE_SYMBOL);
	if ((r = sp_module_check(m, size, mi->path, mi->name, err, errlen)) != 0)
		return r;

	/* Members the module's (older) minor lacks read as NULL in the copy. */
	if ((copy = calloc(1, sizeof(*copy))) == NULL)
		return fail(err, errlen, SP_ERR_NOMEM, "%s: out of memory", mi->path);
	memcpy(copy, m, m->struct_size < sizeof(*copy) ? m->struct_size : sizeof(*copy));
	mi->desc = copy;
	return SP_OK;
}

int
sp_module_probe(const struct sp_module_spec *spec, const char *moduledir,
    char *err, size_t errlen)
{
	struct sp_module_inst mi;
	int r;

	memset(&mi, 0, sizeof(mi));
	r = open_one(spec, moduledir != NULL ? moduledir : SP_MODULEDIR, &mi,
	    err, errlen);
	inst_free(&mi);
	return r;
}

/* fini() the first `n` modules of the set in reverse order and free them all. */
static void
unwind(struct sp_module_set *set, size_t initialised)
{
	size_t i;

	for (i = initialised; i-- > 0;) {
		struct sp_module_inst *mi = &set->mods[i];

		if (mi->desc->fini != NULL)
			mi->desc->fini(mi->mctx);
	}
	for (i = set->count; i-- > 0;)
		inst_free(&set->mods[i]);
	free(set->mods);
	free(set);
}

int
sp_modules_load(const struct sp_module_spec *specs, size_t n,
    const char *moduledir, const struct sp_host *host,
    struct sp_module_set **out, char *err, size_t errlen)
{
	struct sp_module_set *set;
	struct sp_module_args args;
	size_t i, j, done = 0;
	int r = SP_OK, rc;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (moduledir == NULL)
		moduledir = SP_MODULEDIR;
	if (host == NULL || (n > 0 && specs == NULL))
		return fail(err, errlen, SP_ERR_INVALID, "module loader: no host table");
	if ((set = calloc(1, sizeof(*set))) == NULL)
		return fail(err, errlen, SP_ERR_NOMEM, "module loader: out of memory");
	if (n > 0 && (set->mods = calloc(n, sizeof(*set->mods))) == NULL) {
		free(set);
		return fail(err, errlen, SP_ERR_NOMEM, "module loader: out of memory");
	}

	/* Open and check every module before any init() runs. */
	for (i = 0; i < n; i++) {
		set->count = i + 1;
		for (j = 0; j < i; j++) {
			if (specs[j].name != NULL && specs[i].name != NULL &&
			    strcmp(specs[j].name, specs[i].name) == 0) {
				r = fail(err, errlen, SP_ERR_INVALID,
				    "module '%.64s' is configured twice", specs[i].name);
				goto out;
			}
		}
		if ((r = open_one(&specs[i], moduledir, &set->mods[i], err, errlen)) != 0)
			goto out;
	}

	/* init() in chain order; a failure finalises those before it. */
	for (i = 0; i < n; i++) {
		struct sp_module_inst *mi = &set->mods[i];

		args.name = mi->name;
		args.mode = mi->mode;
		args.options = specs[i].options != NULL ? specs[i].options : no_options;
		mi->mctx = NULL;
		if (mi->desc->init != NULL &&
		    (rc = mi->desc->init(host, &args, &mi->mctx)) != 0) {
			r = fail(err, errlen, SP_ERR_CONFIG,
			    "%s: init of module '%s' failed (%d)", mi->path,
			    mi->name, rc);
			goto out;
		}
		done = i + 1;
	}
out:
	if (r != SP_OK) {
		unwind(set, done);
		return r;
	}
	*out = set;
	return SP_OK;
}

void
sp_modules_unload(struct sp_module_set *set)
{
	if (set == NULL)
		return;
	unwind(set, set->count);
}
