/*
 * pairing.c - the pairing file: which client keys may open the tunnel.
 *
 * One key per line: 64 hex digits (SHA-256 of the client's public key, as
 * `smartproxy-client --pairing-line` prints it), optionally followed by a
 * name; '#' starts a comment. It is the one file the DMZ needs and it holds no
 * secret. A malformed line is an error naming the line, never skipped.
 */
#include "server/server.h"
#include "core/err.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAIRING_MAX 256

/* Keep the directory of `path` open: after the chroot it is the only way in. */
static int
pairing_open_dir(struct server *srv, const char *path, char *err, size_t errlen)
{
	char *d = strdup(path), *b = strdup(path);
	int r = SP_OK;

	if (d == NULL || b == NULL)
		r = SP_ERR_NOMEM;
	else if ((srv->pairing_dirfd = open(dirname(d), O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		r = SP_ERR_CONFIG;
	} else if ((srv->pairing_name = strdup(basename(b))) == NULL ||
	    (srv->pairing_path = strdup(path)) == NULL)
		r = SP_ERR_NOMEM;
	free(d);
	free(b);
	return r;
}

void
pairing_close(struct server *srv)
{
	if (srv->pairing_dirfd >= 0)
		close(srv->pairing_dirfd);
	srv->pairing_dirfd = -1;
	free(srv->pairing_name);
	free(srv->pairing_path);
	free(srv->pairing);
	srv->pairing_name = srv->pairing_path = NULL;
	srv->pairing = NULL;
	srv->npairing = 0;
}

int
pairing_load(struct server *srv, const char *path, char *err, size_t errlen)
{
	FILE *f;
	char line[512];
	unsigned lineno = 0;
	size_t n = 0;
	char (*keys)[SP_KEY_ID_HEX];
	int fd, r;

	if (srv->pairing_dirfd < 0 &&
	    (r = pairing_open_dir(srv, path, err, errlen)) != 0)
		return r;
	path = srv->pairing_path;
	if ((fd = openat(srv->pairing_dirfd, srv->pairing_name,
	    O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0 || (f = fdopen(fd, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return SP_ERR_CONFIG;
	}
	if ((keys = calloc(PAIRING_MAX, sizeof(*keys))) == NULL) {
		fclose(f);
		return SP_ERR_NOMEM;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *hash;
		size_t len, i;

		lineno++;
		if ((hash = strchr(p, '#')) != NULL)
			*hash = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			continue;
		len = strcspn(p, " \t\r\n");
		if (len != 64) {
			snprintf(err, errlen, "%s:%u: expected a 64-hex-digit client key id", path, lineno);
			goto fail;
		}
		for (i = 0; i < 64; i++) {
			if (!isxdigit((unsigned char)p[i])) {
				snprintf(err, errlen, "%s:%u: key id has a non-hex character", path, lineno);
				goto fail;
			}
			keys[n][i] = (char)tolower((unsigned char)p[i]);
		}
		keys[n][64] = '\0';
		if (++n == PAIRING_MAX) {
			snprintf(err, errlen, "%s:%u: more than %d keys", path, lineno, PAIRING_MAX);
			goto fail;
		}
	}
	fclose(f);
	free(srv->pairing);
	srv->pairing = keys;
	srv->npairing = n;
	return SP_OK;
fail:
	fclose(f);
	free(keys);
	return SP_ERR_CONFIG;
}

bool
pairing_allows(const struct server *srv, const char *key_id)
{
	bool ok = false;
	size_t i;

	/* No early exit: the time taken does not tell which entry matched. */
	for (i = 0; i < srv->npairing; i++)
		ok |= sp_key_id_equal(srv->pairing[i], key_id);
	return ok;
}
