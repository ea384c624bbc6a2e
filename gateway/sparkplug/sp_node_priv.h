/* Private to gateway/sparkplug/sp_node*.c and sp_bdseq.c: the node's state. */
#ifndef EF_SP_NODE_PRIV_H
#define EF_SP_NODE_PRIV_H

#include <pthread.h>

#include "gateway/north/sparkplug.h"
#include "gateway/sparkplug/sp_node.h"
#include "gateway/sparkplug/sp_session.h"

#define SP_TOPIC_MAX (16 + 3 * EF_NAME_MAX + 16)
#define SP_MAX_METRICS 1024 /* per device, as the core's readings per sample */
#define SP_BUF_MAX 65536

struct sp_metric {
    char name[EF_NAME_MAX + 1];
    uint64_t alias;
    enum ef_sp_type type;
    char unit[33];
    bool known; /* a value was read */
    struct ef_value value; /* a string's text lives in TEXT */
    char *text;
    size_t text_cap;
    int64_t ts_ms;
};

struct sp_dev {
    char name[EF_NAME_MAX + 1];
    bool serial;
    struct sp_metric *m;
    size_t n, cap;
    char t_ddata[SP_TOPIC_MAX], t_dbirth[SP_TOPIC_MAX], t_ddeath[SP_TOPIC_MAX];
};

/* One configuration's devices (replaced whole on reload). */
struct sp_table {
    struct sp_dev *devs;
    struct ef_sps_dev *state;
    size_t ndevs;
    uint64_t next_alias;
};

struct ef_sp_node {
    pthread_mutex_t lock; /* guards everything below */
    struct ef_sps s;
    struct sp_table t;
    char group[EF_NAME_MAX + 1], node[EF_NAME_MAX + 1], host[EF_NAME_MAX + 1];
    char t_nbirth[SP_TOPIC_MAX], t_ndeath[SP_TOPIC_MAX], t_ncmd[SP_TOPIC_MAX];
    char t_dcmd[SP_TOPIC_MAX];  /* spBv1.0/G/DCMD/N/ + device, and the /+ filter */
    char t_dcmd_filter[SP_TOPIC_MAX + 2];
    char t_state[SP_TOPIC_MAX];
    char bdseq_path[EF_STR_MAX + 32]; /* "" when not persisted */
    uint8_t will_buf[64];
    int64_t will_ts;
    uint8_t *buf;                  /* SP_BUF_MAX: control and prepare output */
    struct ef_sp_metric *scratch;  /* SP_MAX_METRICS decoded metrics */
    struct ef_sp_stats st;
    ef_sp_write_fn write_fn;
    void *write_ctx;
};

#define SP_DCMD_MAX 64 /* metrics of one DCMD that are written */

/* A DCMD decoded under the lock, written after it. */
struct sp_dcmd {
    char device[EF_NAME_MAX + 1];
    char points[SP_DCMD_MAX][EF_NAME_MAX + 1]; /* copies: a reload may replace the table */
    struct ef_value values[SP_DCMD_MAX];
    size_t n;
    int64_t ts_ms;
};

/* sp_node.c */
struct sp_metric *ef_sp_metric_find(struct sp_dev *d, size_t hint, const char *name, size_t len);
struct sp_dev *ef_sp_dev_by_name(struct sp_table *t, const char *name, size_t len, size_t *index);

/* sp_bdseq.c: the bdSeq of the last CONNECT, or -1 (none, or unreadable: logged). */
int ef_sp_bdseq_load(const char *path);
/* Writes it (write, fsync, rename, fsync dir). Returns 0 or -errno. */
int ef_sp_bdseq_save(const char *path, uint8_t bdseq);

/* sp_node_msgs.c: what arrives, with the lock held. */
bool ef_sp_on_state(struct ef_sp_node *n, const char *payload, size_t len);
bool ef_sp_on_ncmd(struct ef_sp_node *n, const void *payload, size_t len);
void ef_sp_on_dcmd(struct ef_sp_node *n, const char *device, size_t dlen, const void *payload,
                   size_t len, struct sp_dcmd *out);

#endif
