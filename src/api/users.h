/*
 * users.h - the people who log in to the admin panel (docs/operations.md
 * section "Panel users"), and the parsers of the panel's outside bytes: the
 * Cookie header and the login body.
 *
 * Users live in the store's database (table panel_users, created on first
 * use like brake_blocks): a name, a role (admin or read, the API's roles:
 * proxy is a machine's role, not a person's) and a PBKDF2 hash (pwhash.h).
 * Not configuration: no revision, imports and exports never touch them.
 *
 * Functions return SP_OK or a negative SP_ERR_*. Ownership: callers own
 * every buffer; nothing here allocates beyond a statement's lifetime.
 */
#ifndef SP_API_USERS_H
#define SP_API_USERS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "api/surface.h"

struct sp_store;

#define SP_USER_NAME_MAX 64
#define SP_USER_PW_MIN 10
#define SP_USER_PW_MAX 256
/* The session cookie: 32 random octets as hex. */
#define SP_PANEL_COOKIE "sp_session"
#define SP_PANEL_SID_LEN 64

/* 1..64 of [A-Za-z0-9._@-]: 0 when valid, SP_ERR_INVALID otherwise. */
int sp_user_name_valid(const char *name);
/* SP_USER_PW_MIN..MAX octets of printable ASCII (spaces allowed). */
int sp_user_password_valid(const char *pw, size_t len);

/* Create the user or replace its role and hash. */
int sp_store_user_set(struct sp_store *st, const char *name,
    enum sp_role role, const char *hash);
/* The user's role and hash (hashlen >= SP_PWHASH_TEXT_MAX), or
 * SP_ERR_NOT_FOUND. */
int sp_store_user_get(struct sp_store *st, const char *name,
    enum sp_role *role, char *hash, size_t hashlen);

/*
 * The value of cookie `name` in a Cookie request header (RFC 6265 5.4:
 * "a=b; c=d"): SP_OK with the value in `out`, SP_ERR_NOT_FOUND when it is
 * absent, SP_ERR_INVALID when the header is malformed or the value longer
 * than outlen - 1. The first occurrence wins.
 */
int sp_panel_cookie(const char *header, const char *name, char *out,
    size_t outlen);
/* A session id as the cookie carries it: exactly SP_PANEL_SID_LEN
 * lowercase hex digits. */
int sp_panel_sid_valid(const char *sid);

/* POST /v1/panel/login: {"user", "password"}; the strings point into `o`.
 * SP_ERR_INVALID with the 400 line (naming the member) in err. */
int sp_panel_login_body(json_object *o, const char **user, const char **pw,
    char *err, size_t errlen);

#endif
