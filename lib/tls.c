/* tls.c - TLS for accepted SIP connections, on OpenSSL 3 (see tls.h) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "tls.h"

struct umfax_tls {
	SSL_CTX *ctx;
	char names[1024];         /* client_names, "" any */
};

struct umfax_tls_conn {
	SSL *ssl;
	const struct umfax_tls *t;
};

/* The newest OpenSSL error as text, and the queue emptied. */
static const char *ossl_error(char *dst, size_t n)
{
	unsigned long e = ERR_get_error(), more;
	if (e == 0)
		snprintf(dst, n, "unknown TLS error");
	else
		ERR_error_string_n(e, dst, n);
	while ((more = ERR_get_error()) != 0)
		(void) more;
	return dst;
}

static int readable_file(const char *what, const char *path, int secret, char *err, size_t errlen)
{
	struct stat st;
	if (!path || !*path) {
		snprintf(err, errlen, "%s is not set", what);
		return -1;
	}
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (secret && (st.st_mode & 004)) {
		snprintf(err, errlen, "%s: private key is readable by others (mode %03o); chmod o-r it",
		    path, (unsigned) (st.st_mode & 0777));
		return -1;
	}
	return 0;
}

struct umfax_tls *umfax_tls_server_new(const struct umfax_tls_conf *c, char *err, size_t errlen)
{
	char e[256];
	struct umfax_tls *t;

	if (readable_file("the certificate (t38live_tls_cert)", c->cert, 0, err, errlen) < 0 ||
	    readable_file("the private key (t38live_tls_key)", c->key, 1, err, errlen) < 0)
		return NULL;
	if (c->client_ca && *c->client_ca && readable_file("the client CA", c->client_ca, 0, err, errlen) < 0)
		return NULL;
	if ((t = calloc(1, sizeof *t)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(t->names, sizeof t->names, "%s", c->client_names ? c->client_names : "");
	ERR_clear_error();
	t->ctx = SSL_CTX_new(TLS_server_method());
	if (!t->ctx) {
		snprintf(err, errlen, "cannot make a TLS context: %s", ossl_error(e, sizeof e));
		free(t);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_chain_file(t->ctx, c->cert) != 1) {
		snprintf(err, errlen, "%s: not a PEM certificate chain: %s", c->cert, ossl_error(e, sizeof e));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(t->ctx, c->key, SSL_FILETYPE_PEM) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
			ERR_clear_error();
			snprintf(err, errlen, "%s: the key does not belong to the certificate in %s", c->key, c->cert);
		} else {
			snprintf(err, errlen, "%s: not a PEM private key: %s", c->key, ossl_error(e, sizeof e));
		}
		goto fail;
	}
	if (SSL_CTX_check_private_key(t->ctx) != 1) {
		snprintf(err, errlen, "%s: the key does not belong to the certificate in %s", c->key, c->cert);
		goto fail;
	}
	if (c->client_ca && *c->client_ca) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(c->client_ca);
		if (!names || SSL_CTX_load_verify_locations(t->ctx, c->client_ca, NULL) != 1) {
			if (names)
				sk_X509_NAME_pop_free(names, X509_NAME_free);
			snprintf(err, errlen, "%s: no PEM CA certificate in it: %s", c->client_ca, ossl_error(e, sizeof e));
			goto fail;
		}
		SSL_CTX_set_client_CA_list(t->ctx, names);
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	} else if (t->names[0]) {
		snprintf(err, errlen, "client names are set but no client CA to check them with");
		goto fail;
	}
	return t;
fail:
	SSL_CTX_free(t->ctx);
	free(t);
	return NULL;
}

void umfax_tls_free(struct umfax_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

struct umfax_tls_conn *umfax_tls_accept(struct umfax_tls *t, int fd)
{
	struct umfax_tls_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->t = t;
	c->ssl = SSL_new(t->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
		SSL_free(c->ssl);
		free(c);
		ERR_clear_error();
		return NULL;
	}
	SSL_set_accept_state(c->ssl);
	return c;
}

void umfax_tls_close(struct umfax_tls_conn *c)
{
	if (!c)
		return;
	if (SSL_is_init_finished(c->ssl))
		(void) SSL_shutdown(c->ssl);   /* one try: never wait for the peer's */
	SSL_free(c->ssl);
	ERR_clear_error();
	free(c);
}

/* Map an SSL_* result R of a call to our codes. */
static int result(struct umfax_tls_conn *c, int r)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return UMFAX_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return UMFAX_TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return UMFAX_TLS_EOF;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0 && (errno == 0 || errno == ECONNRESET || errno == EPIPE))
			return UMFAX_TLS_EOF;
		/* FALLTHROUGH */
	default:
		return UMFAX_TLS_FAIL;
	}
}

/* Does the client's certificate carry one of the configured names? */
static int name_ok(const struct umfax_tls_conn *c)
{
	const char *p = c->t->names;
	X509 *x = SSL_get0_peer_certificate(c->ssl);
	if (!c->t->names[0])
		return 1;
	if (!x)
		return 0;
	while (*p) {
		size_t n;
		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n > 0 && X509_check_host(x, p, n, 0, NULL) == 1)
			return 1;
		p += n;
	}
	return 0;
}

int umfax_tls_handshake(struct umfax_tls_conn *c, char *err, size_t errlen)
{
	char e[256], who[256];
	int r;

	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		if (!name_ok(c)) {
			snprintf(err, errlen, "client certificate %s has none of the names of t38live_tls_client_names",
			    umfax_tls_peer(c, who, sizeof who));
			return UMFAX_TLS_FAIL;
		}
		return 1;
	}
	r = result(c, r);
	if (r == UMFAX_TLS_FAIL || r == UMFAX_TLS_EOF) {
		long v = SSL_get_verify_result(c->ssl);
		if (v != X509_V_OK)
			snprintf(err, errlen, "handshake failed: client certificate: %s", X509_verify_cert_error_string(v));
		else
			snprintf(err, errlen, "handshake failed: %s", r == UMFAX_TLS_EOF ? "connection closed" : ossl_error(e, sizeof e));
		return UMFAX_TLS_FAIL;
	}
	return r;
}

ssize_t umfax_tls_read(struct umfax_tls_conn *c, void *buf, size_t n)
{
	int r;
	ERR_clear_error();
	errno = 0;
	r = SSL_read(c->ssl, buf, n > 1 << 30 ? 1 << 30 : (int) n);
	return r > 0 ? r : result(c, r);
}

ssize_t umfax_tls_write(struct umfax_tls_conn *c, const void *buf, size_t n)
{
	int r;
	ERR_clear_error();
	errno = 0;
	r = SSL_write(c->ssl, buf, n > 1 << 30 ? 1 << 30 : (int) n);
	return r > 0 ? r : result(c, r);
}

const char *umfax_tls_peer(const struct umfax_tls_conn *c, char *dst, size_t n)
{
	X509 *x = SSL_get0_peer_certificate(c->ssl);
	dst[0] = 0;
	if (x)
		X509_NAME_oneline(X509_get_subject_name(x), dst, (int) n);
	return dst;
}

const char *umfax_tls_cipher(const struct umfax_tls_conn *c)
{
	return SSL_get_cipher_name(c->ssl);
}
