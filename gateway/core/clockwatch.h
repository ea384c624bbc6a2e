/* The wall clock readings are stamped with: is it synchronised, and did it
 * jump? A Raspberry Pi has no RTC: it boots with the time it last saved
 * and NTP steps the clock once the network is up, so readings taken before
 * then carry a wrong time. The main thread calls ef_clock_watch_tick()
 * every ~100 ms; the core asks ef_clock_watch_unsynced() per message.
 *
 * Synchronisation comes from the kernel (adjtimex, read only: STA_UNSYNC);
 * where that is refused (the unit's ProtectClock= makes it EPERM),
 * from systemd-timesyncd's flag /run/systemd/timesync/synchronized; with
 * neither, it is unknown and only jumps are seen. */
#ifndef EF_CLOCKWATCH_H
#define EF_CLOCKWATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

/* A wall clock step larger than this against the monotonic clock between
 * two ticks is a jump (NTP slews by at most 0.5 ms per second). */
#define EF_CLOCK_JUMP_MS 1000

enum ef_clock_sync { EF_CLOCK_SYNCED, EF_CLOCK_UNSYNCED, EF_CLOCK_UNKNOWN };

struct ef_clock_watch {
    enum ef_clock_unsynced mode;
    int64_t wall0, mono0; /* the previous tick's readings; mono0 < 0 before the first */
    int64_t next_sync_check;
    int source;           /* 0 kernel, 1 timesyncd's flag, 2 none */
    bool synchroniser;    /* a time synchroniser is known to run (auto mode) */
    enum ef_clock_sync sync;
    atomic_bool mark;     /* messages made now get "clock":"unsynced" */
    atomic_uint_fast64_t jumps;
};

void ef_clock_watch_init(struct ef_clock_watch *w, enum ef_clock_unsynced mode);

/* Pure: takes one pair of readings; returns the jump in ms (how much more
 * the wall clock moved than the monotonic one, negative backwards) when it
 * exceeds EF_CLOCK_JUMP_MS, else 0. Counts jumps. */
int64_t ef_clock_watch_feed(struct ef_clock_watch *w, int64_t wall_ms, int64_t mono_ms);

/* Reads both clocks, logs a jump, and once a second the synchronisation
 * state (logging its changes). */
void ef_clock_watch_tick(struct ef_clock_watch *w);

/* Whether a message made now must say its time is not trustworthy. */
static inline bool ef_clock_watch_unsynced(struct ef_clock_watch *w)
{
    return w && atomic_load_explicit(&w->mark, memory_order_relaxed);
}

static inline uint64_t ef_clock_watch_jumps(struct ef_clock_watch *w)
{
    return atomic_load_explicit(&w->jumps, memory_order_relaxed);
}

#endif
