/* The state directory's lock (see statedir.h). */
#include "gateway/statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/file.h"
#include "common/log.h"

static int mkdir_p(const char *dir)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

/* The PID the holder wrote, or 0. The holder writes it right after taking
 * the lock: give it a moment before saying "unknown". */
static long holder_pid(int fd)
{
    for (int tries = 0; tries < 50; tries++) {
        char buf[32] = "";
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        if (n > 0) {
            buf[n] = '\0';
            long pid = strtol(buf, NULL, 10);
            if (pid > 0)
                return pid;
        }
        ef_sleep_ms(20);
    }
    return 0;
}

static int write_pid(int fd)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
        return -1;
    return 0;
}

int ef_statedir_lock(const char *state_dir)
{
    if (mkdir_p(state_dir) != 0) {
        ef_err("cannot create state_dir %s: %s", state_dir, strerror(errno));
        return -1;
    }
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/lock", state_dir) >= (int)sizeof path) {
        ef_err("state_dir %s: path too long", state_dir);
        return -1;
    }
    int fd = ef_file_open(path, O_RDWR | O_CREAT, 0640);
    if (fd < 0) {
        ef_err("cannot lock state_dir %s: %s is %s", state_dir, path, ef_file_strerror(fd));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        if (err == EWOULDBLOCK) {
            long pid = holder_pid(fd);
            if (pid > 0)
                ef_err("state_dir %s is in use by another edgeferry (PID %ld); one state "
                       "directory serves one gateway", state_dir, pid);
            else
                ef_err("state_dir %s is in use by another edgeferry (PID unknown); one state "
                       "directory serves one gateway", state_dir);
        } else {
            ef_err("cannot lock state_dir %s: %s", state_dir, strerror(err));
        }
        close(fd);
        return -1;
    }
    if (write_pid(fd) != 0)
        ef_warn("state_dir %s: cannot write this PID into %s: %s", state_dir, path,
                strerror(errno));
    return fd;
}

void ef_statedir_unlock(int fd)
{
    if (fd < 0)
        return;
    /* Emptied first, so that nobody reads a stale PID in a free lock. */
    if (ftruncate(fd, 0) < 0)
        ef_debug("cannot empty the lock file: %s", strerror(errno));
    close(fd);
}
