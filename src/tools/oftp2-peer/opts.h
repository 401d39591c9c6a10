/*
 * opts.h - command line of oftp2-peer.
 *
 * peer_opts_parse() fills a struct peer_opts from argv. Strings in it point
 * into argv (never freed); the arrays (partners, files to send) are allocated
 * here and released by peer_opts_free(). Passwords are copied into the struct
 * and zeroed by peer_opts_free().
 */
#ifndef PEER_OPTS_H
#define PEER_OPTS_H

#include <stddef.h>

enum peer_mode {
	PEER_MODE_LISTEN,
	PEER_MODE_SEND
};

/* One partner we accept (listen) or expect (send), with its password. */
struct peer_partner {
	char id[26];        /* ODETTE ID, at most 25 characters */
	char password[9];   /* at most 8 characters */
};

struct peer_opts {
	enum peer_mode mode;
	int verbose;

	const char *listen_addr;   /* listen: HOST:PORT */
	const char *port_file;     /* listen: write the bound port here */
	const char *connect_addr;  /* send: HOST:PORT */
	int once;                  /* listen: exit after one session */
	int parallel;              /* listen: a process per session */

	/* TLS. listen: on when cert/key are set. send: on with --tls or --ca. */
	int tls;
	const char *cert;
	const char *key;
	const char *ca;
	const char *servername;    /* send: name/IP to verify, default host */
	const char *source;        /* send: local address to call from, or NULL */
	int require_client_cert;

	char id[26];               /* own ODETTE ID */
	char password[9];          /* own password */
	struct peer_partner *partners;
	size_t npartners;

	const char *dir;           /* where received files go */
	const char **send_files;
	const char **send_names;   /* --as VFN for each file, or NULL */
	size_t nsend_files;
	char format;               /* U, T or F */
	unsigned record_length;    /* F only */

	unsigned credit;           /* SSIDCRED offered / accepted at most */
	unsigned buffer_size;      /* SSIDSDEB offered / accepted at most */
	int compress;              /* SSIDCMPR = Y */
	int eerp;                  /* send EERP for files we receive */
	int wait_eerp;             /* require EERP for files we send */
	int efpa_cd;               /* answer EFPA with CD=Y: ask for the turn */
	unsigned timeout_sec;      /* every network wait */
};

/*
 * Parse argv (argv[1] is the mode). On error prints a message on stderr and
 * returns SP_ERR_CONFIG; on --help prints usage and returns 1.
 */
int peer_opts_parse(struct peer_opts *o, int argc, char **argv);
void peer_opts_free(struct peer_opts *o);
/* Usage text on stdout. */
void peer_opts_usage(void);

#endif
