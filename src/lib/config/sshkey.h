/* SPDX-License-Identifier: Apache-2.0 */
/* OpenSSH public keys for config.json os.sshKeys (spec 3.3). */
#ifndef BIMG_SSHKEY_H
#define BIMG_SSHKEY_H

#include <stdbool.h>
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

/* Keys one file, and os.sshKeys as a whole, may hold. The OS writes them all to
 * authorized_keys, which sshd reads line by line for every login; a fleet's
 * keys number in the tens. */
#define SSHKEY_MAX_KEYS 10000

/* A set of keys for duplicate checks in linear time (a pairwise check of
 * 10,000 keys against 10,000 took 5 s): keys are borrowed, compared as
 * sshkey_same does. */
struct sshkey_set {
        const char **keys;
        size_t *slots;          /* index + 1 into keys; 0 is empty */
        size_t n, max, n_slots;
};
/* Room for max keys; -1 when out of memory. */
int sshkey_set_init(struct sshkey_set *set, size_t max);
/* 1 added, 0 already there, -1 the set holds max keys already. */
int sshkey_set_add(struct sshkey_set *set, const char *key);
void sshkey_set_free(struct sshkey_set *set);

/* True when a and b are the same key (TYPE and BASE64 equal; comments ignored). */
bool sshkey_same(const char *a, const char *b);

#endif
