/* Fuzz target: queue recovery (ef_queue_open) from arbitrary files on disk.
 *
 * The input is cut into up to three files in a private directory: an alarm
 * segment, a telemetry segment and (optionally) a cursor. The first byte
 * says how: bit 0 writes a cursor, bit 1 makes that cursor's CRC right so
 * the fuzzer gets past the check, bit 2 numbers the segments high. The next
 * two bytes are the alarm segment's length. Recovery must never fail on
 * damaged files, must hand out exactly the messages it says it recovered,
 * each well-formed, and a second open after close must recover the same
 * messages again (nothing was acknowledged). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "gateway/queue/queue.h"
#include "gateway/queue/queue_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void write_file(const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (n && fwrite(p, 1, n, f) != n)
        abort();
    fclose(f);
}

/* Removes every file of the directory (the queue makes no subdirectories). */
static void clear_dir(void)
{
    DIR *d = opendir(dir);
    if (!d)
        abort();
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

static void remove_dir(void)
{
    clear_dir();
    rmdir(dir);
}

/* Opens, takes every message (each checked), puts them all back, closes.
 * Returns how many were taken; that must be what recovery announced. */
static uint64_t drain(void)
{
    struct ef_queue_cfg cfg = {.max_disk_mb = 1, .memory_kb = 64, .flush_ms = 0,
                               .replay = EF_REPLAY_FIFO};
    struct ef_queue *q = NULL;
    if (ef_queue_open(dir, &cfg, &q) != 0 || !q)
        abort();
    struct ef_queue_stats st;
    ef_queue_get_stats(q, &st);
    size_t cap = (size_t)st.recovered_msgs + 1, taken = 0;
    struct ef_qmsg **held = calloc(cap, sizeof *held);
    struct ef_qmsg *m;
    while (taken < cap && ef_queue_take(q, &m) == 0) {
        if (!m->topic || m->qos < 0 || m->qos > 2 || m->cls > EF_CLASS_TELEMETRY ||
            m->payload_len > EF_QREC_MAX)
            abort();
        held[taken++] = m;
    }
    if (taken != st.recovered_msgs)
        abort();
    for (size_t i = taken; i > 0; i--)
        ef_queue_nack(q, held[i - 1]);
    free(held);
    if (ef_queue_close(q) != 0)
        abort();
    return taken;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        ef_log_set_level(EF_LOG_ERROR); /* recovery warns on every damaged file */
        snprintf(dir, sizeof dir, "/dev/shm/ef-fuzz-queue-%d", (int)getpid());
        if (access("/dev/shm", W_OK) != 0)
            snprintf(dir, sizeof dir, "/tmp/ef-fuzz-queue-%d", (int)getpid());
        char *d = mkdtemp(strcat(dir, "-XXXXXX"));
        if (!d)
            abort();
        atexit(remove_dir);
    }
    if (size < 3 || size > 1 << 18)
        return 0;
    clear_dir();
    uint8_t flags = data[0];
    size_t alen = (size_t)data[1] << 8 | data[2];
    data += 3;
    size -= 3;
    if (alen > size)
        alen = size;
    uint64_t base = (flags & 4) ? 0xfffffffffffffff0u : 1;
    char name[64];
    snprintf(name, sizeof name, "alarm-%016llx.q", (unsigned long long)base);
    write_file(name, data, alen);
    size_t rest = size - alen, clen = (flags & 1) && rest >= EF_QCUR_SIZE ? EF_QCUR_SIZE : 0;
    snprintf(name, sizeof name, "telem-%016llx.q", (unsigned long long)base + 1);
    write_file(name, data + alen, rest - clen);
    if (clen) {
        uint8_t cur[EF_QCUR_SIZE];
        memcpy(cur, data + alen + rest - clen, EF_QCUR_SIZE);
        if (flags & 2) {
            uint32_t crc = ef_qcrc32(0, cur, 40);
            for (int i = 0; i < 4; i++)
                cur[40 + i] = (uint8_t)(crc >> (8 * i));
        }
        write_file("cursor", cur, EF_QCUR_SIZE);
    }

    uint64_t first = drain();
    if (drain() != first)
        abort();
    return 0;
}
