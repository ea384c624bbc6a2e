#include "gateway/mqtt_opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"

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
    const char *u = m->uri;
    if (has_prefix(u, "mqtt://"))
        snprintf(o->uri, sizeof o->uri, "tcp://%s", u + 7);
    else if (has_prefix(u, "mqtts://"))
        snprintf(o->uri, sizeof o->uri, "ssl://%s", u + 8);
    else
        snprintf(o->uri, sizeof o->uri, "%s", u);
    o->tls = has_prefix(o->uri, "ssl://") || has_prefix(o->uri, "wss://");
    o->websocket = has_prefix(o->uri, "ws://") || has_prefix(o->uri, "wss://");

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

void ef_mqtt_fill_connect(struct ef_mqtt_opts *o, MQTTAsync_connectOptions *co,
                          const char *status_topic)
{
    const struct ef_mqtt *m = o->m;
    if (m->version == 5) {
        MQTTAsync_connectOptions init = o->websocket ? (MQTTAsync_connectOptions)
                                                           MQTTAsync_connectOptions_initializer5_ws
                                                     : (MQTTAsync_connectOptions)
                                                           MQTTAsync_connectOptions_initializer5;
        *co = init;
        co->cleanstart = 1;
    } else {
        MQTTAsync_connectOptions init = o->websocket ? (MQTTAsync_connectOptions)
                                                           MQTTAsync_connectOptions_initializer_ws
                                                     : (MQTTAsync_connectOptions)
                                                           MQTTAsync_connectOptions_initializer;
        *co = init;
        co->cleansession = 1;
        co->MQTTVersion = MQTTVERSION_3_1_1;
    }
    co->keepAliveInterval = m->keepalive_s;
    co->maxInflight = 20; /* the publisher's own window is smaller */
    co->connectTimeout = 10;
    co->automaticReconnect = 0; /* the publisher does back-off with jitter */
    o->will.topicName = status_topic;
    co->will = &o->will;
    co->username = m->username[0] ? m->username : NULL;
    co->password = o->password;
    co->ssl = o->tls ? &o->ssl : NULL;
}

void ef_mqtt_warn_insecure(const struct ef_mqtt_opts *o)
{
    if (o->tls && !o->m->tls_verify)
        ef_warn("mqtt: tls_verify is off: the broker's certificate and host name are NOT checked");
}

const char *ef_mqtt_describe_failure(int code, int reason, const char *msg)
{
    static _Thread_local char buf[320];
    const char *what;
    if (reason >= 0x80) {
        what = MQTTReasonCode_toString((enum MQTTReasonCodes)reason);
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
