/*
 * partner.h - the partner verification module's internal interface (not
 * installed): the parsed `modules.partner` section of a configuration
 * revision, address matching, certificate checks, and the process-wide
 * tables (brake per source address, open sessions per partner).
 *
 * Ownership: a struct pm_config and everything it points to (partners, their
 * networks, pins, GnuTLS trust lists, password hash strings) is allocated by
 * pm_config_parse() and freed by pm_config_free() alone; the core keeps it
 * alive as long as a session of its revision runs. The tables (struct
 * pm_brake, struct pm_counts) belong to the module context and are freed in
 * fini; each guards itself with its own mutex, since sessions of different
 * worker threads share them.
 */
#ifndef SP_MODULES_PARTNER_H
#define SP_MODULES_PARTNER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gnutls/x509.h>

#include "core/crl.h"

#define PM_ID_MAX 25            /* ODETTE ID: SSIDCODE without trailing spaces */
#define PM_ADDR_MAX 64          /* longer than any numeric address text */
#define PM_PARTNERS_MAX 10000
#define PM_NETWORKS_MAX 256     /* per partner */
#define PM_PINS_MAX 64          /* per partner */
#define PM_HASH_MIN_ITERATIONS 10000u
#define PM_CERT_MAX 65536       /* a client certificate (DER) we keep */
#define PM_BIND_DN_MAX 1024     /* tls.bind_dn */

/* Brake defaults (docs/api.md, modules.partner.brake). */
#define PM_BRAKE_FAILURES 10
#define PM_BRAKE_WINDOW_MS 60000u
#define PM_BRAKE_BLOCK_MS 300000u

/* One network: address bytes (IPv4 in the first 4) and a prefix length. */
struct pm_net {
	int family;             /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix;
};

/*
 * What a certificate accepted through a partner's CA must name (tls.bind):
 * the CA vouches for the holder's identity, the binding says that identity is
 * this partner. A pinned certificate is bound by its pin already.
 */
enum pm_bind {
	PM_BIND_CN = 0,         /* a subject CN equals the ODETTE ID (default) */
	PM_BIND_SAN,            /* a DNS-name subjectAltName equals it */
	PM_BIND_DN,             /* the subject DN equals bind_dn exactly */
	PM_BIND_NONE            /* any certificate of the CA (explicit opt-out) */
};

struct pm_partner {
	char id[PM_ID_MAX + 1];
	char *password_hash;    /* "pbkdf2-sha256$..." (checked at parse) */
	struct pm_net *nets;
	size_t nnets;
	bool require_cert;
	char (*pins)[65];       /* 64 lowercase hex + NUL */
	size_t npins;
	gnutls_x509_trust_list_t trust; /* ca_bundle (+ crl), or NULL */
	struct sp_crl_set crl;  /* nextUpdate and issuer of each CRL in trust */
	bool crl_fail_open;     /* tls.crl_expired: "fail_open" (default closed) */
	enum pm_bind bind;      /* for certificates accepted through trust */
	char *bind_dn;          /* PM_BIND_DN only: RFC 4514 text */
	unsigned max_sessions;  /* 0: no own limit */
	bool enabled;
	bool has_from, has_until;
	time_t valid_from, valid_until;
};

struct pm_brake_conf {
	unsigned max_failures;  /* 0: the brake is off */
	unsigned window_ms;
	unsigned block_ms;
};

/* The optional online decision (docs/api.md, modules.partner.online). */
#define PM_ONLINE_PATH_MAX 200
#define PM_ONLINE_TIMEOUT_MS 3000u

struct pm_online_conf {
	bool on;                /* absent or null: off */
	char path[PM_ONLINE_PATH_MAX + 1];  /* "v1/decisions/ssid" */
	unsigned timeout_ms;
};

struct pm_config {
	struct pm_partner *partners;
	size_t npartners;
	struct pm_brake_conf brake;
	struct pm_online_conf online;
};

/* ---- config.c ---- */

/* Parse the section's JSON text ("null": no partners). SP_ERR_CONFIG with
 * one line in err naming the field, SP_ERR_NOMEM. */
int pm_config_parse(const char *json, struct pm_config **out, char *err,
    size_t errlen);
void pm_config_free(struct pm_config *cfg);
const struct pm_partner *pm_config_find(const struct pm_config *cfg,
    const char *id);
/* "YYYY-MM-DDTHH:MM:SSZ" to seconds since the epoch; -1 if malformed. */
int pm_parse_time(const char *s, time_t *out);

/* ---- net.c ---- */

/* "198.51.100.0/24", "2001:db8::/32", a bare address = host route. */
int pm_net_parse(const char *s, struct pm_net *out);
/* A numeric address (IPv4-mapped IPv6 counts as IPv4) into family/bytes. */
int pm_addr_parse(const char *s, int *family, uint8_t addr[16]);
bool pm_net_contains(const struct pm_net *n, int family, const uint8_t addr[16]);
bool pm_partner_allows(const struct pm_partner *p, int family,
    const uint8_t addr[16]);

/* ---- cert.c ---- */

/* Result of a partner's look at the client certificate situation. */
enum pm_cert_verdict {
	PM_CERT_OK = 0,         /* acceptable (or none needed) */
	PM_CERT_MISSING,        /* a certificate is required, none came */
	PM_CERT_NO_MATCH,       /* came, but neither pinned nor issued by its CAs */
	PM_CERT_REVOKED,        /* issued by its CAs, listed in their CRL */
	PM_CERT_CRL_EXPIRED,    /* issued by its CAs, their CRL is past nextUpdate
	                         * and the partner's policy is fail_closed */
	PM_CERT_UNBOUND         /* issued by its CA, but names someone else */
};

/*
 * der/sha256 may be NULL/0 when the partner sent no certificate. *stale (may
 * be NULL) is set to the CRL the check used when it is past its nextUpdate,
 * else to NULL: with fail_open the verdict is PM_CERT_OK and the caller warns.
 * A pinned certificate is not looked up in CRLs: the pin names it exactly.
 */
enum pm_cert_verdict pm_cert_check(const struct pm_partner *p,
    const uint8_t *der, size_t derlen, const char *sha256,
    const struct sp_crl_info **stale);
/* Does the certificate name partner p as p->bind says? */
bool pm_cert_bound(const struct pm_partner *p, const uint8_t *der,
    size_t derlen);
/* "cn", "san", "dn", "none" */
const char *pm_bind_name(enum pm_bind b);
/* Load a PEM CA bundle (and optional PEM CRLs, each signed by a CA of it)
 * into a new trust list; *crl describes the CRLs (empty without). */
int pm_trust_load(const char *ca_pem, const char *crl_pem,
    gnutls_x509_trust_list_t *out, struct sp_crl_set *crl, char *err,
    size_t errlen);

/* ---- brake.c ---- */

struct pm_brake_entry;

struct pm_brake {
	pthread_mutex_t lock;
	struct pm_brake_entry **bucket;
	size_t nentries;
};

int pm_brake_init(struct pm_brake *b);
void pm_brake_fini(struct pm_brake *b);
/* Milliseconds the address stays blocked (0: not blocked). */
uint64_t pm_brake_blocked(struct pm_brake *b, const char *addr, uint64_t now_ms);
/* Count one failure; returns true when this failure started a block. */
bool pm_brake_fail(struct pm_brake *b, const struct pm_brake_conf *c,
    const char *addr, uint64_t now_ms, unsigned *failures);
/* A password check starts: false (nothing counted) when the address's
 * failures in the window and the checks still in flight fill max_failures;
 * the caller then refuses without checking and counts a failure. */
bool pm_brake_begin(struct pm_brake *b, const struct pm_brake_conf *c,
    const char *addr, uint64_t now_ms);
/* The check begun ends; a wrong password (`failed`) counts as pm_brake_fail. */
bool pm_brake_end(struct pm_brake *b, const struct pm_brake_conf *c,
    const char *addr, uint64_t now_ms, bool failed, unsigned *failures);

/* ---- counts.c: open sessions per ODETTE ID, across revisions ---- */

struct pm_count_entry;

struct pm_counts {
	pthread_mutex_t lock;
	struct pm_count_entry **bucket;
};

int pm_counts_init(struct pm_counts *c);
void pm_counts_fini(struct pm_counts *c);
/* Take a slot for `id` unless `max` (0: none) are open; *open_now is the
 * count before. SP_OK, SP_ERR_LIMIT, SP_ERR_NOMEM. */
int pm_counts_take(struct pm_counts *c, const char *id, unsigned max,
    unsigned *open_now);
void pm_counts_release(struct pm_counts *c, const char *id);

/* ---- online.c: the question to the backend and its answer ---- */

enum pm_online_verdict {
	PM_ONLINE_ALLOW = 0,
	PM_ONLINE_REFUSE,       /* the backend said no; esid says which ESID */
	PM_ONLINE_NO_ANSWER     /* no usable answer: the caller fails closed */
};

/* The question's JSON text (malloc'd, the caller frees), NULL when out of
 * memory. cert_sha, listener and session may be NULL. Never the password. */
char *pm_online_question(const char *id, const char *addr, const char *cert_sha,
    const char *listener, const char *session);
/* Read the backend's answer (status < 0: none came). REFUSE fills esid
 * ("03", "04" or "08"); detail gets one printable line for the log. */
enum pm_online_verdict pm_online_read(int status, const char *body,
    char esid[3], char *detail, size_t detaillen);

/* ---- pwcache.c: passwords that passed PBKDF2 lately ---- */

#define PM_PWCACHE_TTL_MS (10u * 60 * 1000)
#define PM_PWCACHE_MAX 4096

struct pm_pwcache_entry;

struct pm_pwcache {
	pthread_mutex_t lock;
	unsigned char key[32];          /* random per process */
	struct pm_pwcache_entry *head;  /* newest first */
	size_t n;
};

int pm_pwcache_init(struct pm_pwcache *c);
void pm_pwcache_fini(struct pm_pwcache *c);
/* Did this password of partner id, stored as hash, pass PBKDF2 lately? */
bool pm_pwcache_hit(struct pm_pwcache *c, const char *id, const char *hash,
    const char *password, uint64_t now_ms);
/* Remember a password that just passed PBKDF2. */
void pm_pwcache_put(struct pm_pwcache *c, const char *id, const char *hash,
    const char *password, uint64_t now_ms);

/* ---- clocks (tests replace them) ---- */

extern time_t (*pm_wall_now)(void);        /* seconds since the epoch */
extern uint64_t (*pm_mono_ms)(void);       /* monotonic milliseconds */

unsigned pm_hash_str(const char *s);

#endif
