/* SPDX-License-Identifier: ISC */
/*
 * What a certificate must carry to stand for a vnet peer, checked on the
 * peer's certificate during the handshake (crypt) and on our own at
 * start (monitor): no I/O, the certificate is already parsed.
 */
#ifndef VNET_LIB_X509ID_H
#define VNET_LIB_X509ID_H

#include <openssl/x509.h>

/*
 * Why x cannot serve as a proxy's certificate (server != 0: TLS server,
 * serverAuth) or a host's (TLS client, clientAuth); NULL if it can.
 */
const char	*x509id_usage(X509 *x, int server);
/*
 * Why the subject of x cannot name a host: its CN must appear exactly
 * once, hold no NUL and fit in maxlen - 1 bytes. NULL if it can.
 */
const char	*x509id_cn(X509 *x, size_t maxlen);

#endif
