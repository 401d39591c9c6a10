/*
 * oftp2.c - smartproxyctl's OFTP2 sub-commands of `partners`:
 *   partners oftp2 ID                         the partner's switches
 *   partners oftp2 ID KEY=on|off|default...   set them (one revision)
 *   partners diagnose ID [--limit N]          refusals of recent sessions,
 *                                             deviations admitted, and the
 *                                             switch that would admit each
 * The API checks the keys (docs/api.md 5.7). Ownership: nothing is kept.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ctl.h"

static const char *
str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return "-";
	return json_object_get_string(v);
}

static void
print_switches(json_object *e)
{
	int n = 0;

	printf("partner %s\n", str(e, "odette_id"));
	json_object_object_foreach(e, key, v) {
		if (strcmp(key, "odette_id") == 0)
			continue;
		printf("  %-28s %s\n", key, json_object_get_boolean(v) ? "on" : "off");
		n++;
	}
	if (n == 0)
		printf("  (no switch of its own: the global modules.oftp2 values)\n");
}

static void
print_diagnose(json_object *d)
{
	json_object *ref = NULL, *dev = NULL, *adm = NULL, *r;
	size_t i, n;

	json_object_object_get_ex(d, "refused", &ref);
	json_object_object_get_ex(d, "deviations_admitted", &dev);
	json_object_object_get_ex(d, "switches_that_would_admit", &adm);
	n = ref != NULL ? json_object_array_length(ref) : 0;
	printf("partner %s: %zu refused session(s) among the recent ones\n",
	    str(d, "odette_id"), n);
	for (i = 0; i < n; i++) {
		r = json_object_array_get_idx(ref, i);
		printf("  %s  switch %-26s %s\n", str(r, "ended"), str(r, "switch"),
		    str(r, "refusal"));
	}
	printf("deviations admitted:\n");
	if (dev != NULL) {
		json_object_object_foreach(dev, rule, cnt)
			printf("  %-28s %s\n", rule, json_object_get_string(cnt));
	}
	printf("switches that would admit the refusals:\n");
	if (adm != NULL) {
		json_object_object_foreach(adm, sw, cnt2)
			printf("  %-28s %s refusal(s)\n", sw,
			    json_object_get_string(cnt2));
	}
}

static int
request(const struct ctl *c, const char *method, const char *path,
    json_object *body, void (*table)(json_object *))
{
	json_object *ans = NULL;
	int rc = ctl_request(c, method, path, body, &ans);

	if (rc == CTL_OK) {
		if (c->json)
			printf("%s\n", json_object_to_json_string_ext(ans,
			    JSON_C_TO_STRING_PRETTY));
		else
			table(ans);
	}
	json_object_put(ans);
	return rc;
}

int
ctl_partners_oftp2(const struct ctl *c, int argc, char **argv)
{
	json_object *body;
	char path[256], *id, *eq;
	int i, rc;

	if (argc < 2) {
		ctl_usage_error("usage: partners oftp2 ID [KEY=on|off|default...]");
		return CTL_USAGE;
	}
	if ((id = curl_easy_escape(NULL, argv[1], 0)) == NULL)
		return CTL_USAGE;
	snprintf(path, sizeof(path), "v1/partners/%s/oftp2", id);
	curl_free(id);
	if (argc == 2)
		return request(c, "GET", path, NULL, print_switches);
	body = json_object_new_object();
	for (i = 2; i < argc; i++) {
		if ((eq = strchr(argv[i], '=')) == NULL || eq == argv[i]) {
			json_object_put(body);
			ctl_usage_error("partners oftp2: '%s' is not KEY=on|off|"
			    "default", argv[i]);
			return CTL_USAGE;
		}
		*eq = '\0';
		if (strcmp(eq + 1, "on") == 0 || strcmp(eq + 1, "true") == 0)
			json_object_object_add(body, argv[i],
			    json_object_new_boolean(1));
		else if (strcmp(eq + 1, "off") == 0 || strcmp(eq + 1, "false") == 0)
			json_object_object_add(body, argv[i],
			    json_object_new_boolean(0));
		else if (strcmp(eq + 1, "default") == 0)
			json_object_object_add(body, argv[i], NULL);
		else {
			json_object_put(body);
			ctl_usage_error("partners oftp2: '%s' is not on, off or "
			    "default", eq + 1);
			return CTL_USAGE;
		}
	}
	rc = request(c, "PUT", path, body, print_switches);
	json_object_put(body);
	return rc;
}

int
ctl_partners_diagnose(const struct ctl *c, int argc, char **argv)
{
	char path[256], *id;

	if (argc != 2 && !(argc == 4 && strcmp(argv[2], "--limit") == 0 &&
	    strspn(argv[3], "0123456789") == strlen(argv[3]) && argv[3][0])) {
		ctl_usage_error("usage: partners diagnose ID [--limit N]");
		return CTL_USAGE;
	}
	if ((id = curl_easy_escape(NULL, argv[1], 0)) == NULL)
		return CTL_USAGE;
	snprintf(path, sizeof(path), "v1/partners/%s/diagnose%s%s", id,
	    argc == 4 ? "?limit=" : "", argc == 4 ? argv[3] : "");
	curl_free(id);
	return request(c, "GET", path, NULL, print_diagnose);
}
