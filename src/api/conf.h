/*
 * conf.h - api.yaml, the bootstrap file of smartproxy-api (docs/api.md 6.1),
 * declared as a schema for the core bootstrap reader, and the bearer tokens
 * it names.
 *
 * Ownership: struct sp_api_conf is owned by the caller and freed with
 * sp_api_conf_free(). struct sp_api_tokens holds only SHA-256 digests (the
 * clear tokens read from token files are zeroed at once) and is freed with
 * sp_api_tokens_free().
 */
#ifndef SP_API_CONF_H
#define SP_API_CONF_H

#include <stddef.h>

#include "api/surface.h"
#include "core/bootstrap.h"

struct sp_api_token_conf {
	char *name;
	char *file;       /* token in clear, first line */
	char *sha256;     /* or its digest, 64 lowercase hex */
	int role;         /* enum sp_role; required, no default: a token's
	                     power is always written down */
};

/* What one client may hold of the HTTPS front (docs/api.md 6.1). */
struct sp_api_limits {
	int max_connections;  /* at once, all addresses */
	int per_address;      /* at once, from one address (< max_connections) */
	int header_timeout;   /* s: connect (or end of the previous request)
	                         to the end of the request headers */
	int body_timeout;     /* s: end of the headers to the end of the body */
	int idle_timeout;     /* s: no byte in either direction */
};

struct sp_api_conf {
	char *listen;     /* numeric host:port, port 0 allowed */
	struct {
		char *certificate;
		char *key;
	} tls;
	char *database;
	int max_waiting;
	struct sp_api_limits limits;
	struct sp_api_token_conf *tokens;
	size_t ntokens;
	struct {
		char *path;   /* NULL: no script */
		int timeout;  /* seconds */
	} event_script;
	struct {
		char *directory;  /* NULL: SP_PANEL_DIR (installed files) */
		int idle_timeout; /* s without a request before a login ends */
	} panel;
	struct sp_log_conf logging;
};

extern const struct sp_bs_schema sp_api_schema;

int sp_api_conf_load(const char *path, struct sp_api_conf *c, char *err,
    size_t errlen);
void sp_api_conf_free(struct sp_api_conf *c);

#define SP_TOKEN_MIN 16
#define SP_TOKEN_MAX 256

struct sp_api_token {
	char name[65];
	unsigned char digest[32];
	enum sp_role role;
};

struct sp_api_tokens {
	struct sp_api_token *v;
	size_t n;
};

/* Read token files and digests of the conf. */
int sp_api_tokens_load(const struct sp_api_conf *c, struct sp_api_tokens *out,
    char *err, size_t errlen);
void sp_api_tokens_free(struct sp_api_tokens *t);
/*
 * Check an Authorization header value ("Bearer <token>"). Returns the token
 * (owned by `t`), or NULL. Every configured digest is compared in constant
 * time.
 */
const struct sp_api_token *sp_api_tokens_check(const struct sp_api_tokens *t,
    const char *header);
/* A token is 16..256 printable ASCII characters without spaces. */
int sp_api_token_valid(const char *s, size_t len);

#endif
