#include "gateway/discovery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static int hand_over(const struct ef_ha_set *set, const struct ef_config *cfg,
                     struct ef_publisher *pub)
{
    struct ef_pub_msg *msgs = calloc(set->n ? set->n : 1, sizeof *msgs);
    if (!msgs)
        return -1;
    for (size_t i = 0; i < set->n; i++)
        msgs[i] = (struct ef_pub_msg){set->msgs[i].topic, set->msgs[i].payload,
                                      strlen(set->msgs[i].payload)};
    char trigger[EF_STR_MAX + 16];
    snprintf(trigger, sizeof trigger, "%s/status", cfg->homeassistant.discovery_prefix);
    bool on = cfg->homeassistant.enabled;
    int rc = ef_pub_set_session(pub, msgs, set->n, on ? trigger : NULL, on ? "online" : NULL);
    free(msgs);
    return rc;
}

int ef_discovery_update(struct ef_ha_set *set, const struct ef_config *cfg,
                        struct ef_publisher *pub)
{
    struct ef_ha_set next;
    if (ef_ha_set_build(&next, cfg) != 0 || ef_ha_set_retire(&next, set) != 0 ||
        hand_over(&next, cfg, pub) != 0) {
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
