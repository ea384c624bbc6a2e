/* Regular files of our own only (see file.h). */
#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int classify(const struct stat *st)
{
    if (S_ISLNK(st->st_mode))
        return -ELOOP;
    if (!S_ISREG(st->st_mode))
        return -EMEDIUMTYPE;
    if (st->st_uid != geteuid())
        return -EPERM;
    return 0;
}

int ef_file_check(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return -errno;
    return classify(&st);
}

bool ef_file_refused(int rc)
{
    return rc == -ELOOP || rc == -EMEDIUMTYPE || rc == -EPERM;
}

const char *ef_file_strerror(int rc)
{
    switch (rc) {
    case -ELOOP:
        return "a symbolic link (left alone)";
    case -EMEDIUMTYPE:
        return "not a regular file (left alone)";
    case -EPERM:
        return "owned by another user (left alone)";
    default:
        return strerror(-rc);
    }
}

int ef_file_open(const char *path, int flags, mode_t mode)
{
    /* lstat first, so that a FIFO or a device node is never opened at all;
     * the fstat after open catches a swap in between. */
    int rc = ef_file_check(path);
    if (rc < 0 && !(rc == -ENOENT && (flags & O_CREAT)))
        return rc;
    int fd = open(path, (flags & ~O_TRUNC) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
    if (fd < 0) {
        rc = -errno;
        int why = ef_file_check(path);
        return ef_file_refused(why) ? why : rc;
    }
    struct stat st;
    rc = fstat(fd, &st) < 0 ? -errno : classify(&st);
    int fl = rc == 0 ? fcntl(fd, F_GETFL) : -1;
    if (rc == 0 && (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0))
        rc = -errno;
    if (rc == 0 && (flags & O_TRUNC) && ftruncate(fd, 0) < 0)
        rc = -errno;
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

int ef_file_unlink(const char *path)
{
    int rc = ef_file_check(path);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int ef_file_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int ef_file_replace(const char *path, const void *data, size_t len)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    int rc = ef_file_check(path);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    if ((rc = ef_file_unlink(tmp)) < 0) /* a leftover of ours from a crash */
        return rc;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    rc = write_all(fd, data, len);
    if (rc == 0 && fdatasync(fd) < 0)
        rc = -errno;
    close(fd);
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0) {
        unlink(tmp); /* created above, exclusively: ours */
        return rc;
    }
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ef_file_sync_dir(".");
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path) + (slash == path), path);
    return ef_file_sync_dir(dir);
}
