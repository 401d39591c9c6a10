/*
 * panel_files.c - the admin panel's files (index.html, app.js, style.css),
 * read once at start and served from memory: no path from a request ever
 * reaches the file system, only these three names are answered. Also
 * GET /v1/settings, what api.yaml says that the panel shows.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/ops.h"
#include "api/panel.h"
#include "core/err.h"
#include "core/log.h"

#define NFILES 3

struct api_panel_files {
	struct {
		const char *name, *ctype;
		char *text;               /* owned; NULL: not served */
	} v[NFILES];
};

static char *
read_file(const char *dir, const char *name)
{
	char path[4096], *buf;
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > 1024 * 1024 || (buf = malloc((size_t)st.st_size +
	    1)) == NULL) {
		close(fd);
		errno = EFBIG;
		return NULL;
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	return buf;
}

struct api_panel_files *
api_panel_files_load(const char *dir)
{
	static const char *const names[NFILES][2] = {
		{ "index.html", "text/html; charset=utf-8" },
		{ "app.js", "text/javascript; charset=utf-8" },
		{ "style.css", "text/css; charset=utf-8" },
	};
	struct api_panel_files *f;
	size_t i;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	for (i = 0; i < NFILES; i++) {
		f->v[i].name = names[i][0];
		f->v[i].ctype = names[i][1];
		/* A missing file is a warning: the API works without it. */
		if ((f->v[i].text = read_file(dir, names[i][0])) == NULL)
			sp_log(SP_LOG_WARN, "api", "panel: cannot read %s/%s: "
			    "%s; the panel is not served", dir, names[i][0],
			    strerror(errno));
	}
	return f;
}

void
api_panel_files_free(struct api_panel_files *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < NFILES; i++)
		free(f->v[i].text);
	free(f);
}

void
api_h_panel_file(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	const struct api_panel_files *f = api_panel_files(a);
	const char *name = arg[0] != '\0' ? arg : "index.html";
	size_t i;

	for (i = 0; f != NULL && i < NFILES; i++)
		if (strcmp(f->v[i].name, name) == 0 && f->v[i].text != NULL) {
			if ((out->raw = strdup(f->v[i].text)) == NULL) {
				internal(out, "panel", SP_ERR_NOMEM);
				return;
			}
			out->ctype = f->v[i].ctype;
			out->status = 200;
			return;
		}
	api_error(out, 404, "not_found", "no such file");
}

/* GET /v1/settings: what api.yaml says about the event script and the
 * panel (read-only: they change with api.yaml and a restart). */
void
api_h_settings(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	json_object *o = json_object_new_object(), *es, *pn;

	es = json_object_new_object();
	json_object_object_add(es, "path", a->conf->event_script.path ?
	    json_object_new_string(a->conf->event_script.path) : NULL);
	json_object_object_add(es, "timeout",
	    json_object_new_int(a->conf->event_script.timeout));
	/* The runner's fixed bounds (events.c, docs/operations.md 3). */
	json_object_object_add(es, "rate_limit", json_object_new_string(
	    "bursts of 10 runs, then 1 every 2 s, 4 scripts at a time; equal "
	    "events within 10 s run once more with their count"));
	json_object_object_add(o, "event_script", es);
	pn = json_object_new_object();
	json_object_object_add(pn, "idle_timeout",
	    json_object_new_int(a->conf->panel.idle_timeout));
	json_object_object_add(o, "panel", pn);
	out->status = 200;
	out->body = o;
}
