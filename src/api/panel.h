/*
 * panel.h - the admin panel of smartproxy-api (docs/api.md section 7): the
 * static files of the single-page app, the logins of panel users
 * (users.h) and the session cookie that stands in for a bearer token.
 *
 * Why a cookie beside the tokens, and not a second API: the app calls the
 * same /v1 endpoints as smartproxyctl; a valid panel session gives the
 * request its user's role, and surface.c decides as for a token, so every
 * change runs one validation and makes one revision whatever the caller.
 * A request authenticated by the cookie that may change something (any
 * method but GET) must carry the session's CSRF token in X-CSRF-Token and,
 * when the browser sends Origin, come from the api's own origin.
 *
 * Sessions live in memory only (a restart logs everybody out): the cookie
 * holds 32 random octets, the table only their SHA-256 (panel_sessions.h).
 * The login is braked per source address and per user name
 * (login_brake.h).
 *
 * Threads: every function may be called from any request thread; the
 * panel has its own mutex and never takes a->dbmu while holding it.
 * Ownership: struct api_panel belongs to struct api (a->panel).
 */
#ifndef SP_API_PANEL_H
#define SP_API_PANEL_H

#include "api/api.h"

/* Load the files and set up the tables; a missing directory only logs
 * (the API works without the panel). */
int api_panel_start(struct api *a, char *err, size_t errlen);
void api_panel_stop(struct api *a);

/*
 * For an endpoint that needs authentication, called when the request has
 * no Authorization header: 1 when a panel session authenticated it (rq's
 * role and token set), 0 when it carries no session cookie, -1 when it was
 * refused (rp filled: 401 for an unknown or expired session, 403 "csrf").
 */
int api_panel_auth(struct api *a, struct MHD_Connection *c,
    const char *method, struct api_req *rq, struct api_reply *rp);

/* panel_files.c: the files, read once from `dir` (a missing one only
 * logs); NULL when out of memory. The panel owns them (api_panel_files). */
struct api_panel_files;
struct api_panel_files *api_panel_files_load(const char *dir);
void api_panel_files_free(struct api_panel_files *f);
const struct api_panel_files *api_panel_files(const struct api *a);

/* Endpoints (route table in handlers.c); none takes a bearer token. */
void api_h_panel_login(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
void api_h_panel_logout(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
void api_h_panel_session(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
/* GET /v1/settings (a bearer token or a panel login, role read). */
void api_h_settings(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
/* routes.c: GET /v1/routes, the routes without private keys. */
void api_h_routes_list(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
void api_h_panel_file(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);

#endif
