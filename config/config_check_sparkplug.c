/* [sparkplug]: the keys that depend on each other and on [gateway]. */
#include <stdio.h>

#include "config/config_build.h"

void ef_check_sparkplug(struct ef_build *b)
{
    struct ef_sparkplug_cfg *sp = &b->cfg->sparkplug;
    if (sp->edge_node_id[0] == '\0')
        snprintf(sp->edge_node_id, sizeof sp->edge_node_id, "%s", b->cfg->gateway.id);
    if (b->n[EF_SEC_SPARKPLUG] == 0 || b->items[EF_SEC_SPARKPLUG][0].bad || !sp->enabled)
        return;
    struct ef_item *it = &b->items[EF_SEC_SPARKPLUG][0];
    if (!ef_item_has(it, "group_id"))
        ef_build_key_error(b, it, "enabled", "group_id is required when Sparkplug is enabled");
}
