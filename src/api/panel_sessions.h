/*
 * panel_sessions.h - the table of panel logins (panel.h): who is logged
 * in, with which role, since when, and the CSRF token of each login.
 *
 * The cookie carries a session id of 32 random octets (64 hex); the table
 * keeps only its SHA-256, compared in constant time, so a copy of the
 * process memory does not hand out live cookies. A login ends after
 * `idle` seconds without a request and after `max_age` seconds in any
 * case; when the table is full the login idle longest gives way.
 *
 * Times are whole seconds of a monotonic clock, passed in (tests choose
 * them). Not thread-safe: the caller holds its lock. Returns SP_OK or a
 * negative SP_ERR_*; no allocation (the table is one fixed array).
 */
#ifndef SP_API_PANEL_SESSIONS_H
#define SP_API_PANEL_SESSIONS_H

#include <stdbool.h>
#include <time.h>

#include "api/surface.h"
#include "api/users.h"

#define SP_PANEL_SESSIONS_MAX 64

struct sp_panel_session {
	bool used;
	char sid_hash[65];                  /* SHA-256 hex of the cookie value */
	char csrf[SP_PANEL_SID_LEN + 1];    /* 64 hex, sent with every change */
	char user[SP_USER_NAME_MAX + 1];
	enum sp_role role;
	time_t created, last;
};

struct sp_panel_sessions {
	struct sp_panel_session v[SP_PANEL_SESSIONS_MAX];
	unsigned idle, max_age;             /* seconds */
};

/* A new login; its cookie value (64 hex + NUL) into `sid`. */
int sp_panel_session_new(struct sp_panel_sessions *t, const char *user,
    enum sp_role role, time_t now, char sid[SP_PANEL_SID_LEN + 1],
    struct sp_panel_session **out);
/*
 * The login of cookie value `sid` (touched: `last` = now), or NULL when
 * it is malformed, unknown or ended. Ended logins are dropped on the way.
 */
struct sp_panel_session *sp_panel_session_find(struct sp_panel_sessions *t,
    const char *sid, time_t now);
/* Is `token` (may be NULL) the login's CSRF token? */
bool sp_panel_session_csrf_ok(const struct sp_panel_session *s,
    const char *token);
/* Log out: the slot is wiped. */
void sp_panel_session_end(struct sp_panel_session *s);

#endif
