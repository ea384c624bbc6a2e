/* Session messages: retained state the publisher (re)sends after every
 * connect, outside the queue, such as Home Assistant discovery configs.
 * The broker may have lost them (a restart without persistence), and a
 * consumer may ask for them again: a message on the trigger topic with the
 * trigger payload (Home Assistant's "online" on <prefix>/status) makes
 * them go out once more.
 *
 * They go at QoS 1, retained, a few dozen at a time so that paho's own
 * buffer never fills, interleaved with the queue's messages. Nothing here
 * waits long: every step returns within EF_SESSION_WAIT_MS. */
#ifndef EF_PUB_SESSION_H
#define EF_PUB_SESSION_H

#include <MQTTAsync.h>
#include <stdbool.h>
#include <stddef.h>

#include "gateway/mqtt/paho_dl.h"
#include "gateway/mqtt/publisher.h"

#define EF_SESSION_CHUNK 32
#define EF_SESSION_WAIT_MS 200

struct ef_session;

struct ef_session *ef_session_new(void);
void ef_session_free(struct ef_session *s);

/* Replaces the messages (copied) and the trigger (NULL: none). A send in
 * progress finishes with the old set; the new one is due at once. */
int ef_session_set(struct ef_session *s, const struct ef_pub_msg *msgs, size_t n,
                   const char *trigger_topic, const char *trigger_payload);

/* A new connection: everything is due again. */
void ef_session_connected(struct ef_session *s);

/* The trigger topic to subscribe to after connecting, into OUT; false when
 * there is none. */
bool ef_session_trigger(struct ef_session *s, char *out, size_t cap);

/* From paho's message callback: true (and the set is due again) when the
 * message is the trigger. Retained messages are not: they are old news,
 * and every connect sends the set anyway. */
bool ef_session_match(struct ef_session *s, const char *topic, const void *payload, size_t len,
                      bool retained);

/* Publisher thread, while connected: sends the next chunk if the previous
 * one was taken by the broker. Returns the number of messages handed to
 * paho in this step. */
size_t ef_session_step(struct ef_session *s, const struct ef_paho *paho, MQTTAsync client);

#endif
