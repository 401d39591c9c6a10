/*
 * fuzz_rtconf.c - the server's validation of a runtime configuration revision
 * (JSON from the backend, through the client): any document is accepted
 * whole or refused with one line, never half-applied, never a crash.
 */
#include "server/server.h"
#include "core/err.h"
#include "core/tls.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct server *server_self;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool tls_ready;
	struct server srv;
	struct rtconf *rt = NULL;
	json_tokener *tok;
	json_object *doc;
	char err[512];

	if (!tls_ready) {
		sp_tls_init();
		tls_ready = true;
	}
	if (size > 1 << 20)
		return 0;
	memset(&srv, 0, sizeof(srv));
	tok = json_tokener_new_ex(16);
	doc = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	json_tokener_free(tok);
	if (doc == NULL)
		return 0;
	err[0] = '\0';
	if (rtconf_parse(&srv, doc, &rt, err, sizeof(err)) == SP_OK) {
		if (rt == NULL || rt->refs != 1)
			abort();
		rtconf_unref(rt);
	} else if (rt != NULL || err[0] == '\0') {
		abort(); /* refusals always say why and leave nothing behind */
	}
	json_object_put(doc);
	return 0;
}

/* keyless.c sends through the tunnel; no revision here gets that far. */
void
tunnel_send(struct server *srv, json_object *msg)
{
	(void)srv;
	json_object_put(msg);
}
