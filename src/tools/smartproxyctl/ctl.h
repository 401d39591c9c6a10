/*
 * ctl.h - smartproxyctl, the command line over the backend API
 * (docs/api.md; usage in docs/operations.md): what its files share.
 *
 * main.c reads options, the environment and the rc file and dispatches;
 * http.c makes one HTTPS request with libcurl and parses the JSON answer;
 * commands.c holds the commands and their table output.
 *
 * Exit codes: CTL_OK 0, CTL_API 1 (the API refused: its message is printed),
 * CTL_USAGE 2, CTL_UNREACHABLE 3 (no answer: connection, TLS, timeout).
 *
 * Ownership: struct ctl owns its strings (freed by main); a JSON answer
 * handed out by ctl_request() belongs to the caller.
 */
#ifndef SP_CTL_H
#define SP_CTL_H

#include <stdbool.h>

#include <json-c/json.h>

enum { CTL_OK = 0, CTL_API = 1, CTL_USAGE = 2, CTL_UNREACHABLE = 3 };

struct ctl {
	char *url;        /* API root, ends with '/' */
	char *token_file;
	char *ca;         /* NULL: the system's CAs */
	char *token;      /* read from token_file; wiped at exit */
	bool json;        /* print the API's JSON instead of tables */
	long timeout;     /* seconds */
};

/*
 * One request: `path` relative to the root ("v1/rules?x=1"), `body` NULL or
 * a JSON object (not taken). On 2xx returns CTL_OK with the answer in *out
 * (NULL when it had no body); otherwise prints the error and returns
 * CTL_API or CTL_UNREACHABLE.
 */
int ctl_request(const struct ctl *c, const char *method, const char *path,
    json_object *body, json_object **out);

/* Commands: argv[0] is the command name. */
int ctl_cmd_partners(const struct ctl *c, int argc, char **argv);
int ctl_cmd_rules(const struct ctl *c, int argc, char **argv);
int ctl_cmd_sessions(const struct ctl *c, int argc, char **argv);
int ctl_cmd_events(const struct ctl *c, int argc, char **argv);
int ctl_cmd_status(const struct ctl *c, int argc, char **argv);
int ctl_cmd_crls(const struct ctl *c, int argc, char **argv);

/* A time argument: "now", "+90s", "+30m", "+2h", "+7d" (from now on),
 * "-2h" (ago), or passed on as is for the API to check. */
int ctl_time_arg(const char *in, char *out, size_t outlen);
void ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
