/* Wakes paho's receive thread from its idle sleep while a connection is
 * being made. paho 1.3's receive thread (named "MQTTAsync_rcv") sleeps
 * 100 ms whenever one of its cycles finds no socket ready, and its first
 * cycle runs as MQTTAsync_connect starts it, racing the send thread that
 * opens the socket: when the receive thread wins, CONNECT goes out 100 ms
 * late and so does the first message after start-up (docs/performance.md,
 * "Start-up: a race inside paho"). No paho call shortens that sleep; a
 * signal with a no-op handler ends it early, and paho then simply runs its
 * next cycle. Only a thread blocked in nanosleep is signalled, never one in
 * poll(), whose EINTR paho would take for an idle cycle. */
#ifndef EF_PAHO_NUDGE_H
#define EF_PAHO_NUDGE_H

#include <stdbool.h>

/* Signals every paho receive thread now sleeping; returns how many (0 when
 * none sleeps, or the nudge is unavailable: it is only an optimisation). */
int ef_paho_nudge_receiver(void);

/* Whether /proc shows this process's system calls under the numbers it was
 * built with, which the nudge needs to tell a sleep from a poll(). Not so
 * under qemu-user, which reports the host's numbers: the nudge then does
 * nothing (logged once at debug), and a connect may start 100 ms late. */
bool ef_paho_nudge_available(void);

#endif
