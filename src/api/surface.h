/*
 * surface.h - who may call what on the backend API: the one table of the
 * token roles (docs/api.md 1.1) and of the DMZ->backend surface, i.e. the
 * few requests smartproxy-client forwards for smartproxy-server (docs/api.md
 * 1.2). smartproxy-api checks every authenticated request against it and
 * smartproxy-client checks every request the server hands it, so the two
 * cannot drift apart.
 *
 * Why a table and not a check per handler: a new endpoint is admin-only
 * until somebody adds a line here, so forgetting is safe; and the DMZ, which
 * is assumed compromised, can reach through the client exactly the lines
 * marked for it, each with its body checked by the validator the api runs.
 *
 * Functions return SP_OK or a negative SP_ERR_*; nothing here allocates
 * beyond the parse of a body, which is freed before returning.
 */
#ifndef SP_API_SURFACE_H
#define SP_API_SURFACE_H

#include <stdbool.h>
#include <stddef.h>

enum sp_role {
	SP_ROLE_ADMIN = 1,   /* everything */
	SP_ROLE_PROXY = 2,   /* exactly what smartproxy-client needs */
	SP_ROLE_READ = 3     /* every GET that carries no secret material */
};

/* How the server in the DMZ may use a line through the client. */
enum sp_dmz_kind {
	SP_DMZ_NONE = 0,     /* never forwarded */
	SP_DMZ_POST,         /* a document: host->backend_post, audit records */
	SP_DMZ_ASK           /* a question with an answer: host->backend_ask */
};

/* "admin", "proxy", "read" (or "?"). */
const char *sp_role_name(enum sp_role role);

/*
 * May `role` call `method` on `pattern`? `pattern` is the route pattern as
 * the api's route table spells it without the leading '/', e.g.
 * "v1/partners/ * /disable" (without the spaces). A pattern the table does
 * not list is admin-only.
 */
bool sp_surface_allows(enum sp_role role, const char *method,
    const char *pattern);

/*
 * A request the server asked the client to forward: POST to `path`
 * (relative to the API root, no leading '/') with `body`, as a document
 * (SP_DMZ_POST) or a question (SP_DMZ_ASK). SP_OK when the path is on the
 * DMZ surface for that kind and the body passes the endpoint's validator
 * (the same one smartproxy-api runs); else SP_ERR_DENIED (path or kind not
 * on the surface) or SP_ERR_INVALID (body), with one line for the log in
 * `err`; or SP_ERR_NOMEM.
 */
int sp_surface_dmz_check(enum sp_dmz_kind kind, const char *path,
    const char *body, char *err, size_t errlen);

/* For tests and docs: the lines of the table, NULL-terminated by method. */
struct sp_surface_line {
	const char *method;
	const char *pattern;
	unsigned roles;          /* bit (1 << role) for each role besides admin */
	enum sp_dmz_kind dmz;
};
extern const struct sp_surface_line sp_surface[];

#endif
