/* --check for [sparkplug]: what the edge node will announce. */
#include "gateway/check.h"

#include "gateway/sparkplug/sp_node.h"

int ef_check_print_sparkplug(const struct ef_config *cfg, FILE *out)
{
    const struct ef_sparkplug_cfg *sp = &cfg->sparkplug;
    /* Builds the node's alias table exactly as the running gateway will; it
     * only reads the bdSeq file, it connects nowhere. */
    struct ef_sp_node *n = ef_sp_node_new(cfg);
    if (!n)
        return -1;
    int last = ef_sp_node_last_bdseq(n);
    fprintf(out, "sparkplug: group %s, edge node %s, primary host %s\n", sp->group_id,
            sp->edge_node_id, sp->primary_host_id[0] ? sp->primary_host_id : "(none)");
    fprintf(out, "  node topics: spBv1.0/%s/{NBIRTH,NDEATH,NCMD}/%s; will NDEATH (QoS 1)%s%s\n",
            sp->group_id, sp->edge_node_id, sp->primary_host_id[0] ? "; waits for spBv1.0/STATE/" : "",
            sp->primary_host_id);
    if (last >= 0)
        fprintf(out, "  bdSeq: last %d, next connection %d (%s/sparkplug-bdseq)\n", last,
                (last + 1) % 256, cfg->gateway.state_dir);
    else
        fprintf(out, "  bdSeq: none yet, first connection 0 (%s/sparkplug-bdseq)\n",
                cfg->gateway.state_dir);
    fprintf(out, "  node metrics: alias 0 Node Control/Rebirth Boolean, alias 1 bdSeq Int64\n");
    size_t ndev = cfg->ndevices + cfg->nserials;
    for (size_t d = 0; d < ndev; d++) {
        const char *dev = d < cfg->ndevices ? cfg->devices[d].name
                                            : cfg->serials[d - cfg->ndevices].name;
        fprintf(out, "  device %s:", dev);
        const char *name, *type;
        uint64_t alias;
        for (size_t i = 0; ef_sp_node_metric(n, d, i, &name, &alias, &type); i++)
            fprintf(out, "%s alias %llu %s %s", i ? "," : "", (unsigned long long)alias, name,
                    type);
        fputc('\n', out);
    }
    ef_sp_node_free(n);
    return 0;
}
