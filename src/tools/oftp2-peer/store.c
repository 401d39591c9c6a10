/* store.c - received and sent files of oftp2-peer (see store.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "msg.h"
#include "store.h"

static int
is_safe_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '&' ||
	    c == '(' || c == ')' || c == '_';
}

int
peer_store_name(const uint8_t *dsn, size_t len, char out[PEER_NAME_MAX])
{
	size_t i;

	if (len > PEER_NAME_MAX - 1)
		len = PEER_NAME_MAX - 1;
	while (len > 0 && dsn[len - 1] == ' ')
		len--;
	if (len == 0)
		return SP_ERR_INVALID;
	for (i = 0; i < len; i++)
		out[i] = is_safe_char(dsn[i]) ? (char)dsn[i] : '_';
	if (out[0] == '.')
		out[0] = '_';
	out[len] = '\0';
	return 0;
}

int
peer_store_open_dir(const char *dir, int *dirfd)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		peer_error("cannot open directory %s: %s", dir, strerror(errno));
		return SP_ERR_SYSTEM;
	}
	*dirfd = fd;
	return 0;
}

int
peer_rx_begin(struct peer_rx_file *f, int dirfd, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->dirfd = dirfd;
	snprintf(f->name, sizeof(f->name), "%s", name);
	/* Sanitised names never start with '.', so this cannot hit a final name. */
	snprintf(f->tmpname, sizeof(f->tmpname), ".%s.part", name);
	if ((f->buf = malloc(PEER_RX_BUF)) == NULL)
		return SP_ERR_NOMEM;
	f->fd = openat(dirfd, f->tmpname,
	    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (f->fd < 0) {
		peer_error("cannot create %s: %s", f->tmpname, strerror(errno));
		free(f->buf);
		f->buf = NULL;
		return SP_ERR_SYSTEM;
	}
	return 0;
}

static int
rx_flush(struct peer_rx_file *f)
{
	size_t off = 0;
	ssize_t w;

	while (off < f->pending) {
		w = write(f->fd, f->buf + off, f->pending - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			peer_error("writing %s: %s", f->tmpname, strerror(errno));
			return SP_ERR_SYSTEM;
		}
		off += (size_t)w;
	}
	f->pending = 0;
	return 0;
}

int
peer_rx_write(struct peer_rx_file *f, const void *p, size_t n)
{
	const unsigned char *src = p;
	size_t take;
	int r;

	while (n > 0) {
		if (f->pending == PEER_RX_BUF && (r = rx_flush(f)) != 0)
			return r;
		take = PEER_RX_BUF - f->pending;
		if (take > n)
			take = n;
		memcpy(f->buf + f->pending, src, take);
		f->pending += take;
		f->bytes += take;
		src += take;
		n -= take;
	}
	return 0;
}

int
peer_rx_commit(struct peer_rx_file *f)
{
	int r;

	if ((r = rx_flush(f)) != 0)
		goto fail;
	if (fsync(f->fd) != 0 || close(f->fd) != 0) {
		f->fd = -1;
		peer_error("writing %s: %s", f->tmpname, strerror(errno));
		r = SP_ERR_SYSTEM;
		goto fail;
	}
	f->fd = -1;
	if (renameat(f->dirfd, f->tmpname, f->dirfd, f->name) != 0) {
		peer_error("cannot rename %s to %s: %s", f->tmpname, f->name,
		    strerror(errno));
		r = SP_ERR_SYSTEM;
		goto fail;
	}
	f->tmpname[0] = '\0';
	free(f->buf);
	f->buf = NULL;
	return 0;
fail:
	peer_rx_abort(f);
	return r;
}

void
peer_rx_abort(struct peer_rx_file *f)
{
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
	if (f->tmpname[0] != '\0')
		(void)unlinkat(f->dirfd, f->tmpname, 0);
	f->tmpname[0] = '\0';
	free(f->buf);
	f->buf = NULL;
}

/* Characters of an X(n) field; everything else in a base name becomes '-'. */
static char
vfn_char(char c)
{
	if (c >= 'a' && c <= 'z')
		return (char)(c - 'a' + 'A');
	if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
	    c == '-' || c == '&' || c == '(' || c == ')')
		return c;
	return '-';
}

int
peer_tx_open(struct peer_tx_file *f, const char *path)
{
	const char *base = strrchr(path, '/');
	struct stat st;
	size_t i;

	memset(f, 0, sizeof(*f));
	f->path = path;
	base = base != NULL ? base + 1 : path;
	for (i = 0; base[i] != '\0' && i < PEER_NAME_MAX - 1; i++)
		f->vfn[i] = vfn_char(base[i]);
	f->vfn[i] = '\0';
	if (i == 0) {
		peer_error("%s: no file name to use as virtual file name", path);
		return SP_ERR_CONFIG;
	}
	if ((f->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		peer_error("cannot open %s: %s", path, strerror(errno));
		return SP_ERR_SYSTEM;
	}
	if (fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		peer_error("%s: not a regular file", path);
		close(f->fd);
		f->fd = -1;
		return SP_ERR_CONFIG;
	}
	f->size = (uint64_t)st.st_size;
	return 0;
}

int
peer_tx_read(struct peer_tx_file *f, void *p, size_t n, size_t *got)
{
	ssize_t rd;

	do
		rd = read(f->fd, p, n);
	while (rd < 0 && errno == EINTR);
	if (rd < 0) {
		peer_error("reading %s: %s", f->path, strerror(errno));
		return SP_ERR_SYSTEM;
	}
	*got = (size_t)rd;
	return 0;
}

int
peer_tx_rewind(struct peer_tx_file *f)
{
	if (lseek(f->fd, 0, SEEK_SET) != 0) {
		peer_error("seek %s: %s", f->path, strerror(errno));
		return SP_ERR_SYSTEM;
	}
	return 0;
}

void
peer_tx_close(struct peer_tx_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}
