#include "gateway/discovery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static int hand_over(const struct ef_ha_set *set, struct ef_publisher *pub)
{
    struct ef_pub_msg *msgs = calloc(set->n ? set->n : 1, sizeof *msgs);
    if (!msgs)
        return -1;
    for (size_t i = 0; i < set->n; i++)
        msgs[i] = (struct ef_pub_msg){set->msgs[i].topic, set->msgs[i].payload,
                                      strlen(set->msgs[i].payload)};
    int rc = ef_pub_set_session(pub, msgs, set->n);
    free(msgs);
    return rc;
}

/* Home Assistant says "online" on <prefix>/status when it starts: it may
 * have forgotten everything, so the configs go again. A retained "online"
 * is old news (every connect sends them anyway). */
static void on_ha_status(void *ctx, const struct ef_pub_inbound *m)
{
    if (!m->retained && m->payload && m->len == 6 && memcmp(m->payload, "online", 6) == 0) {
        ef_info("homeassistant: %s says online, sending discovery again", m->topic);
        ef_pub_resend_session(ctx);
    }
}

int ef_discovery_attach(const struct ef_config *cfg, struct ef_publisher *pub)
{
    if (!cfg->homeassistant.enabled)
        return 0;
    char topic[EF_STR_MAX + 16];
    snprintf(topic, sizeof topic, "%s/status", cfg->homeassistant.discovery_prefix);
    if (ef_pub_subscribe(pub, topic, 1, on_ha_status, pub) != 0) {
        ef_err("homeassistant: cannot subscribe to %s", topic);
        return -1;
    }
    return 0;
}

int ef_discovery_update(struct ef_ha_set *set, const struct ef_config *cfg,
                        struct ef_publisher *pub)
{
    struct ef_ha_set next;
    if (ef_ha_set_build(&next, cfg) != 0 || ef_ha_set_retire(&next, set) != 0 ||
        hand_over(&next, pub) != 0) {
        ef_ha_set_free(&next);
        ef_err("homeassistant: out of memory, discovery messages unchanged");
        return -1;
    }
    size_t gone = ef_ha_set_removals(&next);
    if (cfg->homeassistant.enabled || gone)
        ef_info("homeassistant: %zu discovery config%s, %zu removal%s", next.n - gone,
                next.n - gone == 1 ? "" : "s", gone, gone == 1 ? "" : "s");
    ef_ha_set_free(set);
    *set = next;
    return 0;
}
