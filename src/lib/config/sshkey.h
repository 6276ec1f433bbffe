/* SPDX-License-Identifier: Apache-2.0 */
/* OpenSSH public keys for config.json os.sshKeys (spec 3.3). */
#ifndef BIMG_SSHKEY_H
#define BIMG_SSHKEY_H

#include <stddef.h>

#include "balena-img.h"

/* Check one public key line "TYPE BASE64 [COMMENT]" (options before TYPE, as in
 * authorized_keys, are refused: the OS writes the line as it is). Known types:
 * ssh-ed25519, ssh-rsa (>= 2048 bits), ecdsa-sha2-nistp256/384/521,
 * sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com; ssh-dss is
 * refused as obsolete. The base64 must decode and the blob's inner type must
 * match TYPE. Errors (BIMG_E_INVALID) start with origin ("k.pub:2"). On success
 * *ret_line (yours to free()) is the key with surrounding whitespace trimmed and
 * inner runs of blanks between fields made single spaces; the comment is kept. */
int sshkey_check_line(const char *line, const char *origin, char **ret_line,
                      struct bimg_error *err);

/* Parse a .pub / authorized_keys-style file: one key per line; blank lines and
 * '#' comments skipped; CRLF accepted. A private key given by mistake is refused
 * with a message saying so. At least one key is required. Errors name
 * "origin:LINE". Returns the keys in file order, duplicates dropped. */
int sshkey_parse_file(const char *text, size_t len, const char *origin, char ***ret_keys,
                      size_t *ret_n, struct bimg_error *err);
void sshkey_free_list(char **keys, size_t n);

/* True when a and b are the same key (TYPE and BASE64 equal; comments ignored). */
bool sshkey_same(const char *a, const char *b);

#endif
