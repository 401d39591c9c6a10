/*
 * store.h - the files of oftp2-peer: received files written into --dir,
 * files to send read in chunks (never whole: a 100 MiB file streams).
 *
 * A received file is written to a hidden temporary name in the directory and
 * renamed to its final name only by peer_rx_commit(), so a broken transfer
 * never leaves a file that looks complete. The final name is the virtual file
 * name sanitised by peer_store_name(): it can never leave the directory.
 * Each struct owns its descriptors; the matching close/abort releases them.
 */
#ifndef PEER_STORE_H
#define PEER_STORE_H

#include <stddef.h>
#include <stdint.h>

#define PEER_NAME_MAX 27          /* 26 octets of SFIDDSN + NUL */
#define PEER_RX_BUF (64 * 1024)

struct peer_rx_file {
	int dirfd;                    /* not owned */
	int fd;
	char name[PEER_NAME_MAX];
	char tmpname[PEER_NAME_MAX + 8];
	uint64_t bytes;               /* octets written so far */
	size_t pending;               /* octets in buf not yet written */
	unsigned char *buf;
};

struct peer_tx_file {
	int fd;
	const char *path;             /* not owned */
	uint64_t size;
	char vfn[PEER_NAME_MAX];      /* virtual file name, space-free, upper case */
};

/*
 * Map a virtual file name (up to 26 octets, trailing spaces ignored) to a
 * file name that is safe inside one directory: only A-Z a-z 0-9 . - & ( )
 * and '_'; any other octet, '/' included, becomes '_'; a leading '.' becomes
 * '_' (so "." and ".." are impossible). SP_ERR_INVALID for an empty name.
 */
int peer_store_name(const uint8_t *dsn, size_t len, char out[PEER_NAME_MAX]);

int peer_store_open_dir(const char *dir, int *dirfd);

int peer_rx_begin(struct peer_rx_file *f, int dirfd, const char *name);
int peer_rx_write(struct peer_rx_file *f, const void *p, size_t n);
/* Flush, fsync and rename to the final name. Closes the file either way. */
int peer_rx_commit(struct peer_rx_file *f);
/* Close and remove the temporary file. Safe on a file never begun. */
void peer_rx_abort(struct peer_rx_file *f);

/* Open for sending; derive the virtual file name from the base name. */
int peer_tx_open(struct peer_tx_file *f, const char *path);
/* Read up to n octets; *got = 0 only at end of file. */
int peer_tx_read(struct peer_tx_file *f, void *p, size_t n, size_t *got);
int peer_tx_rewind(struct peer_tx_file *f);
void peer_tx_close(struct peer_tx_file *f);

#endif
