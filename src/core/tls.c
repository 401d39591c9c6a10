/* tls.c - TLS policy, identities and fingerprints; see tls.h. */
#include "tls.h"
#include "err.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/crypto.h>

#define PEM_MAX (64 * 1024)

int
sp_tls_init(void)
{
	return gnutls_global_init() == 0 ? SP_OK : SP_ERR_TLS;
}

void
sp_tls_deinit(void)
{
	gnutls_global_deinit();
}

static void
hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int
sp_cert_key_id(gnutls_x509_crt_t crt, char out[SP_KEY_ID_HEX])
{
	unsigned char id[32];
	size_t n = sizeof(id);

	if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, id, &n) != 0 ||
	    n != 32)
		return SP_ERR_TLS;
	hex(id, n, out);
	return SP_OK;
}

int
sp_cert_key_id_pem(const char *pem, char out[SP_KEY_ID_HEX])
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)pem, (unsigned)strlen(pem) };
	int r = SP_ERR_INVALID;

	if (gnutls_x509_crt_init(&crt) != 0)
		return SP_ERR_NOMEM;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) == 0)
		r = sp_cert_key_id(crt, out);
	gnutls_x509_crt_deinit(crt);
	return r;
}

int
sp_cert_sha256_der(const unsigned char *der, size_t len, char out[SP_KEY_ID_HEX])
{
	unsigned char md[32];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der, len, md) != 0)
		return SP_ERR_TLS;
	hex(md, sizeof(md), out);
	return SP_OK;
}

int
sp_cert_subject_der(const unsigned char *der, size_t len, char *out, size_t n)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)der, (unsigned)len }, dn = { NULL, 0 };
	int r = SP_ERR_INVALID;

	if (n == 0 || gnutls_x509_crt_init(&crt) != 0)
		return SP_ERR_NOMEM;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) == 0 &&
	    gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0) {
		snprintf(out, n, "%.*s", (int)dn.size, (const char *)dn.data);
		r = SP_OK;
	}
	gnutls_free(dn.data);
	gnutls_x509_crt_deinit(crt);
	return r;
}

int
sp_tls_peer_key_id(gnutls_session_t s, char out[SP_KEY_ID_HEX])
{
	const gnutls_datum_t *certs;
	unsigned int n = 0;
	gnutls_x509_crt_t crt;
	int r = SP_ERR_INVALID;

	certs = gnutls_certificate_get_peers(s, &n);
	if (certs == NULL || n == 0)
		return SP_ERR_NOT_FOUND;
	if (gnutls_x509_crt_init(&crt) != 0)
		return SP_ERR_NOMEM;
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0)
		r = sp_cert_key_id(crt, out);
	gnutls_x509_crt_deinit(crt);
	return r;
}

bool
sp_key_id_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char diff = (unsigned char)(la != lb);

	for (i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/* Read a whole small file into a NUL-terminated string. */
static int
read_small(const char *path, char **out, bool must_be_private, char *err, size_t errlen)
{
	struct stat st;
	char *s;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return SP_ERR_SYSTEM;
	}
	if (fstat(fd, &st) != 0 || st.st_size > PEM_MAX || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file of at most %d bytes", path, PEM_MAX);
		close(fd);
		return SP_ERR_INVALID;
	}
	if (must_be_private && (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: key file is accessible by group or others (mode %03o); chmod 600 it",
		    path, (unsigned)(st.st_mode & 0777));
		close(fd);
		return SP_ERR_DENIED;
	}
	if ((s = calloc(1, (size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return SP_ERR_NOMEM;
	}
	n = read(fd, s, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		snprintf(err, errlen, "%s: short read", path);
		free(s);
		return SP_ERR_SYSTEM;
	}
	*out = s;
	return SP_OK;
}

static int
write_new(const char *path, const char *data, mode_t mode, char *err, size_t errlen)
{
	size_t len = strlen(data);
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return SP_ERR_SYSTEM;
	}
	if (write(fd, data, len) != (ssize_t)len || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return SP_ERR_SYSTEM;
	}
	close(fd);
	return SP_OK;
}

static int
datum_to_string(gnutls_datum_t *d, char **out)
{
	char *s = malloc(d->size + 1);

	if (s == NULL)
		return SP_ERR_NOMEM;
	memcpy(s, d->data, d->size);
	s[d->size] = '\0';
	*out = s;
	return SP_OK;
}

/* ECDSA P-256 key and a self-signed certificate for CN=name. */
static int
generate(const char *name, char **cert_pem, char **key_pem)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = { NULL, 0 };
	unsigned char serial[16];
	time_t now = time(NULL);
	int r = SP_ERR_TLS;

	*cert_pem = *key_pem = NULL;
	if (gnutls_x509_privkey_init(&key) != 0 || gnutls_x509_crt_init(&crt) != 0)
		goto out;
	if (gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) != 0)
		goto out;
	if (gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)) != 0)
		goto out;
	serial[0] &= 0x7f; /* positive */
	if (gnutls_x509_crt_set_version(crt, 3) != 0 ||
	    gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) != 0 ||
	    gnutls_x509_crt_set_activation_time(crt, now - 3600) != 0 ||
	    gnutls_x509_crt_set_expiration_time(crt, now + 20L * 365 * 86400) != 0 ||
	    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, name,
	        (unsigned)strlen(name)) != 0 ||
	    gnutls_x509_crt_set_key(crt, key) != 0 ||
	    gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE) != 0 ||
	    gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) != 0)
		goto out;
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d) != 0)
		goto out;
	if ((r = datum_to_string(&d, cert_pem)) != 0)
		goto out;
	gnutls_free(d.data);
	d.data = NULL;
	if (gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d) != 0) {
		r = SP_ERR_TLS;
		goto out;
	}
	r = datum_to_string(&d, key_pem);
	gnutls_memset(d.data, 0, d.size);
out:
	gnutls_free(d.data);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	if (r != SP_OK) {
		free(*cert_pem);
		free(*key_pem);
		*cert_pem = *key_pem = NULL;
	}
	return r;
}

static void
free_secret(char *s)
{
	if (s != NULL) {
		gnutls_memset(s, 0, strlen(s));
		free(s);
	}
}

int
sp_identity_from_pem(const char *cert_pem, const char *key_pem,
    struct sp_identity *id, char *err, size_t errlen)
{
	gnutls_datum_t c = { (unsigned char *)(uintptr_t)cert_pem, (unsigned)strlen(cert_pem) };
	gnutls_datum_t k = { (unsigned char *)(uintptr_t)key_pem, (unsigned)strlen(key_pem) };
	int g;

	memset(id, 0, sizeof(*id));
	if ((id->cert_pem = strdup(cert_pem)) == NULL || (id->key_pem = strdup(key_pem)) == NULL) {
		sp_identity_free(id);
		return SP_ERR_NOMEM;
	}
	if (sp_cert_key_id_pem(cert_pem, id->key_id) != 0) {
		snprintf(err, errlen, "certificate is not valid PEM X.509");
		sp_identity_free(id);
		return SP_ERR_INVALID;
	}
	if (gnutls_certificate_allocate_credentials(&id->creds) != 0) {
		sp_identity_free(id);
		return SP_ERR_NOMEM;
	}
	if ((g = gnutls_certificate_set_x509_key_mem(id->creds, &c, &k, GNUTLS_X509_FMT_PEM)) < 0) {
		snprintf(err, errlen, "certificate and key do not load: %s", gnutls_strerror(g));
		sp_identity_free(id);
		return SP_ERR_INVALID;
	}
	return SP_OK;
}

int
sp_identity_load_or_create(const char *dir, const char *name,
    struct sp_identity *id, bool *created, char *err, size_t errlen)
{
	char kpath[4096], cpath[4096];
	char *cert = NULL, *key = NULL;
	int r;

	*created = false;
	snprintf(kpath, sizeof(kpath), "%s/%s.key", dir, name);
	snprintf(cpath, sizeof(cpath), "%s/%s.crt", dir, name);
	if (access(kpath, F_OK) != 0 && errno == ENOENT && access(cpath, F_OK) != 0) {
		if ((r = generate(name, &cert, &key)) != 0) {
			snprintf(err, errlen, "cannot generate identity key: %s", sp_strerror(r));
			return r;
		}
		if ((r = write_new(kpath, key, 0600, err, errlen)) != 0 ||
		    (r = write_new(cpath, cert, 0644, err, errlen)) != 0) {
			unlink(kpath);
			goto out;
		}
		*created = true;
	} else {
		if ((r = read_small(kpath, &key, true, err, errlen)) != 0 ||
		    (r = read_small(cpath, &cert, false, err, errlen)) != 0)
			goto out;
	}
	r = sp_identity_from_pem(cert, key, id, err, errlen);
out:
	free(cert);
	free_secret(key);
	return r;
}

void
sp_identity_free(struct sp_identity *id)
{
	if (id->creds != NULL)
		gnutls_certificate_free_credentials(id->creds);
	free(id->cert_pem);
	free_secret(id->key_pem);
	memset(id, 0, sizeof(*id));
}

int
sp_tls_new_server(gnutls_certificate_credentials_t creds,
    gnutls_certificate_request_t client_cert, gnutls_session_t *out)
{
	gnutls_session_t s;

	if (gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) != 0)
		return SP_ERR_NOMEM;
	if (gnutls_priority_set_direct(s, SP_TLS_PRIORITY, NULL) != 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, creds) != 0) {
		gnutls_deinit(s);
		return SP_ERR_TLS;
	}
	gnutls_certificate_server_set_request(s, client_cert);
	*out = s;
	return SP_OK;
}

int
sp_tls_new_client(gnutls_certificate_credentials_t creds, const char *server_name,
    gnutls_session_t *out)
{
	gnutls_session_t s;

	if (gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) != 0)
		return SP_ERR_NOMEM;
	if (gnutls_priority_set_direct(s, SP_TLS_PRIORITY, NULL) != 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, creds) != 0) {
		gnutls_deinit(s);
		return SP_ERR_TLS;
	}
	if (server_name != NULL &&
	    gnutls_server_name_set(s, GNUTLS_NAME_DNS, server_name, strlen(server_name)) != 0) {
		gnutls_deinit(s);
		return SP_ERR_TLS;
	}
	*out = s;
	return SP_OK;
}

const char *
sp_tls_version(gnutls_session_t s)
{
	const char *v = gnutls_protocol_get_name(gnutls_protocol_get_version(s));
	return v ? v : "?";
}

const char *
sp_tls_cipher(gnutls_session_t s)
{
	/* The IANA name, right for TLS 1.3 too ("TLS_AES_256_GCM_SHA384"). */
	const char *c = gnutls_ciphersuite_get(s);

	if (c == NULL)
		c = gnutls_cipher_get_name(gnutls_cipher_get(s));
	return c ? c : "?";
}

int
sp_read_private_file(const char *path, char **out, char *err, size_t errlen)
{
	return read_small(path, out, true, err, errlen);
}

void
sp_free_secret(char *s)
{
	free_secret(s);
}
