/* The HTTP server of the local web view: listening socket, routes, HTTP
 * Basic authentication, and the snapshot that the main thread publishes. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "gateway/north/json.h"
#include "gateway/web/web_priv.h"

enum MHD_Result ef_web_respond(struct ef_web *w, struct MHD_Connection *conn,
                               unsigned status, const char *type, const void *data,
                               size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = w->m->create_response_from_buffer(len, (void *)data, mode);
    if (!r)
        return MHD_NO;
    w->m->add_response_header(r, "Content-Type", type);
    w->m->add_response_header(r, "Cache-Control", "no-store");
    w->m->add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (status == MHD_HTTP_UNAUTHORIZED)
        w->m->add_response_header(r, "WWW-Authenticate",
                                  "Basic realm=\"edgeferry\", charset=\"UTF-8\"");
    if (type[0] == 't' && strncmp(type, "text/html", 9) == 0)
        w->m->add_response_header(r, "Content-Security-Policy",
                                  "default-src 'none'; script-src 'unsafe-inline'; "
                                  "style-src 'unsafe-inline'; connect-src 'self'; "
                                  "img-src data:; frame-ancestors 'none'");
    enum MHD_Result rc = w->m->queue_response(conn, status, r);
    w->m->destroy_response(r);
    return rc;
}

/* ---- authentication ---- */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes base64 IN into OUT (CAP bytes); -1 on junk or overflow. */
static long b64_decode(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *in && *in != '='; in++) {
        int v = b64_value((unsigned char)*in);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= cap)
                return -1;
            out[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    return (long)n;
}

/* Compares in a time that depends only on the expected length, so the
 * answer time says nothing about how much of a guess was right. */
static bool same_secret(const char *got, size_t glen, const char *want, size_t wlen)
{
    unsigned char diff = glen != wlen;
    for (size_t i = 0; i < wlen; i++)
        diff |= (unsigned char)want[i] ^ (unsigned char)(i < glen ? got[i] : 0);
    return diff == 0;
}

static bool authorized(struct ef_web *w, struct MHD_Connection *conn)
{
    if (w->cred_len == 0)
        return true;
    const char *h = w->m->lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Basic ", 6) != 0)
        return false;
    h += 6;
    while (*h == ' ')
        h++;
    char dec[sizeof w->cred];
    long n = b64_decode(h, dec, sizeof dec);
    bool ok = n >= 0 && same_secret(dec, (size_t)n, w->cred, w->cred_len);
    memset(dec, 0, sizeof dec);
    return ok;
}

/* The first line of PATH, "user:password", into OUT. */
static int read_credentials(const char *path, char *out, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        ef_err("http: cannot read password_file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
        ef_warn("http: password_file %s is readable by other users (chmod 600 it)", path);
    char line[sizeof ((struct ef_web *)0)->cred + 2] = "";
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    size_t n = strlen(line);
    int rc = 0;
    if (!strchr(line, ':') || line[0] == ':' || n >= cap) {
        ef_err("http: password_file %s: the first line must be user:password (under %zu "
               "characters)", path, cap);
        rc = -1;
    } else {
        memcpy(out, line, n + 1);
        *len = n;
    }
    memset(line, 0, sizeof line);
    return rc;
}

/* ---- routes ---- */

static enum MHD_Result copy_current(struct ef_web *w, struct MHD_Connection *conn, bool metrics)
{
    static const char none[] = "starting\n";
    pthread_mutex_lock(&w->lock);
    const char *data = metrics ? w->metrics : w->json;
    size_t len = metrics ? w->metrics_len : w->json_len;
    enum MHD_Result rc;
    if (!data)
        rc = ef_web_respond(w, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", none,
                            sizeof none - 1, MHD_RESPMEM_PERSISTENT);
    else
        rc = ef_web_respond(w, conn, MHD_HTTP_OK,
                            metrics ? "text/plain; version=0.0.4; charset=utf-8"
                                    : "application/json",
                            data, len, MHD_RESPMEM_MUST_COPY);
    pthread_mutex_unlock(&w->lock);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)con_cls;
    struct ef_web *w = cls;
    static const char denied[] = "authentication required\n";
    static const char not_found[] = "not found\n";
    static const char bad_method[] = "only GET and HEAD\n";
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return ef_web_respond(w, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", bad_method,
                              sizeof bad_method - 1, MHD_RESPMEM_PERSISTENT);
    if (!authorized(w, conn))
        return ef_web_respond(w, conn, MHD_HTTP_UNAUTHORIZED, "text/plain", denied,
                              sizeof denied - 1, MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/") == 0)
        return ef_web_respond(w, conn, MHD_HTTP_OK, "text/html; charset=utf-8", ef_web_page,
                              ef_web_page_len, MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/api/status") == 0)
        return copy_current(w, conn, false);
    if (strcmp(url, "/metrics") == 0)
        return copy_current(w, conn, true);
    if (strcmp(url, "/events") == 0)
        return ef_web_sse_open(w, conn);
    return ef_web_respond(w, conn, MHD_HTTP_NOT_FOUND, "text/plain", not_found,
                          sizeof not_found - 1, MHD_RESPMEM_PERSISTENT);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    ef_debug("http: %s", msg);
}

/* Our own listening socket: a clear error when the address is taken, and a
 * small send buffer that every accepted connection inherits, so a stalled
 * browser holds little kernel memory too. */
static int open_listener(const struct ef_listen *l)
{
    struct sockaddr_storage ss = {0};
    socklen_t slen;
    if (l->ipv6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)l->port);
        inet_pton(AF_INET6, l->host, &a->sin6_addr);
        slen = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)l->port);
        inet_pton(AF_INET, l->host, &a->sin_addr);
        slen = sizeof *a;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1, sndbuf = EF_WEB_SNDBUF;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (l->ipv6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, slen) != 0 || listen(fd, 16) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

struct ef_web *ef_web_start(const struct ef_http *cfg)
{
    const struct ef_mhd *m = ef_mhd_get();
    if (!m)
        return NULL;
    struct ef_web *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->m = m;
    w->cfg = *cfg;
    pthread_mutex_init(&w->lock, NULL);
    if (cfg->password_file[0] &&
        read_credentials(cfg->password_file, w->cred, sizeof w->cred, &w->cred_len) != 0) {
        ef_web_stop(w);
        return NULL;
    }
    int fd = open_listener(&cfg->listen);
    if (fd < 0) {
        ef_err("http: cannot listen on %s: %s", cfg->listen.text, strerror(errno));
        ef_web_stop(w);
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | (cfg->listen.ipv6 ? MHD_USE_IPv6 : 0);
    w->daemon = m->start_daemon(
        flags, 0, NULL, NULL, on_request, w, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)EF_WEB_MAX_CONNECTIONS,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)EF_WEB_MAX_PER_IP,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)EF_WEB_IDLE_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384, MHD_OPTION_END);
    if (!w->daemon) {
        close(fd);
        ef_err("http: the server could not start on %s", cfg->listen.text);
        ef_web_stop(w);
        return NULL;
    }
    ef_info("http: web view on http://%s/%s", cfg->listen.text,
            w->cred_len ? " (HTTP Basic authentication)" : "");
    return w;
}

void ef_web_stop(struct ef_web *w)
{
    if (!w)
        return;
    if (w->daemon) {
        pthread_mutex_lock(&w->lock);
        w->stopping = true;
        ef_web_sse_wake(w); /* they end their stream on waking */
        pthread_mutex_unlock(&w->lock);
        w->m->stop_daemon(w->daemon);
    }
    pthread_mutex_destroy(&w->lock);
    memset(w->cred, 0, sizeof w->cred);
    free(w->json);
    free(w->metrics);
    free(w->enc_json);
    free(w->enc_metrics);
    free(w);
}

bool ef_web_needs_restart(const struct ef_web *w, const struct ef_http *cfg)
{
    if (!cfg->enabled || strcmp(w->cfg.listen.text, cfg->listen.text) != 0 ||
        strcmp(w->cfg.password_file, cfg->password_file) != 0)
        return true;
    if (!cfg->password_file[0])
        return false;
    char cred[sizeof w->cred];
    size_t len = 0;
    bool differs = read_credentials(cfg->password_file, cred, sizeof cred, &len) != 0 ||
                   !same_secret(cred, len, w->cred, w->cred_len);
    memset(cred, 0, sizeof cred);
    return differs;
}

/* Encodes into *BUF (growing it) and returns the length, 0 if too large. */
static size_t encode(char **buf, size_t *cap, const struct ef_web_snapshot *s,
                     void (*fn)(struct ef_buf *, const struct ef_web_snapshot *))
{
    for (;;) {
        struct ef_buf b;
        ef_buf_init(&b, *buf, *buf ? *cap : 0);
        fn(&b, s);
        if (*buf && ef_buf_ok(&b))
            return b.len;
        size_t want = b.len + 4096;
        if (want > EF_WEB_ENCODED_MAX)
            return 0;
        char *nb = realloc(*buf, want);
        if (!nb)
            return 0;
        *buf = nb;
        *cap = want;
    }
}

void ef_web_publish(struct ef_web *w, struct ef_web_snapshot *s)
{
    pthread_mutex_lock(&w->lock);
    s->http_streams = w->nstreams;
    pthread_mutex_unlock(&w->lock);
    size_t jl = encode(&w->enc_json, &w->enc_json_cap, s, ef_web_encode_json);
    size_t ml = encode(&w->enc_metrics, &w->enc_metrics_cap, s, ef_web_encode_metrics);
    if (!jl || !ml) {
        ef_warn("http: the status of this gateway does not fit in %u MiB; not updated",
                EF_WEB_ENCODED_MAX >> 20);
        return;
    }
    pthread_mutex_lock(&w->lock);
    char *t = w->json;
    w->json = w->enc_json;
    w->enc_json = t;
    size_t c = w->json_cap;
    w->json_cap = w->enc_json_cap;
    w->enc_json_cap = c;
    w->json_len = jl;
    t = w->metrics;
    w->metrics = w->enc_metrics;
    w->enc_metrics = t;
    c = w->metrics_cap;
    w->metrics_cap = w->enc_metrics_cap;
    w->enc_metrics_cap = c;
    w->metrics_len = ml;
    w->seq++;
    ef_web_sse_wake(w);
    pthread_mutex_unlock(&w->lock);
}
