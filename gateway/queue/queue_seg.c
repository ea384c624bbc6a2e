/* Segment and cursor files of the queue (see queue_seg.h). */
#include "gateway/queue/queue_seg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"

static const char *const cls_prefix[2] = { "alarm-", "telem-" };

void ef_qseg_path(char *out, size_t n, const char *dir, int cls, uint64_t id)
{
    snprintf(out, n, "%s/%s%016" PRIx64 ".q", dir, cls_prefix[cls], id);
}

/* Parses "<prefix><16 hex>.q"; anything else in DIR is not ours. */
static bool parse_name(const char *name, int cls, uint64_t *id)
{
    size_t pl = strlen(cls_prefix[cls]);
    if (strncmp(name, cls_prefix[cls], pl) != 0 || strlen(name) != pl + 18 ||
        strcmp(name + pl + 16, ".q") != 0)
        return false;
    uint64_t v = 0;
    for (size_t i = pl; i < pl + 16; i++) {
        char c = name[i];
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        v = v << 4 | (uint64_t)d;
    }
    *id = v;
    return true;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int ef_qseg_list(const char *dir, int cls, uint64_t **ids, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    uint64_t *v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        uint64_t id;
        if (!parse_name(e->d_name, cls, &id))
            continue;
        if (cnt == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            uint64_t *nv = realloc(v, ncap * sizeof(*nv));
            if (!nv) {
                rc = -ENOMEM;
                break;
            }
            v = nv;
            cap = ncap;
        }
        v[cnt++] = id;
    }
    closedir(d);
    if (rc < 0) {
        free(v);
        return rc;
    }
    if (cnt)
        qsort(v, cnt, sizeof(*v), cmp_u64);
    *ids = v;
    *n = cnt;
    return 0;
}

int ef_qfsync_dir(const char *dir)
{
    return ef_file_sync_dir(dir);
}

int ef_qseg_create(const char *dir, int cls, uint64_t id)
{
    char path[EF_QSEG_PATH_MAX];
    ef_qseg_path(path, sizeof(path), dir, cls, id);
    /* Exclusive: a name already taken (another gateway's segment, or
     * anything else) is never truncated or written through. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    /* Without this a power cut can lose the file even after fdatasync. */
    int rc = ef_qfsync_dir(dir);
    if (rc < 0) {
        close(fd);
        unlink(path);
        return rc;
    }
    return fd;
}

int ef_qseg_unlink(const char *dir, int cls, uint64_t id)
{
    char path[EF_QSEG_PATH_MAX];
    ef_qseg_path(path, sizeof(path), dir, cls, id);
    return ef_file_unlink(path);
}

int ef_qcursor_read(const char *dir, struct ef_qpos pos[2])
{
    char path[EF_QSEG_PATH_MAX];
    snprintf(path, sizeof(path), "%s/cursor", dir);
    int fd = ef_file_open(path, O_RDONLY, 0);
    if (fd < 0)
        return fd;
    uint8_t buf[EF_QCUR_SIZE + 1];
    ssize_t n = read(fd, buf, sizeof(buf));
    int err = errno;
    close(fd);
    if (n < 0)
        return -err;
    return ef_qcur_decode(buf, (size_t)n, pos) == 0 ? 0 : -EILSEQ;
}

int ef_qcursor_write(const char *dir, const struct ef_qpos pos[2])
{
    char path[EF_QSEG_PATH_MAX];
    snprintf(path, sizeof(path), "%s/cursor", dir);
    uint8_t buf[EF_QCUR_SIZE];
    ef_qcur_encode(pos, buf);
    return ef_file_replace(path, buf, sizeof(buf));
}

int ef_qreader_init(struct ef_qreader *r)
{
    memset(r, 0, sizeof(*r));
    r->fd = -1;
    r->tail_bad = UINT64_MAX;
    r->buf = malloc(EF_QREADER_BUF);
    return r->buf ? 0 : -ENOMEM;
}

void ef_qreader_free(struct ef_qreader *r)
{
    ef_qreader_close(r);
    free(r->buf);
    r->buf = NULL;
}

int ef_qreader_open(struct ef_qreader *r, const char *dir, int cls, uint64_t id, uint64_t off)
{
    char path[EF_QSEG_PATH_MAX];
    ef_qreader_close(r);
    ef_qseg_path(path, sizeof(path), dir, cls, id);
    r->fd = ef_file_open(path, O_RDONLY, 0);
    if (r->fd < 0) {
        int rc = r->fd;
        r->fd = -1;
        return rc;
    }
    r->seg = id;
    r->base = off;
    r->len = r->pos = 0;
    r->in_bad = false;
    r->tail_bad = UINT64_MAX;
    return 0;
}

void ef_qreader_close(struct ef_qreader *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

/* Moves the unread bytes to the front and reads more, up to LIMIT. Returns
 * bytes added (0: nothing more before LIMIT or end of file) or -errno. */
static ssize_t refill(struct ef_qreader *r, uint64_t limit)
{
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->base += r->pos;
        r->len -= r->pos;
        r->pos = 0;
    }
    uint64_t end = r->base + r->len;
    size_t want = EF_QREADER_BUF - r->len;
    if (end >= limit || want == 0)
        return 0;
    if (want > limit - end)
        want = (size_t)(limit - end);
    ssize_t n;
    do
        n = pread(r->fd, r->buf + r->len, want, (off_t)end);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    r->len += (size_t)n;
    return n;
}

static void enter_bad(struct ef_qreader *r)
{
    if (!r->in_bad) {
        r->in_bad = true;
        r->bad_start = r->base + r->pos;
        r->bad_regions++;
    }
}

/* Skips past a bad byte to the next magic candidate, reading more as needed.
 * Returns 0, 1 if the file ended before LIMIT (nothing valid is left), or
 * -errno. */
static int skip_bad(struct ef_qreader *r, uint64_t limit)
{
    enter_bad(r);
    size_t from = r->pos + 1;
    for (;;) {
        size_t m = ef_qrec_find_magic(r->buf, r->len, from);
        if (m < r->len) {
            r->pos = m;
            return 0;
        }
        /* Keep the last 3 bytes: a magic may straddle the refill. */
        size_t keep_from = r->len >= 3 ? r->len - 3 : 0;
        r->pos = keep_from > from ? keep_from : (from < r->len ? from : r->len);
        ssize_t n = refill(r, limit);
        if (n < 0)
            return (int)n;
        if (n == 0) {
            r->pos = r->len;
            return r->base + r->pos < limit ? 1 : 0;
        }
        from = 0;
    }
}

int ef_qreader_next(struct ef_qreader *r, uint64_t limit, struct ef_qrec *rec, uint64_t *roff,
                    uint32_t *rlen)
{
    r->tail_bad = UINT64_MAX;
    for (;;) {
        uint64_t off = r->base + r->pos;
        if (off >= limit) {
            if (r->in_bad)
                r->tail_bad = r->bad_start;
            r->in_bad = false;
            return 0;
        }
        size_t avail = r->len - r->pos;
        if ((uint64_t)avail > limit - off)
            avail = (size_t)(limit - off);
        long n = ef_qrec_decode(r->buf + r->pos, avail, rec);
        if (n > 0) {
            *roff = off;
            *rlen = (uint32_t)n;
            r->pos += (size_t)n;
            r->in_bad = false;
            return 1;
        }
        if (n == EF_QREC_NEED_MORE && off + avail < limit) {
            ssize_t got = refill(r, limit);
            if (got < 0)
                return (int)got;
            if (got > 0)
                continue;
        }
        int rc = skip_bad(r, limit);
        if (rc < 0)
            return rc;
        if (rc == 1) { /* the file is shorter than LIMIT says */
            r->tail_bad = r->bad_start;
            r->in_bad = false;
            return 0;
        }
    }
}
