/*
 * surface.c - the table of roles and of the DMZ->backend surface
 * (surface.h). docs/api.md 1.1 and 1.2 describe the same lines in prose:
 * change both together.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "api/bodies.h"
#include "api/surface.h"
#include "core/err.h"

#define PROXY (1u << SP_ROLE_PROXY)
#define READ (1u << SP_ROLE_READ)

const struct sp_surface_line sp_surface[] = {
	/* Carries listener private keys and password hashes: admin and proxy
	 * only, never `read`. */
	{ "GET", "v1/config", PROXY, SP_DMZ_NONE },
	/* Partners as stored; for `read` without password hashes. */
	{ "GET", "v1/partners", READ, SP_DMZ_NONE },
	{ "POST", "v1/partners", 0, SP_DMZ_NONE },
	{ "PUT", "v1/partners/*", 0, SP_DMZ_NONE },
	{ "DELETE", "v1/partners/*", 0, SP_DMZ_NONE },
	/* The OFTP2 module's per-partner switches and what would admit a refusal. */
	{ "GET", "v1/partners/*/oftp2", READ, SP_DMZ_NONE },
	{ "PUT", "v1/partners/*/oftp2", 0, SP_DMZ_NONE },
	{ "GET", "v1/partners/*/diagnose", READ, SP_DMZ_NONE },
	{ "POST", "v1/partners/*/disable", 0, SP_DMZ_NONE },
	{ "POST", "v1/partners/*/enable", 0, SP_DMZ_NONE },
	{ "POST", "v1/partners/*/online_block", 0, SP_DMZ_NONE },
	{ "DELETE", "v1/partners/*/online_block", 0, SP_DMZ_NONE },
	/* Listed without private keys. */
	{ "GET", "v1/listeners", READ, SP_DMZ_NONE },
	{ "PUT", "v1/listeners/*/tls", 0, SP_DMZ_NONE },
	/* Brake blocks the partner module reports through the client. */
	{ "GET", "v1/blocks", READ, SP_DMZ_NONE },
	{ "POST", "v1/blocks", PROXY, SP_DMZ_POST },
	/* CRLs the client fetched from distribution points, posted with its
	 * own token: not a thing the DMZ may say. */
	{ "GET", "v1/crls", READ, SP_DMZ_NONE },
	{ "POST", "v1/crls", PROXY, SP_DMZ_NONE },
	{ "GET", "v1/rules", READ, SP_DMZ_NONE },
	{ "POST", "v1/rules", 0, SP_DMZ_NONE },
	{ "DELETE", "v1/rules/*", 0, SP_DMZ_NONE },
	{ "GET", "v1/events", READ, SP_DMZ_NONE },
	{ "POST", "v1/events", PROXY, SP_DMZ_POST },
	{ "GET", "v1/sessions", READ, SP_DMZ_NONE },
	{ "POST", "v1/sessions", PROXY, SP_DMZ_POST },
	{ "GET", "v1/status", READ, SP_DMZ_NONE },
	/* api.yaml's event script and panel settings: no secret in them. */
	{ "GET", "v1/settings", READ, SP_DMZ_NONE },
	/* Routes of the document without their private keys. */
	{ "GET", "v1/routes", READ, SP_DMZ_NONE },
	{ "GET", "v1/sessions/live", READ, SP_DMZ_NONE },
	/* Prometheus scrapes with a `read` token; the DMZ opens no port. */
	{ "GET", "metrics", READ, SP_DMZ_NONE },
	/* The client's own report: the DMZ must not speak for it. */
	{ "POST", "v1/status", PROXY, SP_DMZ_NONE },
	{ "POST", "v1/decisions/ssid", PROXY, SP_DMZ_ASK },
	{ NULL, NULL, 0, SP_DMZ_NONE }
};

const char *
sp_role_name(enum sp_role role)
{
	switch (role) {
	case SP_ROLE_ADMIN: return "admin";
	case SP_ROLE_PROXY: return "proxy";
	case SP_ROLE_READ: return "read";
	}
	return "?";
}

static const struct sp_surface_line *
find(const char *method, const char *pattern)
{
	const struct sp_surface_line *l;

	for (l = sp_surface; l->method != NULL; l++)
		if (strcmp(l->method, method) == 0 &&
		    strcmp(l->pattern, pattern) == 0)
			return l;
	return NULL;
}

bool
sp_surface_allows(enum sp_role role, const char *method, const char *pattern)
{
	const struct sp_surface_line *l;

	if (role == SP_ROLE_ADMIN)
		return true;
	if ((l = find(method, pattern)) == NULL)
		return false;
	return (l->roles & (1u << role)) != 0;
}

/* The validators the api's handlers run, in one signature. */
static int
v_event(json_object *o, char *err, size_t errlen)
{
	struct sp_body_event ev;

	return sp_body_event(o, &ev, err, errlen);
}

static int
v_block(json_object *o, char *err, size_t errlen)
{
	struct sp_body_block b;

	return sp_body_block(o, &b, err, errlen);
}

static int
v_question(json_object *o, char *err, size_t errlen)
{
	struct sp_body_question q;

	return sp_body_question(o, &q, err, errlen);
}

int
sp_surface_dmz_check(enum sp_dmz_kind kind, const char *path,
    const char *body, char *err, size_t errlen)
{
	const struct sp_surface_line *l = NULL;
	json_object *o = NULL;
	char why[160];
	int r;

	/* Exact paths only: the DMZ lines have no "*" segment, so no
	 * argument of the server's choosing reaches a URL. */
	if (kind == SP_DMZ_NONE || (l = find("POST", path)) == NULL ||
	    l->dmz != kind) {
		snprintf(err, errlen, "POST %.80s is not on the DMZ surface%s",
		    path, l != NULL && l->dmz != SP_DMZ_NONE ? " for this kind "
		    "of request" : "");
		return SP_ERR_DENIED;
	}
	if ((r = sp_body_parse(body, strlen(body), &o, why,
	    sizeof(why))) == 0) {
		if (strcmp(path, "v1/events") == 0)
			r = v_event(o, why, sizeof(why));
		else if (strcmp(path, "v1/sessions") == 0)
			r = sp_body_session(o, why, sizeof(why));
		else if (strcmp(path, "v1/blocks") == 0)
			r = v_block(o, why, sizeof(why));
		else if (strcmp(path, "v1/decisions/ssid") == 0)
			r = v_question(o, why, sizeof(why));
		else {
			/* A DMZ line without a validator here: refuse it
			 * rather than forward an unchecked body. */
			snprintf(why, sizeof(why), "no body validator");
			r = SP_ERR_DENIED;
		}
	}
	json_object_put(o);
	if (r == SP_ERR_INVALID || r == SP_ERR_DENIED)
		snprintf(err, errlen, "POST %s: body refused: %s", path, why);
	return r;
}
