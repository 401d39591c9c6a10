/*
 * ctl.h - smartproxyctl, the command line over the backend API
 * (docs/api.md; usage in docs/operations.md): what its files share.
 *
 * main.c reads options, the environment and the rc file and dispatches;
 * http.c makes one HTTPS request with libcurl and parses the JSON answer;
 * commands.c holds the commands and their table output, listeners.c the
 * listeners and blocks commands.
 *
 * Exit codes: CTL_OK 0, CTL_API 1 (the API refused: its message is printed),
 * CTL_USAGE 2, CTL_UNREACHABLE 3 (no answer: connection, TLS, timeout).
 * With --json, an error is also printed on stdout as the API's error
 * document ({"error": {"code", "message"}}; code "unreachable" or "usage"
 * for the two that are not the API's), so a script reads one stream.
 *
 * Ownership: struct ctl owns its strings (freed by main); a JSON answer
 * handed out by ctl_request() belongs to the caller.
 */
#ifndef SP_CTL_H
#define SP_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

enum { CTL_OK = 0, CTL_API = 1, CTL_USAGE = 2, CTL_UNREACHABLE = 3 };

/* An API field name and the option of the running command that sets it:
 * error messages name what the operator typed. */
struct ctl_name {
	const char *field;    /* as the API quotes it, without [index] */
	const char *option;   /* "--network" */
};

struct ctl {
	char *url;        /* API root, ends with '/' */
	char *token_file;
	char *ca;         /* NULL: the system's CAs */
	char *token;      /* read from token_file; wiped at exit */
	bool json;        /* print the API's JSON instead of tables */
	bool progress;    /* --progress: always report a transfer on stderr */
	bool tty;         /* stderr is a terminal: report slow transfers */
	long timeout;     /* seconds */
	const struct ctl_name *names;  /* NULL-terminated, or NULL */
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
int ctl_cmd_blocks(const struct ctl *c, int argc, char **argv);
int ctl_cmd_listeners(const struct ctl *c, int argc, char **argv);

/* oftp2.c: `partners oftp2 ID [KEY=on|off|default...]`, `partners diagnose
 * ID [--limit N]` (argv[0] is the sub-command). */
int ctl_partners_oftp2(const struct ctl *c, int argc, char **argv);
int ctl_partners_diagnose(const struct ctl *c, int argc, char **argv);
int ctl_cmd_rules(const struct ctl *c, int argc, char **argv);
int ctl_cmd_sessions(const struct ctl *c, int argc, char **argv);
int ctl_cmd_events(const struct ctl *c, int argc, char **argv);
int ctl_cmd_status(const struct ctl *c, int argc, char **argv);
int ctl_cmd_crls(const struct ctl *c, int argc, char **argv);

/* ---- shared by the command files (commands.c) ---- */

/* Member `key` as text, "-" when absent or null. */
const char *s_of(json_object *o, const char *key);
/* The array member `key` of an answer, or NULL; its length (0 for NULL). */
json_object *list_of(json_object *o, const char *key);
size_t len_of(json_object *a);
int print_json(json_object *o);
/*
 * Run a request and print the answer: --json as JSON, else through `table`,
 * or `done` for an answer without a body. `names` maps the API's field
 * names to the command's options in error messages (NULL: none).
 */
int show_named(const struct ctl *c, const struct ctl_name *names,
    const char *method, const char *path, json_object *body,
    void (*table)(json_object *), const char *done);
int show(const struct ctl *c, const char *method, const char *path,
    json_object *body, void (*table)(json_object *));
/* Before getopt_long over a sub-command's arguments. */
void reset_getopt(void);
/* A PEM file (at most 256 KiB) as text, or NULL with a message naming
 * `opt`; the caller frees it (free_secret for keys: zeroed first). */
char *read_pem(const char *opt, const char *file);
void free_secret(char *s);

/* A time argument: "now", "+90s", "+30m", "+2h", "+7d" (from now on),
 * "-2h" (ago), or passed on as is for the API to check. */
int ctl_time_arg(const char *in, char *out, size_t outlen);
void ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A failure before any request (a file, the token): one line, and with
 * --json the error document (code "usage"); exit with CTL_USAGE. */
void ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The error document of --json mode on stdout. */
void ctl_json_error(const char *code, const char *msg, long status);
/* Whether --json is on (for errors found before a request). */
extern bool ctl_json_mode;

#endif
