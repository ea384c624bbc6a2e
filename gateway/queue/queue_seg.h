/* Segment files and the cursor file of the queue: naming, listing, a
 * bounded sequential record reader, and durable small-file writes.
 *
 * Private to gateway/queue*.c. No logging here: functions return 0 or a
 * negative errno and the queue decides what to say. Only regular files of
 * our own are read, cut or deleted (common/file.h). */
#ifndef EF_QUEUE_SEG_H
#define EF_QUEUE_SEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/queue/queue_format.h"

/* Reader buffer: twice the largest record, so a record that starts in the
 * first half is always whole after one refill. Fixed: replay memory does not
 * depend on the backlog. */
#define EF_QREADER_BUF (2 * EF_QREC_MAX)

#define EF_QSEG_PATH_MAX 4096

/* "DIR/alarm-0000000000000001.q" or "DIR/telem-...". */
void ef_qseg_path(char *out, size_t n, const char *dir, int cls, uint64_t id);

/* Segment ids of class CLS in DIR, ascending, in a malloc'd array the caller
 * frees (NULL when *N is 0). Returns 0 or a negative errno. */
int ef_qseg_list(const char *dir, int cls, uint64_t **ids, size_t *n);

/* Creates segment ID of CLS, exclusively (-EEXIST when the name is taken by
 * anything), and makes its directory entry durable. Returns the fd opened
 * for writing or -errno. */
int ef_qseg_create(const char *dir, int cls, uint64_t id);

/* Deletes segment ID of CLS if it is our regular file (common/file.h: a
 * refusal leaves it alone); an absent one is success. */
int ef_qseg_unlink(const char *dir, int cls, uint64_t id);

int ef_qfsync_dir(const char *dir);

/* Reads the cursor; returns 0, -ENOENT when there is none, -EILSEQ when it is
 * corrupt, a refusal of common/file.h, or another negative errno. */
int ef_qcursor_read(const char *dir, struct ef_qpos pos[2]);

/* write DIR/cursor.tmp + fdatasync + rename + fsync DIR (ef_file_replace). */
int ef_qcursor_write(const char *dir, const struct ef_qpos pos[2]);

/* Sequential reader of one segment, through a fixed buffer. */
struct ef_qreader {
    int fd;          /* -1 when closed */
    uint64_t seg;    /* id of the open segment */
    uint64_t base;   /* file offset of buf[0] */
    size_t len, pos; /* valid bytes in buf; next record candidate at buf[pos] */
    uint8_t *buf;    /* EF_QREADER_BUF bytes, allocated by ef_qreader_init */
    bool in_bad;     /* inside a run of bytes that is not a valid record */
    uint64_t bad_start;
    uint64_t bad_regions; /* corrupt runs met so far (cumulative) */
    uint64_t tail_bad;    /* after a 0 return: where a corrupt tail starts, or UINT64_MAX */
};

/* Returns 0 or -ENOMEM. */
int ef_qreader_init(struct ef_qreader *r);
void ef_qreader_free(struct ef_qreader *r);

/* Opens segment ID of CLS positioned at byte OFF, if it is our regular
 * file. Returns 0 or -errno (a refusal of common/file.h included). */
int ef_qreader_open(struct ef_qreader *r, const char *dir, int cls, uint64_t id, uint64_t off);
void ef_qreader_close(struct ef_qreader *r);

/* Next valid record that ends at or before LIMIT (the segment's known size;
 * everything below LIMIT is expected to be whole records). Corrupt runs are
 * skipped by searching for the next valid record and counted in
 * bad_regions. Returns 1 with *REC (pointing into the reader's buffer, valid
 * until the next call), *ROFF and *RLEN set; 0 at LIMIT (tail_bad says
 * whether the bytes before LIMIT ended in a corrupt run); or -errno. */
int ef_qreader_next(struct ef_qreader *r, uint64_t limit, struct ef_qrec *rec, uint64_t *roff,
                    uint32_t *rlen);

#endif
