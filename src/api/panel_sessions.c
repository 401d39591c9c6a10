/*
 * panel_sessions.c - the table of panel logins (panel_sessions.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "api/panel_sessions.h"
#include "api/pwhash.h"
#include "core/err.h"

static bool
ended(const struct sp_panel_sessions *t, const struct sp_panel_session *s,
    time_t now)
{
	return now - s->last > (time_t)t->idle ||
	    now - s->created > (time_t)t->max_age;
}

int
sp_panel_session_new(struct sp_panel_sessions *t, const char *user,
    enum sp_role role, time_t now, char sid[SP_PANEL_SID_LEN + 1],
    struct sp_panel_session **out)
{
	struct sp_panel_session *s = NULL;
	uint8_t rnd[64];
	size_t i;

	for (i = 0; i < SP_PANEL_SESSIONS_MAX; i++)
		if (!t->v[i].used || ended(t, &t->v[i], now)) {
			s = &t->v[i];
			break;
		} else if (s == NULL || t->v[i].last < s->last)
			s = &t->v[i];
	if (gnutls_rnd(GNUTLS_RND_KEY, rnd, sizeof(rnd)) != 0)
		return SP_ERR_TLS;
	memset(s, 0, sizeof(*s));
	sp_hex_encode(rnd, 32, sid);
	sp_hex_encode(rnd + 32, 32, s->csrf);
	explicit_bzero(rnd, sizeof(rnd));
	if (sp_sha256_hex(sid, SP_PANEL_SID_LEN, s->sid_hash) != 0) {
		explicit_bzero(sid, SP_PANEL_SID_LEN);
		memset(s, 0, sizeof(*s));
		return SP_ERR_TLS;
	}
	snprintf(s->user, sizeof(s->user), "%s", user);
	s->role = role;
	s->created = s->last = now;
	s->used = true;
	*out = s;
	return SP_OK;
}

struct sp_panel_session *
sp_panel_session_find(struct sp_panel_sessions *t, const char *sid,
    time_t now)
{
	struct sp_panel_session *s, *hit = NULL;
	char h[65];
	size_t i;

	if (sp_panel_sid_valid(sid) != 0 ||
	    sp_sha256_hex(sid, SP_PANEL_SID_LEN, h) != 0)
		return NULL;
	/* Every slot is looked at: the time does not tell which matched. */
	for (i = 0; i < SP_PANEL_SESSIONS_MAX; i++) {
		s = &t->v[i];
		if (!s->used)
			continue;
		if (ended(t, s, now)) {
			sp_panel_session_end(s);
			continue;
		}
		if (sp_ct_equal(s->sid_hash, h, 64))
			hit = s;
	}
	if (hit != NULL)
		hit->last = now;
	return hit;
}

bool
sp_panel_session_csrf_ok(const struct sp_panel_session *s, const char *token)
{
	return token != NULL && strlen(token) == SP_PANEL_SID_LEN &&
	    sp_ct_equal(token, s->csrf, SP_PANEL_SID_LEN);
}

void
sp_panel_session_end(struct sp_panel_session *s)
{
	explicit_bzero(s, sizeof(*s));
}
