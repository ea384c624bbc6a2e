#include "gateway/mqtt/mqtt_opts.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/log.h"
#include "config/config_value.h"
#include "gateway/mqtt/paho_dl.h"

static bool has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

static int read_password(struct ef_mqtt_opts *o, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        ef_err("mqtt: cannot read password_file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
        ef_warn("mqtt: password_file %s is readable by other users (chmod 600 it)", path);
    char line[1024] = "";
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    o->password = strdup(line);
    memset(line, 0, sizeof line);
    return o->password ? 0 : -1;
}

int ef_mqtt_opts_init(struct ef_mqtt_opts *o, const struct ef_mqtt *m)
{
    memset(o, 0, sizeof *o);
    o->m = m;
    const char *list = m->uri, *u;
    size_t n;
    while (o->nuris < EF_MQTT_URIS_MAX && (n = ef_cv_uri_next(&list, &u)) > 0) {
        struct ef_mqtt_uri *b = &o->uris[o->nuris++];
        char text[sizeof b->text];
        snprintf(text, sizeof text, "%.*s", (int)n, u);
        memcpy(b->text, text, sizeof text);
        if (has_prefix(text, "mqtt://"))
            snprintf(b->uri, sizeof b->uri, "tcp://%s", text + 7);
        else if (has_prefix(text, "mqtts://"))
            snprintf(b->uri, sizeof b->uri, "ssl://%s", text + 8);
        else
            snprintf(b->uri, sizeof b->uri, "%s", text);
        b->tls = has_prefix(b->uri, "ssl://") || has_prefix(b->uri, "wss://");
        b->websocket = has_prefix(b->uri, "ws://") || has_prefix(b->uri, "wss://");
        o->tls = o->tls || b->tls;
    }
    if (o->nuris == 0) { /* the config loader refuses this: a guard, not a path */
        ef_err("mqtt: no broker uri");
        return -1;
    }

    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    o->ssl = ssl;
    o->ssl.trustStore = m->ca_file[0] ? m->ca_file : NULL;
    o->ssl.keyStore = m->cert_file[0] ? m->cert_file : NULL;
    o->ssl.privateKey = m->key_file[0] ? m->key_file : NULL;
    /* paho's initializer leaves host-name checking off: turn it on. */
    o->ssl.enableServerCertAuth = m->tls_verify;
    o->ssl.verify = m->tls_verify;

    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    o->will = will;
    o->will.message = "offline";
    o->will.qos = 1;
    o->will.retained = 1;

    if (m->password_file[0] && read_password(o, m->password_file) != 0)
        return -1;
    return 0;
}

void ef_mqtt_opts_free(struct ef_mqtt_opts *o)
{
    if (o->password) {
        memset(o->password, 0, strlen(o->password));
        free(o->password);
        o->password = NULL;
    }
}

void ef_mqtt_fill_connect(struct ef_mqtt_opts *o, size_t i, MQTTAsync_connectOptions *co,
                          const char *status_topic)
{
    const struct ef_mqtt *m = o->m;
    const struct ef_mqtt_uri *b = &o->uris[i];
    if (m->version == 5) {
        MQTTAsync_connectOptions init = b->websocket ? (MQTTAsync_connectOptions)
                                                           MQTTAsync_connectOptions_initializer5_ws
                                                     : (MQTTAsync_connectOptions)
                                                           MQTTAsync_connectOptions_initializer5;
        *co = init;
        co->cleanstart = 1;
    } else {
        MQTTAsync_connectOptions init = b->websocket ? (MQTTAsync_connectOptions)
                                                           MQTTAsync_connectOptions_initializer_ws
                                                     : (MQTTAsync_connectOptions)
                                                           MQTTAsync_connectOptions_initializer;
        *co = init;
        co->cleansession = 1;
        co->MQTTVersion = MQTTVERSION_3_1_1;
    }
    co->keepAliveInterval = m->keepalive_s;
    co->maxInflight = 20; /* the publisher's own window is smaller */
    co->connectTimeout = EF_MQTT_CONNECT_TIMEOUT_S;
    co->automaticReconnect = 0; /* the publisher does back-off with jitter */
    o->will.topicName = status_topic;
    co->will = &o->will;
    co->username = m->username[0] ? m->username : NULL;
    co->password = o->password;
    co->ssl = b->tls ? &o->ssl : NULL;
}

void ef_mqtt_warn_insecure(const struct ef_mqtt_opts *o, size_t i)
{
    if (o->uris[i].tls && !o->m->tls_verify)
        ef_warn("mqtt: tls_verify is off: the broker's certificate and host name are NOT checked");
}

const char *ef_mqtt_describe_failure(int code, int reason, const char *msg)
{
    static _Thread_local char buf[320];
    const char *what;
    /* paho 1.3.12 hands an MQTT 5 CONNACK reason code over in CODE. */
    if (reason < 0x80 && code >= 0x80 && code <= 0xFF)
        reason = code;
    if (reason >= 0x80) {
        what = ef_paho_reason_string(reason);
        if (!what)
            what = "refused by the broker";
    } else {
        switch (code) {
        case 1: what = "unacceptable protocol version"; break;
        case 2: what = "client identifier rejected"; break;
        case 3: what = "server unavailable"; break;
        case 4: what = "bad user name or password"; break;
        case 5: what = "not authorized"; break;
        case MQTTASYNC_FAILURE: what = "connection failed (refused, unreachable or TLS error)"; break;
        case MQTTASYNC_DISCONNECTED: what = "disconnected"; break;
        case MQTTASYNC_BAD_PROTOCOL: what = "bad protocol in uri"; break;
        default: what = "connection failed"; break;
        }
    }
    snprintf(buf, sizeof buf, "%s (code %d%s%s)", what, reason >= 0x80 ? reason : code,
             msg ? ": " : "", msg ? msg : "");
    return buf;
}

/* ---- why a TLS connect failed ----
 * paho reports every TLS failure as "TCP/TLS connect failure" (code -1),
 * and OpenSSL's own text is the same "certificate verify failed" for an
 * unknown CA and an expired certificate, and empty for a wrong host name
 * (paho checks the name after the handshake). So the reason is found out
 * by one handshake of our own with the same trust anchor, client
 * certificate and host name, reading OpenSSL's verification result. */

#define PROBE_TIMEOUT_MS 2000

/* OpenSSL is not linked: on a TLS link paho's TLS build has mapped it
 * already, and on a plain one it would cost ~2 MiB of RSS for a probe that
 * never runs. libssl is loaded on the first probe and never unloaded; dlsym
 * on its handle also finds libcrypto's ERR_ and X509_ functions (libcrypto
 * is its dependency). SSL_set_tlsext_host_name is a macro for SSL_ctrl. */
#define EF_SSL_SYMBOLS(X)                                                                         \
    X(TLS_client_method)                                                                          \
    X(SSL_CTX_new)                                                                                \
    X(SSL_CTX_free)                                                                               \
    X(SSL_CTX_load_verify_locations)                                                              \
    X(SSL_CTX_set_default_verify_paths)                                                           \
    X(SSL_new)                                                                                    \
    X(SSL_free)                                                                                   \
    X(SSL_use_certificate_chain_file)                                                             \
    X(SSL_use_PrivateKey_file)                                                                    \
    X(SSL_set_verify)                                                                             \
    X(SSL_get0_param)                                                                             \
    X(SSL_ctrl)                                                                                   \
    X(SSL_set_fd)                                                                                 \
    X(SSL_connect)                                                                                \
    X(SSL_get_verify_result)                                                                      \
    X(SSL_peek)                                                                                   \
    X(SSL_get_error)                                                                              \
    X(X509_VERIFY_PARAM_set1_ip_asc)                                                              \
    X(X509_VERIFY_PARAM_set1_host)                                                                \
    X(X509_verify_cert_error_string)                                                              \
    X(ERR_clear_error)                                                                            \
    X(ERR_peek_last_error)                                                                        \
    X(ERR_reason_error_string)

/* Each pointer has the type of OpenSSL's declaration (typeof does not
 * evaluate its operand: no reference to the symbol is emitted). */
#define EF_SSL_FIELD(sym) __typeof__(&sym) sym;
static struct {
    EF_SSL_SYMBOLS(EF_SSL_FIELD)
} ossl;
static bool ossl_ok;
static pthread_once_t ossl_once = PTHREAD_ONCE_INIT;

_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "function pointers fit in void *");

static void ossl_load(void)
{
#define EF_SSL_ROW(sym) {#sym, offsetof(__typeof__(ossl), sym)},
    static const struct {
        const char *name;
        size_t offset;
    } syms[] = {EF_SSL_SYMBOLS(EF_SSL_ROW)};
    const char *lib = "libssl.so.3";
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        ef_warn("mqtt: cannot load %s to find out why the TLS connection failed: %s", lib,
                e ? e : "unknown error");
        return;
    }
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        dlerror();
        void *f = dlsym(h, syms[i].name);
        if (!f) {
            const char *e = dlerror();
            ef_warn("mqtt: %s has no %s: %s", lib, syms[i].name, e ? e : "null symbol");
            return;
        }
        memcpy((char *)&ossl + syms[i].offset, &f, sizeof f);
    }
    ossl_ok = true;
}

/* Splits "ssl://HOST:PORT[/path]" (HOST may be [v6]) into HOST and PORT. */
static int split_host_port(const char *uri, char *host, size_t hlen, char *port, size_t plen)
{
    const char *s = strstr(uri, "://");
    s = s ? s + 3 : uri;
    const char *end;
    if (*s == '[') {
        end = strchr(++s, ']');
        if (!end)
            return -1;
    } else {
        end = s + strcspn(s, ":/");
    }
    if ((size_t)(end - s) >= hlen)
        return -1;
    snprintf(host, hlen, "%.*s", (int)(end - s), s);
    if (*end == ']')
        end++;
    if (*end == ':')
        snprintf(port, plen, "%.*s", (int)strcspn(end + 1, "/"), end + 1);
    else
        snprintf(port, plen, "%s", has_prefix(uri, "wss://") ? "443"
                                   : has_prefix(uri, "ssl://") ? "8883"
                                   : has_prefix(uri, "ws://")  ? "80"
                                                               : "1883");
    return 0;
}

/* A TCP connection within PROBE_TIMEOUT_MS, left blocking with timeouts. */
static int probe_connect(const char *host, const char *port, char *why, size_t wlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(why, wlen, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int err = fd < 0 ? errno : 0;
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        err = errno;
        if (err == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            socklen_t sl = sizeof err;
            if (poll(&pfd, 1, PROBE_TIMEOUT_MS) != 1)
                err = ETIMEDOUT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0)
                err = errno;
        }
    }
    freeaddrinfo(ai);
    if (err) {
        snprintf(why, wlen, "cannot reach %s port %s: %s", host, port, strerror(err));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    struct timeval tv = {.tv_sec = PROBE_TIMEOUT_MS / 1000,
                         .tv_usec = (PROBE_TIMEOUT_MS % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

static void verify_sentence(long v, const char *host, char *why, size_t wlen)
{
    switch (v) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        snprintf(why, wlen, "the broker's certificate has expired");
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        snprintf(why, wlen, "the broker's certificate is not valid yet (is the clock right?)");
        break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        snprintf(why, wlen, "the broker's certificate is signed by an unknown CA "
                            "(not one in ca_file)");
        break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        snprintf(why, wlen, "the broker's certificate is not valid for host name %s", host);
        break;
    default:
        snprintf(why, wlen, "the broker's certificate was rejected: %s",
                 ossl.X509_verify_cert_error_string(v));
        break;
    }
}

/* The TLS part of the probe on a connected FD; returns 0 if TLS is fine.
 * Without libssl it says nothing (WHY empty): the caller's generic text. */
static int probe_tls(const struct ef_mqtt *m, int fd, const char *host, char *why, size_t wlen)
{
    pthread_once(&ossl_once, ossl_load);
    if (!ossl_ok)
        return -1;
    int bad = -1;
    SSL_CTX *ctx = ossl.SSL_CTX_new(ossl.TLS_client_method());
    SSL *ssl = ctx ? ossl.SSL_new(ctx) : NULL;
    if (!ssl) {
        snprintf(why, wlen, "cannot set up TLS");
        goto out;
    }
    if (m->ca_file[0] ? ossl.SSL_CTX_load_verify_locations(ctx, m->ca_file, NULL) != 1
                      : ossl.SSL_CTX_set_default_verify_paths(ctx) != 1) {
        snprintf(why, wlen, "cannot load the CA certificates%s%s", m->ca_file[0] ? " from " : "",
                 m->ca_file);
        goto out;
    }
    if ((m->cert_file[0] && ossl.SSL_use_certificate_chain_file(ssl, m->cert_file) != 1) ||
        (m->key_file[0] &&
         ossl.SSL_use_PrivateKey_file(ssl, m->key_file, SSL_FILETYPE_PEM) != 1)) {
        snprintf(why, wlen, "cannot load the client certificate or key (cert_file, key_file)");
        goto out;
    }
    /* Handshake without aborting, then read what verification found. */
    ossl.SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
    X509_VERIFY_PARAM *vp = ossl.SSL_get0_param(ssl);
    if (ossl.X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1) {
        ossl.X509_VERIFY_PARAM_set1_host(vp, host, 0);
        /* SSL_set_tlsext_host_name(ssl, host) */
        ossl.SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, (void *)host);
    }
    ossl.SSL_set_fd(ssl, fd);
    ossl.ERR_clear_error();
    int ok = ossl.SSL_connect(ssl) == 1;
    long v = ossl.SSL_get_verify_result(ssl);
    char buf[1];
    if (ok && v == X509_V_OK && m->tls_verify) {
        /* With TLS 1.3 a refused client certificate arrives as an alert
         * after our side of the handshake: peek for it briefly. */
        struct timeval tv = {.tv_sec = 0, .tv_usec = 300000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ok = ossl.SSL_peek(ssl, buf, 1) > 0 || ossl.SSL_get_error(ssl, 0) != SSL_ERROR_SSL;
    }
    if (!ok) {
        unsigned long e = ossl.ERR_peek_last_error();
        const char *r = e ? ossl.ERR_reason_error_string(e) : NULL;
        if (r && strstr(r, "certificate required"))
            snprintf(why, wlen, "the broker requires a client certificate (cert_file, key_file)");
        else if (r && strstr(r, "certificate"))
            snprintf(why, wlen, "the broker refused the TLS handshake: %s "
                                "(is the client certificate signed by a CA it trusts?)", r);
        else
            snprintf(why, wlen, "the TLS handshake failed: %s", r ? r : "connection closed");
    } else if (v != X509_V_OK && m->tls_verify) {
        verify_sentence(v, host, why, wlen);
    } else {
        bad = 0;
    }
out:
    ossl.SSL_free(ssl);
    ossl.SSL_CTX_free(ctx);
    ossl.ERR_clear_error();
    return bad;
}

/* Leaves WHY empty when the probe got as far as paho should have: a TCP
 * connection, and for TLS a good handshake. */
static void diagnose(const struct ef_mqtt_opts *o, size_t i, char *why, size_t wlen, char *host,
                     size_t hlen, char *port, size_t plen)
{
    why[0] = '\0';
    if (split_host_port(o->uris[i].uri, host, hlen, port, plen) != 0)
        return;
    int fd = probe_connect(host, port, why, wlen);
    if (fd < 0)
        return;
    if (o->uris[i].tls && probe_tls(o->m, fd, host, why, wlen) == 0)
        why[0] = '\0';
    close(fd);
}

const char *ef_mqtt_describe_connect_failure(const struct ef_mqtt_opts *o, size_t i, int code,
                                             int reason, const char *msg)
{
    static _Thread_local char why[512];
    /* paho says "TCP connect timeout" whether the TCP connect, the TLS or
     * WebSocket handshake or the wait for CONNACK ran out of time: a probe
     * that gets through tells a silent broker from an unreachable one. */
    bool timeout = code == MQTTASYNC_FAILURE && msg && strstr(msg, "timeout");
    if (code != MQTTASYNC_FAILURE || (!o->uris[i].tls && !timeout))
        return ef_mqtt_describe_failure(code, reason, msg);
    char host[256], port[16];
    diagnose(o, i, why, sizeof why, host, sizeof host, port, sizeof port);
    if (!why[0] && timeout && host[0])
        snprintf(why, sizeof why,
                 "%s port %s accepts connections, but no CONNACK came within %d s "
                 "(is an MQTT broker listening there, for this scheme, and is it overloaded?)",
                 host, port, EF_MQTT_CONNECT_TIMEOUT_S);
    if (!why[0])
        return ef_mqtt_describe_failure(code, reason, msg);
    return why;
}
