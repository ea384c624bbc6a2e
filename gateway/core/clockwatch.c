/* Clock synchronisation and jumps (see clockwatch.h). */
#include "gateway/core/clockwatch.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

#define TIMESYNCD_DIR "/run/systemd/timesync"

/* Runtime traces of the usual time synchronisers (auto mode marks only
 * where one runs: a host without one keeps its RTC's time for good, and
 * marking every reading there forever would say nothing). */
static bool synchroniser_runs(void)
{
    static const char *const paths[] = { TIMESYNCD_DIR, "/run/chrony", "/run/ntpd.pid",
                                         "/run/ntpsec", "/run/openntpd" };
    struct stat st;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (stat(paths[i], &st) == 0)
            return true;
    return false;
}

void ef_clock_watch_init(struct ef_clock_watch *w, enum ef_clock_unsynced mode)
{
    memset(w, 0, sizeof *w);
    w->mode = mode;
    w->mono0 = -1;
    w->sync = EF_CLOCK_UNKNOWN;
    atomic_init(&w->mark, false);
    atomic_init(&w->jumps, 0);
    w->synchroniser = synchroniser_runs();
}

int64_t ef_clock_watch_feed(struct ef_clock_watch *w, int64_t wall_ms, int64_t mono_ms)
{
    int64_t jump = 0;
    if (w->mono0 >= 0) {
        int64_t d = (wall_ms - w->wall0) - (mono_ms - w->mono0);
        if (d > EF_CLOCK_JUMP_MS || d < -EF_CLOCK_JUMP_MS) {
            jump = d;
            atomic_fetch_add_explicit(&w->jumps, 1, memory_order_relaxed);
        }
    }
    w->wall0 = wall_ms;
    w->mono0 = mono_ms;
    return jump;
}

static enum ef_clock_sync read_sync(struct ef_clock_watch *w)
{
    if (w->source == 0) {
        struct timex tx;
        memset(&tx, 0, sizeof tx); /* modes 0: read only, no privilege needed */
        int rc = adjtimex(&tx);
        if (rc >= 0)
            return (tx.status & STA_UNSYNC) || rc == TIME_ERROR ? EF_CLOCK_UNSYNCED
                                                                 : EF_CLOCK_SYNCED;
        int err = errno;
        struct stat st;
        w->source = stat(TIMESYNCD_DIR, &st) == 0 ? 1 : 2;
        ef_info("clock: the kernel's synchronisation state cannot be read (%s); %s",
                strerror(err),
                w->source == 1 ? "using systemd-timesyncd's"
                               : "no systemd-timesyncd either: only clock jumps are detected");
    }
    if (w->source == 1)
        return access(TIMESYNCD_DIR "/synchronized", F_OK) == 0 ? EF_CLOCK_SYNCED
                                                                : EF_CLOCK_UNSYNCED;
    return EF_CLOCK_UNKNOWN;
}

static bool marks(const struct ef_clock_watch *w, enum ef_clock_sync s)
{
    if (s != EF_CLOCK_UNSYNCED || w->mode == EF_CLOCK_IGNORE)
        return false;
    return w->mode != EF_CLOCK_AUTO || w->synchroniser;
}

static void check_sync(struct ef_clock_watch *w)
{
    enum ef_clock_sync s = read_sync(w);
    if (s == w->sync)
        return;
    bool first = w->sync == EF_CLOCK_UNKNOWN && s != EF_CLOCK_UNKNOWN;
    w->sync = s;
    atomic_store_explicit(&w->mark, marks(w, s), memory_order_relaxed);
    if (s == EF_CLOCK_SYNCED && !first)
        ef_info("clock: synchronised; readings carry a trusted time again");
    else if (s == EF_CLOCK_UNSYNCED)
        ef_log(marks(w, s) ? EF_LOG_WARNING : EF_LOG_INFO,
               "clock: not synchronised; readings taken now %s",
                marks(w, s) ? (w->mode == EF_CLOCK_DROP ? "are dropped (alarms marked)"
                                                        : "are marked \"clock\":\"unsynced\"")
                            : w->mode == EF_CLOCK_IGNORE ? "are sent as they are (ignore)"
                                                         : "are sent as they are (no time "
                                                           "synchroniser runs here)");
}

void ef_clock_watch_tick(struct ef_clock_watch *w)
{
    int64_t mono = ef_mono_ms(), wall = ef_wall_ms();
    int64_t jump = ef_clock_watch_feed(w, wall, mono);
    if (jump)
        ef_warn("clock: the wall clock jumped by %+" PRId64 " ms against the monotonic clock "
                "(%" PRIu64 " jump(s) so far)", jump, ef_clock_watch_jumps(w));
    if (jump || mono >= w->next_sync_check) {
        check_sync(w);
        w->next_sync_check = mono + 1000;
    }
}
