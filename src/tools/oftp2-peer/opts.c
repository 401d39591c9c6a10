/* opts.c - command line of oftp2-peer (see opts.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "opts.h"

enum {
	OPT_LISTEN = 256, OPT_PORT_FILE, OPT_CONNECT, OPT_ONCE, OPT_TLS, OPT_CERT,
	OPT_KEY, OPT_CA, OPT_SERVERNAME, OPT_SOURCE, OPT_REQUIRE_CLIENT_CERT, OPT_ID,
	OPT_PASSWORD, OPT_PARTNER, OPT_DIR, OPT_SEND, OPT_FORMAT,
	OPT_RECORD_LENGTH, OPT_CREDIT, OPT_BUFFER_SIZE, OPT_COMPRESS, OPT_EERP,
	OPT_WAIT_EERP, OPT_TIMEOUT, OPT_AS, OPT_EFPA_CD, OPT_PARALLEL
};

static const struct option long_opts[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "connect", required_argument, NULL, OPT_CONNECT },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "parallel", no_argument, NULL, OPT_PARALLEL },
	{ "tls", no_argument, NULL, OPT_TLS },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "servername", required_argument, NULL, OPT_SERVERNAME },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "require-client-cert", no_argument, NULL, OPT_REQUIRE_CLIENT_CERT },
	{ "id", required_argument, NULL, OPT_ID },
	{ "password", required_argument, NULL, OPT_PASSWORD },
	{ "partner", required_argument, NULL, OPT_PARTNER },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "send", required_argument, NULL, OPT_SEND },
	{ "as", required_argument, NULL, OPT_AS },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "record-length", required_argument, NULL, OPT_RECORD_LENGTH },
	{ "credit", required_argument, NULL, OPT_CREDIT },
	{ "buffer-size", required_argument, NULL, OPT_BUFFER_SIZE },
	{ "compress", no_argument, NULL, OPT_COMPRESS },
	{ "eerp", no_argument, NULL, OPT_EERP },
	{ "wait-eerp", no_argument, NULL, OPT_WAIT_EERP },
	{ "efpa-cd", no_argument, NULL, OPT_EFPA_CD },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

void
peer_opts_usage(void)
{
	fputs(
"usage: oftp2-peer listen --listen HOST:PORT --id ID --password PW\n"
"                         --partner ID:PW [--partner ID:PW ...] --dir DIR [options]\n"
"       oftp2-peer send   --connect HOST:PORT --id ID --password PW\n"
"                         --partner ID:PW [--send FILE ...] [options]\n"
"       oftp2-peer --version | --help\n"
"\n"
"listen: OFTP2 responder. Stores received files in DIR under their virtual\n"
"        file name. Accepts the partners given by --partner.\n"
"send:   OFTP2 initiator. Sends the files, hands the turn over (CD) so the\n"
"        responder may send files back, then ends the session (ESID 00).\n"
"        --partner names the responder and the password it must present.\n"
"\n"
"  --listen HOST:PORT      address to listen on (port 0: any free port)\n"
"  --port-file FILE        write the bound port to FILE once listening\n"
"  --once                  exit after one session (exit status of that session)\n"
"  --parallel              serve each session in its own process (not with --once)\n"
"  --connect HOST:PORT     responder to call\n"
"  --tls                   use TLS (send; implied by --ca)\n"
"  --cert FILE --key FILE  own certificate and key (PEM); listen: enables TLS\n"
"  --ca FILE               CA(s) to verify the other side's certificate\n"
"  --servername NAME       send: name or IP the certificate must carry (default: host)\n"
"  --source ADDR           send: numeric local address to call from\n"
"  --require-client-cert   listen: refuse TLS clients without a valid certificate\n"
"  --id ID                 own ODETTE ID (SSIDCODE)\n"
"  --password PW           own password (SSIDPSWD)\n"
"  --partner ID:PW         partner code and the password it must send\n"
"  --dir DIR               directory for received files (default: .)\n"
"  --send FILE             file to send (repeatable; also in listen mode)\n"
"  --as VFN                virtual file name of the --send FILE just before\n"
"                          (default: its base name in upper case)\n"
"  --format U|T|F          file format of the files sent (default U)\n"
"  --record-length N       record length for --format F\n"
"  --credit N              SSIDCRED 1-999 (default 64)\n"
"  --buffer-size N         SSIDSDEB 128-99999 (default 4096)\n"
"  --compress              offer buffer compression (SSIDCMPR Y)\n"
"  --eerp                  send EERP for every file received\n"
"  --wait-eerp             fail unless an EERP arrives for every file sent\n"
"  --efpa-cd               ask for the turn after each file received (EFPA Y)\n"
"  --timeout SEC           limit of every network wait (default 30)\n"
"  -v, --verbose           session trace on stderr\n"
"  -V, --version           print the version and exit\n"
"  -h, --help              print this help and exit\n"
"\n"
"Exit status 0 only if the session ended normally and every file sent was\n"
"accepted (EFPA, and EERP with --wait-eerp).\n", stdout);
}

static int
parse_uint(const char *name, const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		goto bad;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v < lo || v > hi)
		goto bad;
	*out = (unsigned)v;
	return 0;
bad:
	fprintf(stderr, "oftp2-peer: %s must be a number from %u to %u, not '%s'\n",
	    name, lo, hi, s);
	return SP_ERR_CONFIG;
}

/* Characters allowed in an X(n) field (wire reference section 2). */
static int
is_x_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    strchr(" /-.&()", c) != NULL;
}

static int
copy_x_field(const char *name, const char *s, size_t len, char *dst, size_t max)
{
	size_t i;

	if (len == 0 || len > max) {
		fprintf(stderr, "oftp2-peer: %s must have 1 to %zu characters\n",
		    name, max);
		return SP_ERR_CONFIG;
	}
	for (i = 0; i < len; i++) {
		if (!is_x_char(s[i])) {
			fprintf(stderr, "oftp2-peer: %s may only hold A-Z, 0-9, "
			    "space and / - . & ( ) (OFTP X field)\n", name);
			return SP_ERR_CONFIG;
		}
	}
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

static int
add_partner(struct peer_opts *o, const char *arg)
{
	const char *colon = strchr(arg, ':');
	struct peer_partner *p;
	int r;

	if (colon == NULL) {
		fprintf(stderr, "oftp2-peer: --partner wants ID:PASSWORD\n");
		return SP_ERR_CONFIG;
	}
	p = realloc(o->partners, (o->npartners + 1) * sizeof(*p));
	if (p == NULL)
		return SP_ERR_NOMEM;
	o->partners = p;
	p = &o->partners[o->npartners];
	memset(p, 0, sizeof(*p));
	if ((r = copy_x_field("partner ID", arg, (size_t)(colon - arg), p->id,
	    sizeof(p->id) - 1)) != 0)
		return r;
	if ((r = copy_x_field("partner password", colon + 1, strlen(colon + 1),
	    p->password, sizeof(p->password) - 1)) != 0)
		return r;
	o->npartners++;
	return 0;
}

static int
add_send_file(struct peer_opts *o, const char *path)
{
	const char **f;

	f = realloc(o->send_files, (o->nsend_files + 1) * sizeof(*f));
	if (f == NULL)
		return SP_ERR_NOMEM;
	o->send_files = f;
	f = realloc(o->send_names, (o->nsend_files + 1) * sizeof(*f));
	if (f == NULL)
		return SP_ERR_NOMEM;
	o->send_names = f;
	o->send_files[o->nsend_files] = path;
	o->send_names[o->nsend_files++] = NULL;
	return 0;
}

/* The name is checked by the codec when the SFID is built. */
static int
set_send_name(struct peer_opts *o, const char *vfn)
{
	if (o->nsend_files == 0 || o->send_names[o->nsend_files - 1] != NULL) {
		fprintf(stderr, "oftp2-peer: --as follows the --send FILE it names\n");
		return SP_ERR_CONFIG;
	}
	if (strlen(vfn) == 0 || strlen(vfn) > 26) {
		fprintf(stderr, "oftp2-peer: --as wants 1 to 26 characters\n");
		return SP_ERR_CONFIG;
	}
	o->send_names[o->nsend_files - 1] = vfn;
	return 0;
}

static int
check_opts(struct peer_opts *o)
{
	if (o->id[0] == '\0' || o->password[0] == '\0') {
		fprintf(stderr, "oftp2-peer: --id and --password are required\n");
		return SP_ERR_CONFIG;
	}
	if (o->npartners == 0) {
		fprintf(stderr, "oftp2-peer: at least one --partner ID:PASSWORD is required\n");
		return SP_ERR_CONFIG;
	}
	if ((o->cert == NULL) != (o->key == NULL)) {
		fprintf(stderr, "oftp2-peer: --cert and --key go together\n");
		return SP_ERR_CONFIG;
	}
	if (o->format == 'F' && o->record_length == 0) {
		fprintf(stderr, "oftp2-peer: --format F needs --record-length\n");
		return SP_ERR_CONFIG;
	}
	if (o->format != 'F' && o->record_length != 0) {
		fprintf(stderr, "oftp2-peer: --record-length is only for --format F\n");
		return SP_ERR_CONFIG;
	}
	if (o->mode == PEER_MODE_LISTEN) {
		if (o->listen_addr == NULL) {
			fprintf(stderr, "oftp2-peer: listen needs --listen HOST:PORT\n");
			return SP_ERR_CONFIG;
		}
		o->tls = o->cert != NULL;
		if (o->require_client_cert && (o->ca == NULL || !o->tls)) {
			fprintf(stderr, "oftp2-peer: --require-client-cert needs "
			    "--cert, --key and --ca\n");
			return SP_ERR_CONFIG;
		}
		if (o->ca != NULL && !o->tls) {
			fprintf(stderr, "oftp2-peer: --ca in listen mode needs --cert and --key\n");
			return SP_ERR_CONFIG;
		}
		if (o->once && o->parallel) {
			fprintf(stderr, "oftp2-peer: --once and --parallel exclude each other\n");
			return SP_ERR_CONFIG;
		}
	} else {
		if (o->connect_addr == NULL) {
			fprintf(stderr, "oftp2-peer: send needs --connect HOST:PORT\n");
			return SP_ERR_CONFIG;
		}
		if (o->npartners != 1) {
			fprintf(stderr, "oftp2-peer: send takes exactly one --partner "
			    "(the responder)\n");
			return SP_ERR_CONFIG;
		}
		if (o->ca != NULL || o->cert != NULL)
			o->tls = 1;
		if (o->tls && o->ca == NULL) {
			fprintf(stderr, "oftp2-peer: TLS needs --ca to verify the responder\n");
			return SP_ERR_CONFIG;
		}
		if (o->port_file != NULL || o->once || o->parallel || o->require_client_cert) {
			fprintf(stderr, "oftp2-peer: --port-file, --once, --parallel and "
			    "--require-client-cert are for listen\n");
			return SP_ERR_CONFIG;
		}
	}
	return 0;
}

int
peer_opts_parse(struct peer_opts *o, int argc, char **argv)
{
	int c, r = 0;

	memset(o, 0, sizeof(*o));
	o->format = 'U';
	o->credit = 64;
	o->buffer_size = 4096;
	o->timeout_sec = 30;
	o->dir = ".";

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		peer_opts_usage();
		return argc < 2 ? SP_ERR_CONFIG : 1;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("oftp2-peer %s\n", PACKAGE_VERSION);
		return 1;
	}
	if (strcmp(argv[1], "listen") == 0)
		o->mode = PEER_MODE_LISTEN;
	else if (strcmp(argv[1], "send") == 0)
		o->mode = PEER_MODE_SEND;
	else {
		fprintf(stderr, "oftp2-peer: unknown mode '%s' (listen or send)\n", argv[1]);
		return SP_ERR_CONFIG;
	}

	optind = 2;
	while (r == 0 && (c = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_LISTEN: o->listen_addr = optarg; break;
		case OPT_PORT_FILE: o->port_file = optarg; break;
		case OPT_CONNECT: o->connect_addr = optarg; break;
		case OPT_ONCE: o->once = 1; break;
		case OPT_PARALLEL: o->parallel = 1; break;
		case OPT_TLS: o->tls = 1; break;
		case OPT_CERT: o->cert = optarg; break;
		case OPT_KEY: o->key = optarg; break;
		case OPT_CA: o->ca = optarg; break;
		case OPT_SERVERNAME: o->servername = optarg; break;
		case OPT_SOURCE: o->source = optarg; break;
		case OPT_REQUIRE_CLIENT_CERT: o->require_client_cert = 1; break;
		case OPT_ID:
			r = copy_x_field("--id", optarg, strlen(optarg), o->id,
			    sizeof(o->id) - 1);
			break;
		case OPT_PASSWORD:
			r = copy_x_field("--password", optarg, strlen(optarg),
			    o->password, sizeof(o->password) - 1);
			break;
		case OPT_PARTNER: r = add_partner(o, optarg); break;
		case OPT_DIR: o->dir = optarg; break;
		case OPT_SEND: r = add_send_file(o, optarg); break;
		case OPT_AS: r = set_send_name(o, optarg); break;
		case OPT_FORMAT:
			if (strlen(optarg) != 1 || strchr("UTF", optarg[0]) == NULL) {
				fprintf(stderr, "oftp2-peer: --format is U, T or F\n");
				r = SP_ERR_CONFIG;
			} else
				o->format = optarg[0];
			break;
		case OPT_RECORD_LENGTH:
			r = parse_uint("--record-length", optarg, 1, 99999, &o->record_length);
			break;
		case OPT_CREDIT:
			r = parse_uint("--credit", optarg, 1, 999, &o->credit);
			break;
		case OPT_BUFFER_SIZE:
			r = parse_uint("--buffer-size", optarg, 128, 99999, &o->buffer_size);
			break;
		case OPT_COMPRESS: o->compress = 1; break;
		case OPT_EERP: o->eerp = 1; break;
		case OPT_WAIT_EERP: o->wait_eerp = 1; break;
		case OPT_EFPA_CD: o->efpa_cd = 1; break;
		case OPT_TIMEOUT:
			r = parse_uint("--timeout", optarg, 1, 86400, &o->timeout_sec);
			break;
		case 'v': o->verbose++; break;
		case 'h':
			peer_opts_usage();
			return 1;
		default:
			fprintf(stderr, "oftp2-peer: try 'oftp2-peer --help'\n");
			return SP_ERR_CONFIG;
		}
	}
	if (r != 0)
		return r == SP_ERR_NOMEM ? r : SP_ERR_CONFIG;
	if (optind != argc) {
		fprintf(stderr, "oftp2-peer: unexpected argument '%s'\n", argv[optind]);
		return SP_ERR_CONFIG;
	}
	return check_opts(o);
}

void
peer_opts_free(struct peer_opts *o)
{
	if (o->partners != NULL)
		explicit_bzero(o->partners, o->npartners * sizeof(*o->partners));
	free(o->partners);
	free(o->send_files);
	free(o->send_names);
	explicit_bzero(o->password, sizeof(o->password));
	o->partners = NULL;
	o->send_files = NULL;
	o->send_names = NULL;
	o->npartners = o->nsend_files = 0;
}
