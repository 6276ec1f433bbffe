/* SPDX-License-Identifier: Apache-2.0 */
/* What config.json needs from libcrypto (loaded on first use): base64, X.509. */
#ifndef BIMG_CRYPTO_H
#define BIMG_CRYPTO_H

#include <stddef.h>

#include "balena-img.h"

/* Size limits: longer input fails with BIMG_E_INVALID (encode: 3/4 of the base64 limit). */
#define CRYPTO_BASE64_MAX (2u << 20)    /* base64 text, bytes */
#define CRYPTO_PEM_MAX (1u << 20)       /* certificate text, bytes */

/* libcrypto is loaded on first use; when it is missing every call fails with
 * BIMG_E_UNSUPPORTED naming the package (libssl3). */

/* Standard base64 (RFC 4648, with padding, no line breaks). *ret is NUL-terminated,
 * yours to free(). */
/* Start loading libcrypto in the background: it will be needed. */
void crypto_preload(void);

int crypto_base64_encode(const void *data, size_t len, char **ret, struct bimg_error *err);

/* Strict decode: whitespace is refused, padding must be right. Fails with
 * BIMG_E_INVALID; *ret (yours to free()) is also NUL-terminated for convenience. */
int crypto_base64_decode(const char *text, size_t len, unsigned char **ret, size_t *ret_len,
                         struct bimg_error *err);

/* pem holds one or more PEM X.509 certificates and nothing that is not one
 * (blank lines between them are fine). *ret_count certificates were parsed. */
int crypto_check_certificates(const char *pem, size_t len, size_t *ret_count,
                              struct bimg_error *err);

/* SHA-256: begin, update any number of times, hex (64 digits and a NUL; the
 * digest then starts again, empty), free. */
struct crypto_sha256;
int crypto_sha256_begin(struct crypto_sha256 **ret, struct bimg_error *err);
int crypto_sha256_update(struct crypto_sha256 *h, const void *data, size_t len,
                         struct bimg_error *err);
int crypto_sha256_hex(struct crypto_sha256 *h, char hex[65], struct bimg_error *err);
void crypto_sha256_free(struct crypto_sha256 *h);

#endif
