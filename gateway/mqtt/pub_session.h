/* Session messages: retained state the publisher (re)sends after every
 * connect, outside the queue, such as Home Assistant discovery configs.
 * The broker may have lost them (a restart without persistence), and a
 * consumer may ask for them again (ef_pub_resend_session: Home Assistant's
 * "online" on <prefix>/status).
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

/* Replaces the messages (copied). A send in progress is dropped for the
 * new set, which is due at once. Returns 0 or -1 (out of memory). */
int ef_session_set(struct ef_session *s, const struct ef_pub_msg *msgs, size_t n);

/* A new connection, or a consumer asked: everything is due again. */
void ef_session_connected(struct ef_session *s);

/* Publisher thread, while connected: sends the next chunk if the previous
 * one was taken by the broker. Returns the number of messages handed to
 * paho in this step. */
size_t ef_session_step(struct ef_session *s, const struct ef_paho *paho, MQTTAsync client);

struct ef_publisher;
/* Publisher thread: ef_session_step while connected and born. */
void ef_pub_session_step(struct ef_publisher *p);

#endif
