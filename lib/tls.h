/* tls.h - TLS for SIP connections the fax server accepts (OpenSSL 3).
 *
 * One server context per process: our certificate chain and key, TLS 1.2 or
 * newer, and, when a CA file is given, mutual TLS: a client must show a
 * certificate that CA signed, and with a name list one of those names
 * (checked like a host name against the certificate's DNS names, else its
 * CN) - the way Exchange UM trusted only its configured gateways.
 *
 * Connections are non-blocking: umfax_tls_handshake, _read and _write
 * return what the event loop must wait for instead of blocking. */
#ifndef UMFAX_TLS_H
#define UMFAX_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct umfax_tls;                 /* the server context */
struct umfax_tls_conn;            /* one accepted connection */

struct umfax_tls_conf {
	const char *cert;         /* PEM: our certificate, then its chain */
	const char *key;          /* PEM: our private key; not readable by others */
	const char *client_ca;    /* PEM CA file: require client certificates; NULL or "": don't */
	const char *client_names; /* comma separated names a client certificate must have one of; "" any */
};

/* The context, or NULL with ERR naming the file and what is wrong. */
struct umfax_tls *umfax_tls_server_new(const struct umfax_tls_conf *c, char *err, size_t errlen);
void umfax_tls_free(struct umfax_tls *t);

/* A connection on the accepted socket FD (non-blocking); NULL: no memory. */
struct umfax_tls_conn *umfax_tls_accept(struct umfax_tls *t, int fd);
void umfax_tls_close(struct umfax_tls_conn *c);   /* sends close_notify if it can; not the fd */

enum { UMFAX_TLS_FAIL = -1, UMFAX_TLS_WANT_READ = -2, UMFAX_TLS_WANT_WRITE = -3, UMFAX_TLS_EOF = -4 };

/* 1 when the handshake is done (and the client's certificate accepted),
 * WANT_READ / WANT_WRITE to be called again, FAIL with ERR. */
int umfax_tls_handshake(struct umfax_tls_conn *c, char *err, size_t errlen);

/* Bytes read or written (> 0), or WANT_READ, WANT_WRITE, EOF or FAIL. */
ssize_t umfax_tls_read(struct umfax_tls_conn *c, void *buf, size_t n);
ssize_t umfax_tls_write(struct umfax_tls_conn *c, const void *buf, size_t n);

/* The client certificate's subject ("" without one), for the log; the
 * protocol and cipher in use. */
const char *umfax_tls_peer(const struct umfax_tls_conn *c, char *dst, size_t n);
const char *umfax_tls_cipher(const struct umfax_tls_conn *c);

#endif
