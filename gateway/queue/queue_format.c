/* Record and cursor encoding for the queue (see queue_format.h). Pure. */
#include "gateway/queue/queue_format.h"

#include <pthread.h>
#include <string.h>

/* Slicing-by-8 tables: start-up recovery CRCs a whole full queue (64 MB by
 * default), so the bytewise loop (~400 MB/s) would eat much of the 1 s. */
static uint32_t crc_tab[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xFFu];
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    put_u32(p, (uint32_t)v);
    put_u32(p + 4, (uint32_t)(v >> 32));
}

uint32_t ef_qcrc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    pthread_once(&crc_once, crc_init);
    crc = ~crc;
    while (len >= 8) {
        uint32_t lo = get_u32(p) ^ crc, hi = get_u32(p + 4);
        crc = crc_tab[7][lo & 0xFFu] ^ crc_tab[6][(lo >> 8) & 0xFFu] ^
              crc_tab[5][(lo >> 16) & 0xFFu] ^ crc_tab[4][lo >> 24] ^
              crc_tab[3][hi & 0xFFu] ^ crc_tab[2][(hi >> 8) & 0xFFu] ^
              crc_tab[1][(hi >> 16) & 0xFFu] ^ crc_tab[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = crc_tab[0][(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

/* The CRC skips its own field: bytes [0, 8) then [12, len). */
static uint32_t rec_crc(const uint8_t *buf, size_t len)
{
    uint32_t crc = ef_qcrc32(0, buf, EF_QREC_OFF_CRC);
    return ef_qcrc32(crc, buf + EF_QREC_OFF_TS, len - EF_QREC_OFF_TS);
}

size_t ef_qrec_size(const struct ef_qrec *rec)
{
    if (rec->cls > 1 || rec->qos > 2 || rec->topic_len > 0xFFFFu)
        return 0;
    if (rec->payload_len > EF_QREC_MAX || rec->topic_len + rec->payload_len > EF_QREC_MAX)
        return 0;
    size_t n = EF_QREC_HDR + rec->topic_len + rec->payload_len;
    return n <= EF_QREC_MAX ? n : 0;
}

size_t ef_qrec_encode(const struct ef_qrec *rec, uint8_t *buf, size_t cap)
{
    size_t n = ef_qrec_size(rec);
    if (n == 0 || n > cap)
        return 0;
    put_u32(buf + EF_QREC_OFF_MAGIC, EF_QREC_MAGIC);
    put_u32(buf + EF_QREC_OFF_LEN, (uint32_t)n);
    put_u64(buf + EF_QREC_OFF_TS, (uint64_t)rec->ts_ms);
    buf[EF_QREC_OFF_TOPIC_LEN] = (uint8_t)rec->topic_len;
    buf[EF_QREC_OFF_TOPIC_LEN + 1] = (uint8_t)(rec->topic_len >> 8);
    buf[EF_QREC_OFF_CLS] = rec->cls;
    buf[EF_QREC_OFF_FLAGS] = (uint8_t)(rec->qos | (rec->retain ? EF_QREC_FLAG_RETAIN : 0u));
    if (rec->topic_len)
        memcpy(buf + EF_QREC_HDR, rec->topic, rec->topic_len);
    if (rec->payload_len)
        memcpy(buf + EF_QREC_HDR + rec->topic_len, rec->payload, rec->payload_len);
    put_u32(buf + EF_QREC_OFF_CRC, rec_crc(buf, n));
    return n;
}

long ef_qrec_decode(const uint8_t *buf, size_t avail, struct ef_qrec *out)
{
    if (avail < EF_QREC_HDR)
        return EF_QREC_NEED_MORE;
    if (get_u32(buf + EF_QREC_OFF_MAGIC) != EF_QREC_MAGIC)
        return EF_QREC_BAD;
    uint32_t len = get_u32(buf + EF_QREC_OFF_LEN);
    size_t topic_len = (size_t)buf[EF_QREC_OFF_TOPIC_LEN] | (size_t)buf[EF_QREC_OFF_TOPIC_LEN + 1] << 8;
    uint8_t cls = buf[EF_QREC_OFF_CLS], flags = buf[EF_QREC_OFF_FLAGS];
    /* Reject impossible headers before asking for more bytes, so that
     * garbage claiming a huge length does not stall the reader. */
    if (len < EF_QREC_HDR || len > EF_QREC_MAX || topic_len > len - EF_QREC_HDR)
        return EF_QREC_BAD;
    if (cls > 1 || (flags & ~(EF_QREC_FLAG_QOS_MASK | EF_QREC_FLAG_RETAIN)) != 0 ||
        (flags & EF_QREC_FLAG_QOS_MASK) > 2)
        return EF_QREC_BAD;
    if (len > avail)
        return EF_QREC_NEED_MORE;
    if (rec_crc(buf, len) != get_u32(buf + EF_QREC_OFF_CRC))
        return EF_QREC_BAD;
    out->cls = cls;
    out->qos = flags & EF_QREC_FLAG_QOS_MASK;
    out->retain = (flags & EF_QREC_FLAG_RETAIN) != 0;
    out->ts_ms = (int64_t)get_u64(buf + EF_QREC_OFF_TS);
    out->topic = (const char *)buf + EF_QREC_HDR;
    out->topic_len = topic_len;
    out->payload = buf + EF_QREC_HDR + topic_len;
    out->payload_len = len - EF_QREC_HDR - topic_len;
    return (long)len;
}

size_t ef_qrec_find_magic(const uint8_t *buf, size_t len, size_t from)
{
    static const uint8_t m[4] = { 'E', 'F', 'Q', 'r' };
    while (from + 4 <= len) {
        const uint8_t *p = memchr(buf + from, m[0], len - from - 3);
        if (!p)
            return len;
        if (memcmp(p, m, 4) == 0)
            return (size_t)(p - buf);
        from = (size_t)(p - buf) + 1;
    }
    return len;
}

void ef_qcur_encode(const struct ef_qpos pos[2], uint8_t out[EF_QCUR_SIZE])
{
    put_u32(out, EF_QCUR_MAGIC);
    put_u32(out + 4, EF_QCUR_VERSION);
    for (int c = 0; c < 2; c++) {
        put_u64(out + 8 + 16 * c, pos[c].seg);
        put_u64(out + 16 + 16 * c, pos[c].off);
    }
    put_u32(out + 40, ef_qcrc32(0, out, 40));
}

int ef_qcur_decode(const uint8_t *buf, size_t len, struct ef_qpos pos[2])
{
    if (len != EF_QCUR_SIZE || get_u32(buf) != EF_QCUR_MAGIC || get_u32(buf + 4) != EF_QCUR_VERSION)
        return -1;
    if (ef_qcrc32(0, buf, 40) != get_u32(buf + 40))
        return -1;
    for (int c = 0; c < 2; c++) {
        pos[c].seg = get_u64(buf + 8 + 16 * c);
        pos[c].off = get_u64(buf + 16 + 16 * c);
    }
    return 0;
}
