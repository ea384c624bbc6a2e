#include "gateway/mqtt/pub_session.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "gateway/mqtt/publisher_priv.h"

/* One set of messages. Shared between the current set and a send in
 * progress, so a reload can replace it while the publisher sends. */
struct set {
    int refs; /* under the session's lock */
    size_t n;
    struct ef_pub_msg *msgs; /* topic and payload owned */
};

struct ef_session {
    pthread_mutex_t lock; /* never held across paho calls */
    struct set *current;
    bool due;
    /* The send in progress (publisher thread only). */
    struct set *sending;
    size_t next;
    MQTTAsync_token last_token;
    bool waiting; /* last_token not yet seen complete */
};

static void set_unref(struct set *t)
{
    if (!t || --t->refs > 0)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free((char *)t->msgs[i].topic);
        free((char *)t->msgs[i].payload);
    }
    free(t->msgs);
    free(t);
}

static struct set *set_copy(const struct ef_pub_msg *msgs, size_t n)
{
    struct set *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->refs = 1;
    t->msgs = calloc(n ? n : 1, sizeof *t->msgs);
    if (!t->msgs) {
        free(t);
        return NULL;
    }
    for (size_t i = 0; i < n; i++, t->n++) {
        char *topic = strdup(msgs[i].topic), *payload = malloc(msgs[i].len + 1);
        if (!topic || !payload) {
            free(topic);
            free(payload);
            set_unref(t);
            return NULL;
        }
        memcpy(payload, msgs[i].payload, msgs[i].len);
        payload[msgs[i].len] = '\0';
        t->msgs[i] = (struct ef_pub_msg){topic, payload, msgs[i].len};
    }
    return t;
}

struct ef_session *ef_session_new(void)
{
    struct ef_session *s = calloc(1, sizeof *s);
    if (s)
        pthread_mutex_init(&s->lock, NULL);
    return s;
}

void ef_session_free(struct ef_session *s)
{
    if (!s)
        return;
    set_unref(s->current);
    set_unref(s->sending);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int ef_session_set(struct ef_session *s, const struct ef_pub_msg *msgs, size_t n)
{
    struct set *t = set_copy(msgs, n);
    if (!t)
        return -1;
    pthread_mutex_lock(&s->lock);
    struct set *old = s->current;
    s->current = t;
    s->due = true;
    set_unref(old);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

void ef_session_connected(struct ef_session *s)
{
    pthread_mutex_lock(&s->lock);
    s->due = true;
    pthread_mutex_unlock(&s->lock);
}

/* Starts over with the current set when it is due (a connect, a trigger,
 * a new set); a send in progress is dropped, the new one covers it. */
static void take_due(struct ef_session *s)
{
    pthread_mutex_lock(&s->lock);
    if (s->due) {
        s->due = false;
        set_unref(s->sending);
        s->sending = s->current;
        if (s->sending)
            s->sending->refs++;
        s->next = 0;
    }
    pthread_mutex_unlock(&s->lock);
}

static void done_sending(struct ef_session *s)
{
    pthread_mutex_lock(&s->lock);
    set_unref(s->sending);
    s->sending = NULL;
    pthread_mutex_unlock(&s->lock);
}

size_t ef_session_step(struct ef_session *s, const struct ef_paho *paho, MQTTAsync client)
{
    take_due(s);
    if (!s->sending)
        return 0;
    /* The previous chunk must be with the broker first: paho's buffer is
     * shared with the queue's window, and a large set must not fill it. */
    if (s->waiting && paho->waitForCompletion(client, s->last_token, EF_SESSION_WAIT_MS) !=
                          MQTTASYNC_SUCCESS)
        return 0;
    s->waiting = false;
    size_t handed = 0;
    while (s->next < s->sending->n && handed < EF_SESSION_CHUNK) {
        const struct ef_pub_msg *m = &s->sending->msgs[s->next];
        MQTTAsync_message msg = MQTTAsync_message_initializer;
        msg.payload = (void *)m->payload;
        msg.payloadlen = (int)m->len;
        msg.qos = 1;
        msg.retained = 1;
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        int rc = paho->sendMessage(client, m->topic, &msg, &ro);
        if (rc != MQTTASYNC_SUCCESS) {
            ef_debug("mqtt: session message on %s refused by paho (%d), again later", m->topic,
                     rc);
            break;
        }
        s->last_token = ro.token;
        s->waiting = true;
        s->next++;
        handed++;
    }
    if (s->next >= s->sending->n) {
        ef_debug("mqtt: %zu session message(s) sent", s->sending->n);
        done_sending(s);
    }
    return handed;
}

void ef_pub_session_step(struct ef_publisher *p)
{
    pthread_mutex_lock(&p->lock);
    bool up = p->state == ST_UP && p->ready;
    pthread_mutex_unlock(&p->lock);
    if (up)
        ef_session_step(p->session, p->paho, p->client);
}

int ef_pub_set_session(struct ef_publisher *p, const struct ef_pub_msg *msgs, size_t n)
{
    if (ef_session_set(p->session, msgs, n) != 0)
        return -1;
    ef_pub_wake(p);
    return 0;
}

void ef_pub_resend_session(struct ef_publisher *p)
{
    ef_session_connected(p->session);
    ef_pub_wake(p);
}
