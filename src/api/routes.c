/*
 * routes.c - GET /v1/routes: the routes of the current configuration
 * document without their private keys, so that a `read` token or the
 * panel can show them without GET /v1/config and the secrets it carries.
 * Read from the document the api already renders (api.h, under a->mu),
 * so the list always matches a revision.
 */
#include "config.h"

#include <string.h>

#include "api/ops.h"
#include "api/panel.h"
#include "core/err.h"

void
api_h_routes_list(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	json_object *doc, *routes = NULL, *rt, *tls, *o;
	int64_t rev;
	size_t i;

	pthread_mutex_lock(&a->mu);
	doc = a->doc != NULL ? json_tokener_parse(a->doc) : NULL;
	rev = a->rev;
	pthread_mutex_unlock(&a->mu);
	if (doc == NULL) {
		api_error(out, 503, "unavailable", "no configuration loaded yet");
		return;
	}
	if (!json_object_object_get_ex(doc, "routes", &routes) ||
	    !json_object_is_type(routes, json_type_array)) {
		json_object_put(doc);
		internal(out, "routes", SP_ERR_INVALID);
		return;
	}
	for (i = 0; i < json_object_array_length(routes); i++) {
		rt = json_object_array_get_idx(routes, i);
		if (json_object_object_get_ex(rt, "tls", &tls) && tls != NULL)
			json_object_object_del(tls, "client_private_key");
	}
	o = json_object_new_object();
	json_object_object_add(o, "revision", json_object_new_int64(rev));
	json_object_object_add(o, "routes", json_object_get(routes));
	json_object_put(doc);
	out->status = 200;
	out->body = o;
}
