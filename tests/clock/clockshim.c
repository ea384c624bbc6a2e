/* A clock that jumps, for tests: an LD_PRELOAD library for the real
 * edgeferry binary. EF_CLOCKSHIM names a 16-byte file the test rewrites at
 * will (it is mapped, so changes apply at once):
 *
 *   int64 offset_ms  added to CLOCK_REALTIME (and its coarse variant)
 *   int32 status     0: adjtimex says synchronised, 1: STA_UNSYNC,
 *                    2: adjtimex fails with EPERM (as under ProtectClock=)
 *
 * Only the wall clock moves; the monotonic clock stays true, so what the
 * gateway sees is a real step of the system clock. Never built into the
 * daemon. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

struct shim {
    volatile int64_t offset_ms;
    volatile int32_t status;
    int32_t pad;
};

static struct shim *map(void)
{
    static struct shim *s;
    static int tried;
    if (!tried) {
        tried = 1;
        const char *path = getenv("EF_CLOCKSHIM");
        int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        if (fd >= 0) {
            void *p = mmap(NULL, sizeof *s, PROT_READ, MAP_SHARED, fd, 0);
            close(fd);
            if (p != MAP_FAILED)
                s = p;
        }
    }
    return s;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    static int (*real)(clockid_t, struct timespec *);
    if (!real)
        real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    int rc = real(id, ts);
    struct shim *s = (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE) ? map() : NULL;
    if (rc == 0 && s && s->offset_ms) {
        int64_t ns = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec + s->offset_ms * 1000000;
        ts->tv_sec = (time_t)(ns / 1000000000);
        ts->tv_nsec = (long)(ns % 1000000000);
    }
    return rc;
}

int adjtimex(struct timex *tx)
{
    struct shim *s = map();
    if (!s) {
        static int (*real)(struct timex *);
        if (!real)
            real = (int (*)(struct timex *))dlsym(RTLD_NEXT, "adjtimex");
        return real(tx);
    }
    if (s->status == 2) {
        errno = EPERM;
        return -1;
    }
    memset(tx, 0, sizeof *tx);
    tx->status = s->status == 1 ? STA_UNSYNC : 0;
    return s->status == 1 ? TIME_ERROR : TIME_OK;
}
