/* SPDX-License-Identifier: Apache-2.0 */
/* Whole-file reads into memory, bounded: every input is checked in memory. */
#ifndef BIMG_FILE_H
#define BIMG_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "balena-img.h"

/* All of fd, from offset 0 to its size (at most max bytes, BIMG_E_INVALID past
 * that), NUL-terminated in *ret (yours to free()). name is for messages. */
int file_read_fd(int fd, size_t max, const char *name, char **ret, size_t *ret_len,
                 struct bimg_error *err);

/* The same for a host file, which must be a regular file (a missing one is
 * BIMG_E_NOT_FOUND). */
int file_read_path(const char *path, size_t max, char **ret, size_t *ret_len,
                   struct bimg_error *err);

/* A size for messages: "812 bytes", "12.5 KiB", "49.8 MiB". */
void file_size_text(uint64_t bytes, char *buf, size_t size);

/* TMPDIR when it is an absolute path, else /tmp: for staged copies of
 * partitions, which can be large. */
const char *file_tmp_dir(void);

/* Where small scratch files go (files copied out of a FAT partition, contents
 * staged for mcopy, the folder trees it copies in; a few MiB at most): TMPDIR
 * when set, else /dev/shm when it is a writable folder, else /tmp. */
const char *file_scratch_dir(void);

/* A nameless read-write file (O_TMPFILE, mode 0600) in dir, or in file_tmp_dir()
 * when dir is NULL: it goes away with its last fd, whatever happens. The fd, or
 * -1 with errno set. */
int file_nameless(const char *dir);

/* Write all of buf to fd (retrying short writes). Returns 0 or -errno. */
int file_write_all(int fd, const void *buf, size_t len);

/* The data ranges of a sparse file: fn(start, end, data) for each [start, end)
 * below size that SEEK_DATA/SEEK_HOLE report, in order; holes are skipped. Stops
 * at fn's first non-zero return and returns it; else 0, or -errno if the file
 * could not be mapped. */
typedef int (*file_range_fn)(uint64_t start, uint64_t end, void *data);
int file_data_ranges(int fd, uint64_t size, file_range_fn fn, void *data);
/* The same for the part [from, to) of the file. */
int file_data_ranges_in(int fd, uint64_t from, uint64_t to, file_range_fn fn, void *data);

/* Exactly len bytes at offset, retrying short transfers: 0, or -errno (-EIO at
 * the end of the file). */
int file_pread_all(int fd, void *buf, size_t len, uint64_t offset);
int file_pwrite_all(int fd, const void *buf, size_t len, uint64_t offset);
/* file_pwrite_all, but each 4 KiB block of buf that holds only zeros is not
 * written (it stays a hole where the file has one). 0, or -errno. */
int file_pwrite_sparse(int fd, const void *buf, size_t len, uint64_t offset);

/* Copy len bytes of in at in_off to out at out_off with copy_file_range (which
 * clones where the filesystem can), or pread/pwrite where it is not offered.
 * 0 or -errno. */
int file_copy(int in, uint64_t in_off, int out, uint64_t out_off, uint64_t len);

#endif
