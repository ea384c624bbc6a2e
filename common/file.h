/* Files in state_dir: only regular files owned by the effective user are
 * opened, cut, replaced or deleted there. A symlink planted under a name the
 * gateway uses (a segment, the cursor, the alarm states) would otherwise
 * make a root-run gateway truncate or overwrite its target; a FIFO would
 * block start-up. The directories leading to a file may be symlinks (users
 * point state_dir at a USB stick): only the last component is checked.
 *
 * No logging here. Every function returns 0 (or an fd) on success, or a
 * negative errno; three of them mean "left alone" (ef_file_refused()):
 *   -ELOOP        the name is a symbolic link
 *   -EMEDIUMTYPE  the name is not a regular file (directory, FIFO, socket...)
 *   -EPERM        a regular file owned by another user
 * ef_file_strerror() says which in words. */
#ifndef EF_FILE_H
#define EF_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* open(2) with FLAGS (O_RDONLY, O_WRONLY or O_RDWR, optionally O_CREAT),
 * never following a symlink and never blocking on a FIFO; the fd is
 * O_CLOEXEC and in blocking mode. O_TRUNC is applied only once the file
 * passed the check, so a foreign file is never cut. Returns the fd. */
int ef_file_open(const char *path, int flags, mode_t mode);

/* 0 when PATH is our regular file, -ENOENT when there is nothing there,
 * else one of the refusals above (or another -errno from lstat). */
int ef_file_check(const char *path);

/* Deletes PATH if it is our regular file; nothing there is success. */
int ef_file_unlink(const char *path);

/* Replaces PATH durably with LEN bytes of DATA: PATH.tmp is created
 * exclusively (an old one of ours is removed first), written, fdatasync'd
 * and renamed over PATH, then the directory is fsync'd. Refuses when PATH
 * or PATH.tmp is anything but our regular file. */
int ef_file_replace(const char *path, const void *data, size_t len);

/* fsync of the directory DIR (makes created, renamed, deleted names durable). */
int ef_file_sync_dir(const char *dir);

bool ef_file_refused(int rc);

/* Words for RC (a negative errno): the refusals in plain terms, else strerror. */
const char *ef_file_strerror(int rc);

#endif
