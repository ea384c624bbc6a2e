/* The web view's private state, shared by web.c (server, routes,
 * authentication, publishing) and web_sse.c (the event streams). */
#ifndef EF_WEB_PRIV_H
#define EF_WEB_PRIV_H

#include <pthread.h>

#include "gateway/web/mhd_dl.h"
#include "gateway/web/web.h"

#define EF_WEB_MAX_CONNECTIONS 32 /* whole server */
#define EF_WEB_MAX_PER_IP 16      /* one client cannot take every slot */
#define EF_WEB_MAX_STREAMS 16     /* /events at once; more get 503 */
#define EF_WEB_IDLE_TIMEOUT_S 15  /* a connection that moves no byte is closed */
#define EF_WEB_KEEPALIVE_MS 15000 /* comment line on a stream with nothing new */
#define EF_WEB_SNDBUF 32768       /* kernel buffer per connection */
#define EF_WEB_ENCODED_MAX (8u << 20)

struct sse_client {
    struct ef_web *w;
    struct MHD_Connection *conn;
    struct sse_client *next;
    bool suspended;
    uint64_t seq;     /* of the snapshot it was sent last */
    int64_t last_ms;  /* monotonic, last bytes handed to the server */
    char *buf;        /* the message being sent: one snapshot at most */
    size_t len, off, cap;
};

struct ef_web {
    const struct ef_mhd *m;
    struct MHD_Daemon *daemon;
    struct ef_http cfg;
    char cred[512]; /* "user:password", "" without authentication */
    size_t cred_len;

    pthread_mutex_t lock; /* guards what follows; held only to copy */
    char *json, *metrics; /* current encodings */
    size_t json_len, metrics_len;
    uint64_t seq;         /* bumped by each publish */
    struct sse_client *clients;
    unsigned nstreams;
    bool stopping;

    /* The publisher's own buffers (main thread only), swapped with the above. */
    char *enc_json, *enc_metrics;
    size_t enc_json_cap, enc_metrics_cap, json_cap, metrics_cap;
};

/* Answers GET /events: a new stream, or 503 when EF_WEB_MAX_STREAMS are open. */
enum MHD_Result ef_web_sse_open(struct ef_web *w, struct MHD_Connection *conn);

/* With w->lock held: wakes every suspended stream (new snapshot, or stop). */
void ef_web_sse_wake(struct ef_web *w);

/* Queues a complete response; MODE as for MHD_create_response_from_buffer. */
enum MHD_Result ef_web_respond(struct ef_web *w, struct MHD_Connection *conn,
                               unsigned status, const char *type, const void *data,
                               size_t len, enum MHD_ResponseMemoryMode mode);

#endif
