/* Fuzz target: the queue's pure on-disk formats (gateway/queue/queue_format.h).
 *
 * Walks the input as a segment file the way recovery does: decode a record,
 * or on a bad one search for the next magic. A record that decodes must
 * re-encode to exactly the same bytes (nothing in a valid record is
 * ignored) and lie wholly inside the input. The first 44 bytes are also
 * tried as a cursor file, which must round-trip too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/queue/queue_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_record(const uint8_t *buf, size_t avail, long len, const struct ef_qrec *rec)
{
    static uint8_t again[EF_QREC_MAX];
    if ((size_t)len > avail || (size_t)len < EF_QREC_HDR || (size_t)len > EF_QREC_MAX)
        abort();
    const uint8_t *t = (const uint8_t *)rec->topic, *pl = rec->payload;
    if (t < buf || t + rec->topic_len > buf + len || pl < buf ||
        pl + rec->payload_len > buf + len || rec->qos > 2 || rec->cls > 1 || rec->retain > 1)
        abort();
    if (ef_qrec_size(rec) != (size_t)len || ef_qrec_encode(rec, again, sizeof again) != (size_t)len ||
        memcmp(again, buf, (size_t)len) != 0)
        abort();
}

static void check_cursor(const uint8_t *buf, size_t size)
{
    struct ef_qpos pos[2];
    if (ef_qcur_decode(buf, size, pos) != 0)
        return;
    uint8_t again[EF_QCUR_SIZE];
    ef_qcur_encode(pos, again);
    if (size < EF_QCUR_SIZE || memcmp(again, buf, EF_QCUR_SIZE) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so that reading past the end is caught. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    check_cursor(buf, size < EF_QCUR_SIZE ? size : EF_QCUR_SIZE);

    size_t off = 0;
    while (off < size) {
        struct ef_qrec rec;
        long len = ef_qrec_decode(buf + off, size - off, &rec);
        if (len > 0) {
            check_record(buf + off, size - off, len, &rec);
            off += (size_t)len;
        } else if (len == EF_QREC_NEED_MORE) {
            break;
        } else if (len == EF_QREC_BAD) {
            size_t next = ef_qrec_find_magic(buf, size, off + 1);
            if (next <= off || next > size)
                abort();
            off = next;
        } else {
            abort();
        }
    }
    free(buf);
    return 0;
}
