/*
 * routes.c - the client's listeners for outgoing calls: one per route of the
 * current configuration revision, on the inside address the route names.
 * The inside OFTP2 server connects there; the call is carried to the server
 * in the DMZ, which dials the partner. Applying a revision keeps the sockets
 * of unchanged routes and opens new ones before closing the old ones.
 */
#include "client/client.h"
#include "core/err.h"
#include "core/log.h"
#include "tunnel/msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct route_listener {
	struct client *cl;
	char *name;
	char addr[SP_ADDR_TEXT];
	int fd;
};

static void
on_accept(struct sp_loop *loop, int lfd, unsigned events, void *arg)
{
	struct route_listener *rl = arg;
	struct sp_addr peer;
	int fd, i;

	for (i = 0; i < 32; i++) {
		if (sp_accept(lfd, &fd, &peer) != SP_OK)
			return;
		pipe_open_outgoing(rl->cl, fd, rl->name);
	}
}

static void
rl_close(struct client *cl, struct route_listener *rl)
{
	if (rl->fd >= 0) {
		sp_loop_del(cl->loop, rl->fd);
		close(rl->fd);
		sp_log(SP_LOG_INFO, "route", "closed route %s on %s", rl->name, rl->addr);
	}
	free(rl->name);
}

void
routes_close(struct client *cl)
{
	size_t i;

	for (i = 0; i < cl->nroutes; i++)
		rl_close(cl, &cl->routes[i]);
	free(cl->routes);
	cl->routes = NULL;
	cl->nroutes = 0;
}

void
routes_apply(struct client *cl, json_object *config)
{
	/* Draining: a new revision opens no listener again. */
	if (cl->draining)
		return;
	json_object *routes = sp_json_get(config, "routes", json_type_array);
	size_t n = routes ? json_object_array_length(routes) : 0, i, j;
	struct route_listener *nr = n ? calloc(n, sizeof(*nr)) : NULL;

	if (n > 0 && nr == NULL)
		return;
	for (i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(routes, i);
		const char *name = sp_json_str(r, "name", NULL);
		const char *listen = sp_json_str(r, "client_listen", NULL);
		struct sp_addr a;

		nr[i].cl = cl;
		nr[i].fd = -1;
		if (name == NULL || listen == NULL || sp_addr_parse(listen, &a) != 0) {
			sp_log(SP_LOG_ERR, "route", "routes[%zu]: needs a name and a numeric client_listen address", i);
			continue;
		}
		nr[i].name = strdup(name);
		sp_addr_format(&a, nr[i].addr, sizeof(nr[i].addr));
		for (j = 0; j < cl->nroutes; j++) {
			struct route_listener *old = &cl->routes[j];
			if (old->fd >= 0 && old->name != NULL && strcmp(old->name, name) == 0 &&
			    strcmp(old->addr, nr[i].addr) == 0) {
				nr[i].fd = old->fd;
				old->fd = -1;
				sp_loop_del(cl->loop, nr[i].fd);
				break;
			}
		}
		if (nr[i].fd < 0) {
			if (sp_listen(&a, 64, &nr[i].fd) != 0) {
				sp_log(SP_LOG_ERR, "route", "route %s: cannot listen on %s: %s", name, nr[i].addr,
				    strerror(errno));
				nr[i].fd = -1;
				continue;
			}
			sp_log(SP_LOG_NOTICE, "route", "route %s: inside calls accepted on %s", name, nr[i].addr);
		}
	}
	routes_close(cl);
	cl->routes = nr;
	cl->nroutes = n;
	for (i = 0; i < n; i++)
		if (nr[i].fd >= 0 && sp_loop_add(cl->loop, nr[i].fd, SP_EV_READ, on_accept, &nr[i]) != 0)
			sp_log(SP_LOG_ERR, "route", "route %s: cannot watch its listener", nr[i].name);
}
