/* The queue's on-disk formats: segment records and the cursor file.
 *
 * Pure functions only (no I/O, no logging), so that they are unit-tested
 * directly and can be fuzzed. All integers are little-endian.
 *
 * Segment file DIR/<class>-<id as 16 hex digits>.q ("alarm-" or "telem-"):
 * a plain sequence of records, appended only. A record:
 *
 *   0        4        8        12                20       22   23   24
 *   +--------+--------+--------+-----------------+--------+----+----+------ - -
 *   | magic  | length | crc32  | ts_ms (int64)   |topic_  |cls |flg | topic,
 *   | "EFQr" | (u32)  | (u32)  |                 |len u16 | u8 | u8 | payload
 *   +--------+--------+--------+-----------------+--------+----+----+------ - -
 *   |<----------------------- EF_QREC_HDR = 24 ------------------->|
 *   |<------------------------------ length ------------------------------- ->|
 *
 *   length   whole record, header included: 24 + topic_len + payload length
 *   crc32    CRC-32 (IEEE, as zlib) over bytes [0, 8) and [12, length): the
 *            header minus the crc field, then topic and payload. A torn
 *            write, a flipped bit or garbage fails it.
 *   flg      bits 0-1 QoS (0..2), bit 2 retain, other bits 0
 *   cls      enum ef_msg_class (0 alarm, 1 telemetry)
 *
 * The magic lets a reader re-synchronise after a corrupt record: it looks
 * for the next offset where a record with a valid CRC starts.
 *
 * Cursor file DIR/cursor (written to DIR/cursor.tmp, fdatasync, rename,
 * fsync DIR): what was acknowledged, per class the first position not yet
 * acknowledged (segment id, byte offset).
 *
 *   0        4        8                 16                24        ...   40       44
 *   +--------+--------+-----------------+-----------------+--- - - ---+--------+
 *   | "EFQc" | version| alarm seg id    | alarm offset    | telemetry | crc32  |
 *   |        | (u32=1)| (u64)           | (u64)           | seg, off  | [0,40) |
 *   +--------+--------+-----------------+-----------------+--- - - ---+--------+
 */
#ifndef EF_QUEUE_FORMAT_H
#define EF_QUEUE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define EF_QREC_MAGIC 0x72514645u /* "EFQr" read as little-endian bytes */
#define EF_QREC_HDR 24u
/* Largest record: bounds the reader's buffer (memory does not grow with
 * records or backlog). Messages of this gateway are a few hundred bytes. */
#define EF_QREC_MAX 65536u

#define EF_QREC_OFF_MAGIC 0
#define EF_QREC_OFF_LEN 4
#define EF_QREC_OFF_CRC 8
#define EF_QREC_OFF_TS 12
#define EF_QREC_OFF_TOPIC_LEN 20
#define EF_QREC_OFF_CLS 22
#define EF_QREC_OFF_FLAGS 23

#define EF_QREC_FLAG_QOS_MASK 0x03u
#define EF_QREC_FLAG_RETAIN 0x04u

#define EF_QCUR_MAGIC 0x63514645u /* "EFQc" */
#define EF_QCUR_VERSION 1u
#define EF_QCUR_SIZE 44u

/* A decoded record. topic and payload point into the buffer that was
 * decoded (not NUL-terminated), valid as long as that buffer is. */
struct ef_qrec {
    uint8_t cls;
    uint8_t qos;
    uint8_t retain;
    int64_t ts_ms;
    const char *topic;
    size_t topic_len;
    const void *payload;
    size_t payload_len;
};

/* Per class: the first position not yet acknowledged. */
struct ef_qpos {
    uint64_t seg;
    uint64_t off;
};

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32()); start with crc = 0. */
uint32_t ef_qcrc32(uint32_t crc, const void *data, size_t len);

/* Size of the record that would hold REC (0 if it cannot: topic longer than
 * 65535, record longer than EF_QREC_MAX, cls > 1 or qos > 2). */
size_t ef_qrec_size(const struct ef_qrec *rec);

/* Encodes REC into BUF (CAP bytes). Returns the record's length, or 0 if it
 * does not fit or ef_qrec_size() is 0. */
size_t ef_qrec_encode(const struct ef_qrec *rec, uint8_t *buf, size_t cap);

#define EF_QREC_NEED_MORE 0 /* plausible header, record longer than AVAIL */
#define EF_QREC_BAD (-1)    /* not a valid record at this offset */

/* Decodes the record at BUF (AVAIL bytes readable). Returns its length (> 0)
 * with *OUT filled, EF_QREC_NEED_MORE if AVAIL is too short to tell (fewer
 * than EF_QREC_HDR bytes, or the header's length is beyond AVAIL), or
 * EF_QREC_BAD (wrong magic, impossible length or fields, CRC mismatch). */
long ef_qrec_decode(const uint8_t *buf, size_t avail, struct ef_qrec *out);

/* Offset of the next byte sequence equal to the record magic in
 * BUF[FROM, LEN), or LEN if there is none. */
size_t ef_qrec_find_magic(const uint8_t *buf, size_t len, size_t from);

/* The cursor file's content for POS[2] (alarm, telemetry). */
void ef_qcur_encode(const struct ef_qpos pos[2], uint8_t out[EF_QCUR_SIZE]);

/* Returns 0 with POS[2] filled, or -1 if BUF is not a valid cursor. */
int ef_qcur_decode(const uint8_t *buf, size_t len, struct ef_qpos pos[2]);

#endif
