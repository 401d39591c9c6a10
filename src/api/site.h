/*
 * site.h - the site file of smartproxy-api: the deployment's whole data model
 * (listeners, partners, routes, limits, log-ignore rules, module sections) in
 * one readable YAML file, validated and decoded into struct sp_site, ready to
 * be stored (store.h). Keys and rules: docs/api.md section 6.2.
 *
 * Validation is strict and done in one pass: unknown or duplicate keys, wrong
 * types, values out of range, unreadable or non-PEM files, duplicate names and
 * routes to undefined partners are errors. Errors are ONE line in the
 * bootstrap reader's form, "FILE:LINE: key 'partners[0].password': what",
 * and the functions return SP_ERR_CONFIG (SP_ERR_NOMEM, SP_ERR_SYSTEM).
 *
 * Clear passwords never leave the parser: each is turned into a PBKDF2 hash
 * (pwhash.h) as soon as it is read; the YAML tree holding it is zeroed before
 * it is freed.
 *
 * Ownership: a decoded struct sp_site owns every string, array and the
 * json-c object of module sections; free it with sp_site_free(), which also
 * zeroes the private keys. On error nothing is left to free.
 */
#ifndef SP_API_SITE_H
#define SP_API_SITE_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#define SP_SITE_MAX_SIZE (4 * 1024 * 1024)
#define SP_SITE_MAX_LISTENERS 32
#define SP_SITE_MAX_ROUTES 256
#define SP_SITE_MAX_PARTNERS 10000
#define SP_SITE_MAX_RULES 1000
#define SP_SITE_MAX_LIST 256     /* networks, pins of one entry */
#define SP_SITE_MAX_PEM (256 * 1024)

struct sp_strv {
	char **v;
	size_t n;
};

struct sp_site_listener {
	char *name;
	char *address;
	bool tls;                 /* false: plain TCP */
	char *chain_pem;
	char *key_pem;            /* secret; NULL with tls: key: inside */
	bool require_client_cert;
	bool proxy_protocol;      /* a PROXY header is required ... */
	struct sp_strv proxy_trusted;  /* ... from these networks (CIDR, normalised) */
};

struct sp_site_partner {
	char *odette_id;
	char *description;        /* "" when not given */
	char *password_hash;      /* pwhash.h format: from `password` (hashed
	                             at once) or `password_hash` (as exported) */
	struct sp_strv networks;  /* CIDR, normalised "a.b.c.d/n" */
	bool require_client_cert;
	struct sp_strv pins;      /* 64 lowercase hex */
	char *ca_bundle;          /* PEM or NULL */
	char *bind;               /* "cn", "san", "dn", "none"; NULL: "cn" */
	char *bind_dn;            /* with bind "dn" only */
	int max_sessions;         /* 0: no own limit */
	bool enabled;
	char *valid_from;         /* RFC 3339 UTC or NULL */
	char *valid_until;
};

struct sp_site_route {
	char *name;
	char *client_listen;
	char *partner_odette_id;
	char *partner_address;
	char *source_address;     /* NULL: system chooses */
	bool tls;
	char *ca_bundle;
	struct sp_strv pins;
	char *client_chain;
	char *client_key;         /* secret */
};

/*
 * Revocation of one CA bundle (site file `revocation:`): the bundle is named
 * by the same file a partner's or route's tls.ca_bundle names; the backend
 * keys its CRLs by the SHA-256 of the bundle's text (sp_site_bundle_id).
 */
struct sp_site_revocation {
	char *ca_bundle;          /* PEM */
	char *crl;                /* PEM CRLs signed by a CA of it, or NULL */
	struct sp_strv urls;      /* distribution points (http/https), may be empty */
	bool fail_open;           /* crl_expired: fail_open (default fail_closed) */
};

#define SP_SITE_MAX_REVOCATIONS 256
#define SP_SITE_MAX_URLS 8
#define SP_SITE_URL_MAX 1024

struct sp_site_rule {
	char *description;
	char *match;
	char *valid_from;
	char *valid_until;
};

/* The limits of docs/api.md 4.2, in that order. */
enum {
	SP_LIMIT_MAX_SESSIONS = 0,
	SP_LIMIT_MAX_SESSIONS_PER_ADDRESS,
	SP_LIMIT_HANDSHAKE_TIMEOUT_MS,
	SP_LIMIT_SSID_TIMEOUT_MS,
	SP_LIMIT_IDLE_TIMEOUT_MS,
	SP_LIMIT_SESSION_MAX_MS,
	SP_LIMIT_INSIDE_CONNECT_TIMEOUT_MS,
	SP_LIMIT_LINGER_MS,
	SP_LIMIT_MAX_UNVERIFIED,
	SP_LIMIT_MAX_UNVERIFIED_PER_ADDRESS,
	SP_LIMIT_COUNT
};

struct sp_limit_def {
	const char *name;
	long long def, min, max;
};

extern const struct sp_limit_def sp_limit_defs[SP_LIMIT_COUNT];

struct sp_site {
	struct sp_site_listener *listeners;
	size_t nlisteners;
	struct sp_site_partner *partners;
	size_t npartners;
	struct sp_site_route *routes;
	size_t nroutes;
	struct sp_site_rule *rules;
	size_t nrules;
	long long limits[SP_LIMIT_COUNT];  /* defaults filled in */
	unsigned limits_given;    /* bit i: limits[i] was in the file (a merge
	                             import changes only those) */
	char *outgoing_source;    /* outgoing.source_address, NULL: unset */
	struct sp_site_revocation *revocations;
	size_t nrevocations;
	json_object *modules;     /* object: name -> object; never NULL after parse */
};

/*
 * How referenced files (PEM) are read: path as written in the site file
 * resolved against the site file's directory. The default reads the file
 * (bounded by SP_SITE_MAX_PEM); the fuzz target substitutes its own.
 * Returns SP_OK with a NUL-terminated malloc'd *out, or an error with a short
 * reason in `why`.
 */
typedef int (*sp_site_read_fn)(const char *path, char **out, char *why,
    size_t whylen);

struct sp_site_opts {
	const char *basedir;      /* NULL: "." */
	sp_site_read_fn read_file; /* NULL: read from disk */
	unsigned pbkdf2_iterations; /* 0: SP_PWHASH_ITERATIONS */
	/* Called after each entry of a list section (hashing passwords takes
	 * a tenth of a second per partner); NULL: none. */
	void (*progress)(void *arg, const char *section, size_t done,
	    size_t total);
	void *progress_arg;
};

int sp_site_load(const char *path, const struct sp_site_opts *opts,
    struct sp_site *out, char *err, size_t errlen);
/* From memory; `name` stands for the file in error lines. */
int sp_site_parse(const char *name, const void *data, size_t len,
    const struct sp_site_opts *opts, struct sp_site *out, char *err,
    size_t errlen);
void sp_site_free(struct sp_site *site);

/* Checks shared with the JSON endpoints (0 valid, -1 not). */
int sp_site_valid_odette_id(const char *s);
/* "a.b.c.d/n", "v6/n" or a bare address; normalised into out. */
int sp_site_cidr_normalise(const char *s, char *out, size_t outlen);
/* An http:// or https:// URL of printable ASCII without spaces (0 / -1). */
int sp_site_valid_url(const char *s);
/* The id of a CA bundle: SHA-256 of its PEM text, 64 hex digits. */
int sp_site_bundle_id(const char *pem, char out[65]);
/* tls.bind and tls.bind_dn of a partner (bind NULL: the default, "cn"):
 * 0, or -1 with *why naming the member and the rule. */
#define SP_SITE_BIND_DN_MAX 1024
int sp_site_check_bind(const char *bind, const char *bind_dn, const char **why);
/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" into the latter form (21 bytes). */
int sp_site_time_normalise(const char *s, char out[21]);

#endif
