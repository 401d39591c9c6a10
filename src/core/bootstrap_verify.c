/*
 * bootstrap_verify.c - what a bootstrap file means on this host: the users,
 * directories and files it names exist, have sane modes, and the modules
 * load with this binary's ABI. The verify hooks of the schemas in
 * bootstrap_conf.c; they run only under sp_bootstrap_load_checked(), i.e.
 * for --check and in a daemon before it opens any socket, so a start that
 * would fail later (after the tunnel port was open, after the chroot) fails
 * first, with the file, line and key.
 *
 * Modes: a file or directory writable by everyone could be swapped by any
 * local user (the pairing file is the DMZ's list of who may connect); a
 * secret readable by everyone is no secret. Group bits are left to the
 * operator (a 'smartproxy' group is the usual way to share them).
 */
#include "config.h"

#include "core/bootstrap_verify.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/module.h"

enum want { WANT_FILE, WANT_DIR };

/* `rel` names `path` in the file; `secret`: not readable by everyone. */
static int
check_path(struct sp_bs_ctx *ctx, const char *rel, const char *path,
    enum want want, bool secret)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return sp_bs_fail(ctx, rel, "%s: %s", path, strerror(errno));
	if (want == WANT_DIR && !S_ISDIR(st.st_mode))
		return sp_bs_fail(ctx, rel, "%s: not a directory", path);
	if (want == WANT_FILE && !S_ISREG(st.st_mode))
		return sp_bs_fail(ctx, rel, "%s: not a regular file", path);
	if (st.st_mode & S_IWOTH)
		return sp_bs_fail(ctx, rel, "%s: writable by everyone (mode %04o)",
		    path, (unsigned)(st.st_mode & 07777));
	if (secret && (st.st_mode & S_IROTH))
		return sp_bs_fail(ctx, rel, "%s: readable by everyone (mode %04o): "
		    "it holds a secret", path, (unsigned)(st.st_mode & 07777));
	if (want == WANT_FILE && access(path, R_OK) != 0)
		return sp_bs_fail(ctx, rel, "%s: cannot read: %s", path,
		    strerror(errno));
	return SP_OK;
}

/* A state directory the daemon creates (one level) when it is missing. */
static int
check_state_dir(struct sp_bs_ctx *ctx, const char *rel, const char *path)
{
	char parent[PATH_MAX];
	struct stat st;

	if (stat(path, &st) == 0 || errno != ENOENT)
		return check_path(ctx, rel, path, WANT_DIR, false);
	snprintf(parent, sizeof(parent), "%s", path);
	if (stat(dirname(parent), &st) != 0 || !S_ISDIR(st.st_mode))
		return sp_bs_fail(ctx, rel, "%s: missing, and cannot be created: "
		    "%s is not a directory", path, parent);
	return SP_OK;
}

int
sp_bsv_file(struct sp_bs_ctx *ctx, const char *rel, const char *path,
    bool secret)
{
	return check_path(ctx, rel, path, WANT_FILE, secret);
}

int
sp_bsv_dir(struct sp_bs_ctx *ctx, const char *rel, const char *path)
{
	return check_path(ctx, rel, path, WANT_DIR, false);
}

int
sp_bsv_log_target(void *obj, struct sp_bs_ctx *ctx)
{
	const struct sp_log_target_conf *t = obj;

	if (t->type != SP_LOG_TARGET_FILE)
		return SP_OK;
	return check_path(ctx, "dir", t->dir, WANT_DIR, false);
}

int
sp_bsv_module(void *obj, struct sp_bs_ctx *ctx)
{
	const struct sp_module_conf *m = obj;
	struct sp_module_spec spec;
	char err[SP_MODULE_ERR_MAX];

	memset(&spec, 0, sizeof(spec));
	spec.name = m->name;
	spec.path = m->path;
	spec.mode = (enum sp_mode)m->mode;
	if (sp_module_probe(&spec, NULL, err, sizeof(err)) != 0)
		return sp_bs_fail(ctx, m->path != NULL ? "path" : "name", "%s", err);
	return SP_OK;
}

int
sp_bsv_server(void *obj, struct sp_bs_ctx *ctx)
{
	const struct sp_server_conf *c = obj;
	int r;

	if (getpwnam(c->user) == NULL)
		return sp_bs_fail(ctx, "user", "no such user '%s' (create it, or "
		    "name another)", c->user);
	if (c->chroot != NULL &&
	    (r = check_path(ctx, "chroot", c->chroot, WANT_DIR, false)) != 0)
		return r;
	if ((r = check_state_dir(ctx, "state_dir", c->state_dir)) != 0)
		return r;
	/* A default may be overridden by -l; the daemon reads it in any case. */
	if (sp_bs_given(ctx, "pairing_file") &&
	    (r = check_path(ctx, "pairing_file", c->pairing_file, WANT_FILE,
	    false)) != 0)
		return r;
	return SP_OK;
}

/*
 * A file only the daemon's user may read (a listener key, a PIN): what the
 * client's loader demands (sp_read_private_file: no bit for group or others),
 * said before any socket opens.
 */
static int
check_private(struct sp_bs_ctx *ctx, const char *rel, const char *path)
{
	struct stat st;
	int r;

	if ((r = check_path(ctx, rel, path, WANT_FILE, true)) != 0)
		return r;
	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
		return sp_bs_fail(ctx, rel, "%s: accessible by group or others "
		    "(mode %04o): it holds a key; chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777));
	return SP_OK;
}

/* The pin-source file of a pkcs11: URL (percent-decoded), if it names one. */
static int
check_pin_source(struct sp_bs_ctx *ctx, const char *rel, const char *url)
{
	const char *q = strchr(url, '?'), *p;
	char path[PATH_MAX];
	size_t n = 0;

	if (q == NULL)
		return SP_OK;
	for (p = q + 1; *p != '\0'; p++) {
		if (strncmp(p, "pin-source=", 11) == 0 && (p == q + 1 || p[-1] == '&'))
			break;
	}
	if (*p == '\0')
		return SP_OK;
	for (p += 11; *p != '\0' && *p != '&' && n + 1 < sizeof(path); p++) {
		unsigned v;

		if (*p == '%' && sscanf(p + 1, "%2x", &v) == 1 && v != 0) {
			path[n++] = (char)v;
			p += 2;
		} else
			path[n++] = *p;
	}
	path[n] = '\0';
	if (strncmp(path, "file:", 5) == 0)
		memmove(path, path + 5, n - 4);
	if (path[0] != '/')
		return SP_OK;   /* a command or the like: p11-kit's business */
	return check_private(ctx, rel, path);
}

/* keyless.keys: listener -> a PEM key file, or a pkcs11: URL. */
static int
check_keyless_keys(struct sp_bs_ctx *ctx, char **kv)
{
	char rel[128];
	size_t i;
	int r;

	for (i = 0; kv != NULL && kv[i] != NULL && kv[i + 1] != NULL; i += 2) {
		snprintf(rel, sizeof(rel), "keyless.keys.%s", kv[i]);
		if (strncmp(kv[i + 1], "pkcs11:", 7) == 0)
			r = check_pin_source(ctx, rel, kv[i + 1]);
		else if (kv[i + 1][0] != '/')
			r = sp_bs_fail(ctx, rel, "%s: expected an absolute path or "
			    "a pkcs11: URL", kv[i + 1]);
		else
			r = check_private(ctx, rel, kv[i + 1]);
		if (r != 0)
			return r;
	}
	return SP_OK;
}

int
sp_bsv_client(void *obj, struct sp_bs_ctx *ctx)
{
	const struct sp_client_conf *c = obj;
	int r;

	if ((r = check_path(ctx, "backend.token_file", c->backend.token_file,
	    WANT_FILE, true)) != 0)
		return r;
	if (c->backend.ca_file != NULL &&
	    (r = check_path(ctx, "backend.ca_file", c->backend.ca_file,
	    WANT_FILE, false)) != 0)
		return r;
	if ((r = check_keyless_keys(ctx, c->keyless.keys)) != 0)
		return r;
	return check_state_dir(ctx, "state_dir", c->state_dir);
}
