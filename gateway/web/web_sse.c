/* /events: Server-Sent Events. Each stream holds at most one message (the
 * newest snapshot when it asked for more); a stream with nothing new is
 * suspended until the next publish wakes it, and sends a comment line now
 * and then so that a vanished browser is noticed (PITFALLS.md: suspended
 * connections never time out in libmicrohttpd 0.9.75). */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "gateway/web/web_priv.h"

static bool load(struct sse_client *c, const char *head, const char *body, size_t blen,
                 const char *tail)
{
    size_t hl = strlen(head), tl = strlen(tail), need = hl + blen + tl;
    if (need > c->cap) {
        char *nb = realloc(c->buf, need);
        if (!nb)
            return false;
        c->buf = nb;
        c->cap = need;
    }
    memcpy(c->buf, head, hl);
    memcpy(c->buf + hl, body, blen);
    memcpy(c->buf + hl + blen, tail, tl);
    c->len = need;
    c->off = 0;
    return true;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    struct sse_client *c = cls;
    struct ef_web *w = c->w;
    pthread_mutex_lock(&w->lock);
    if (w->stopping) {
        pthread_mutex_unlock(&w->lock);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    int64_t now = ef_mono_ms();
    if (c->off == c->len) {
        c->off = c->len = 0;
        bool ok = true;
        if (w->json && c->seq != w->seq) {
            /* The first message also says how long to wait before reconnecting. */
            ok = load(c, c->seq == 0 ? "retry: 3000\ndata: " : "data: ", w->json, w->json_len,
                      "\n\n");
            c->seq = w->seq;
        } else if (now - c->last_ms >= EF_WEB_KEEPALIVE_MS) {
            ok = load(c, ": keep-alive\n\n", "", 0, "");
        }
        if (!ok) {
            pthread_mutex_unlock(&w->lock);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
    if (c->len == 0) {
        /* Nothing to send: returning 0 without suspending would spin. */
        c->suspended = true;
        w->m->suspend_connection(c->conn);
        pthread_mutex_unlock(&w->lock);
        return 0;
    }
    size_t n = c->len - c->off < max ? c->len - c->off : max;
    memcpy(out, c->buf + c->off, n);
    c->off += n;
    if (c->off == c->len)
        c->len = c->off = 0;
    c->last_ms = now;
    pthread_mutex_unlock(&w->lock);
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    struct sse_client *c = cls;
    struct ef_web *w = c->w;
    pthread_mutex_lock(&w->lock);
    for (struct sse_client **p = &w->clients; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    w->nstreams--;
    pthread_mutex_unlock(&w->lock);
    free(c->buf);
    free(c);
}

void ef_web_sse_wake(struct ef_web *w)
{
    for (struct sse_client *c = w->clients; c; c = c->next)
        if (c->suspended) {
            c->suspended = false;
            w->m->resume_connection(c->conn);
        }
}

enum MHD_Result ef_web_sse_open(struct ef_web *w, struct MHD_Connection *conn)
{
    static const char busy[] = "too many event streams; try again later\n";
    struct sse_client *c = calloc(1, sizeof *c);
    pthread_mutex_lock(&w->lock);
    bool full = w->nstreams >= EF_WEB_MAX_STREAMS || w->stopping || !c;
    if (!full) {
        c->w = w;
        c->conn = conn;
        c->last_ms = ef_mono_ms();
        c->next = w->clients;
        w->clients = c;
        w->nstreams++;
    }
    pthread_mutex_unlock(&w->lock);
    if (full) {
        free(c);
        return ef_web_respond(w, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", busy,
                              sizeof busy - 1, MHD_RESPMEM_PERSISTENT);
    }
    struct MHD_Response *r =
        w->m->create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, c, sse_free);
    if (!r) {
        sse_free(c);
        return MHD_NO;
    }
    w->m->add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
    w->m->add_response_header(r, "Cache-Control", "no-cache, no-store");
    w->m->add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result rc = w->m->queue_response(conn, MHD_HTTP_OK, r);
    w->m->destroy_response(r); /* the connection holds it; sse_free runs after */
    return rc;
}
