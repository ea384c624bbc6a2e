#include "gateway/check.h"

#include "config/config_value.h"

#include <stdlib.h>

#include "drivers/modbus/plan.h"
#include "gateway/north/homeassistant.h"
#include "drivers/modbus/plan_set.h"

static const char *yes_no(bool b) { return b ? "true" : "false"; }

static void print_point(const struct ef_point *p, FILE *out)
{
    fprintf(out, "      point %s:", p->name);
    if (p->has_register) {
        fprintf(out, " %s:%u %s", ef_reg_kind_name(p->kind), (unsigned)p->address,
                ef_value_type_name(p->type));
        if (p->type == EF_T_STRING)
            fprintf(out, " length %d", p->length);
        if (p->bit >= 0)
            fprintf(out, " bit %d", p->bit);
        else if (ef_point_width(p) > 1 || p->type == EF_T_STRING)
            fprintf(out, " %s", ef_order_name(p->order));
        if (p->interval_ms > 0)
            fprintf(out, " every %d ms", p->interval_ms);
    }
    if (p->scaled)
        fprintf(out, " scale %g offset %g", p->scale, p->offset);
    if (p->unit[0])
        fprintf(out, " [%s]", p->unit);
    if (p->deadband > 0)
        fprintf(out, " deadband %g", p->deadband);
    if (p->has_alarm_high)
        fprintf(out, " alarm_high %g", p->alarm_high);
    if (p->has_alarm_low)
        fprintf(out, " alarm_low %g", p->alarm_low);
    if ((p->has_alarm_high || p->has_alarm_low) && p->alarm_hysteresis > 0)
        fprintf(out, " hysteresis %g", p->alarm_hysteresis);
    fputc('\n', out);
}

static void print_topics(const struct ef_config *cfg, const char *dev, FILE *out)
{
    const char *P = cfg->mqtt.topic_prefix, *G = cfg->gateway.id;
    const struct ef_sparkplug_cfg *sp = &cfg->sparkplug;
    if (sp->enabled)
        fprintf(out, "    topics: spBv1.0/%s/{DBIRTH,DDEATH,DDATA,DCMD}/%s/%s (DDATA QoS %d), "
                     "%s/%s/alarm/%s[/POINT] (QoS %d%s)\n",
                sp->group_id, sp->edge_node_id, dev, cfg->mqtt.telemetry_qos, P, G, dev,
                cfg->mqtt.alarm_qos, cfg->mqtt.retain_alarms ? ", retained" : "");
    else
        fprintf(out, "    topics: %s/%s/telemetry/%s (QoS %d), %s/%s/alarm/%s[/POINT] (QoS %d%s)\n",
                P, G, dev, cfg->mqtt.telemetry_qos, P, G, dev, cfg->mqtt.alarm_qos,
                cfg->mqtt.retain_alarms ? ", retained" : "");
    fprintf(out, "            %s/%s/availability/%s (QoS 1, retained)\n", P, G, dev);
}

static int print_discovery(const struct ef_config *cfg, FILE *out)
{
    const struct ef_homeassistant *ha = &cfg->homeassistant;
    if (!ha->enabled) {
        fprintf(out, "homeassistant: discovery off\n");
        return 0;
    }
    struct ef_ha_set set;
    if (ef_ha_set_build(&set, cfg) != 0)
        return -1;
    fprintf(out, "homeassistant: %zu discovery configs (QoS 1, retained), after every connect "
                 "and on \"online\" from %s/status\n",
            set.n, ha->discovery_prefix);
    for (size_t i = 0; i < set.n; i++)
        fprintf(out, "  %s\n", set.msgs[i].topic);
    ef_ha_set_free(&set);
    return 0;
}

static void print_line(int baud, char parity, int data_bits, int stop_bits, FILE *out)
{
    fprintf(out, "%d %d%c%d", baud, data_bits, parity, stop_bits);
}

/* DEVS lists the indices of the bus's devices, N of them, in file order. */
static int print_bus(const struct ef_config *cfg, size_t b, const size_t *devs, size_t n,
                     FILE *out)
{
    const struct ef_bus *bus = &cfg->buses[b];
    fprintf(out, "bus %s: %s ", bus->name, ef_bus_type_name(bus->type));
    if (bus->type == EF_BUS_RTU) {
        fprintf(out, "%s ", bus->path);
        print_line(bus->baud, bus->parity, bus->data_bits, bus->stop_bits, out);
        if (bus->rs485)
            fprintf(out, " rs485");
    } else {
        fprintf(out, "%s:%d", bus->host, bus->port);
    }
    fprintf(out, ", timeout %d ms, retries %d, max_gap %d, max_regs %d, delay %d ms\n",
            bus->timeout_ms, bus->retries, bus->max_gap, bus->max_regs, bus->delay_ms);
    for (size_t d = 0; d < n; d++) {
        const struct ef_device *dev = &cfg->devices[devs[d]];
        fprintf(out, "  device %s: unit %d, every %d ms, offline after %d failed polls, "
                     "heartbeat %d s%s%s",
                dev->name, dev->unit, dev->interval_ms, dev->offline_after, dev->heartbeat_s,
                dev->template_name[0] ? ", template " : "", dev->template_name);
        if (dev->max_regs != bus->max_regs || dev->max_gap != bus->max_gap)
            fprintf(out, ", max_gap %d, max_regs %d", dev->max_gap, dev->max_regs);
        fputc('\n', out);
        print_topics(cfg, dev->name, out);
        for (size_t i = 0; i < dev->npoints; i++)
            print_point(&dev->points[i], out);
        struct ef_plan_set set;
        if (ef_plan_set_build(&set, dev, bus) != 0)
            return -1;
        size_t r0 = set.nplans ? ef_plan_requests(&set.plans[0]) : 0;
        if (set.nplans > 1)
            fprintf(out, "    plan: %zu plans by point interval; poll 0 reads all %zu points "
                         "in %zu request%s\n", set.nplans, dev->npoints, r0, r0 == 1 ? "" : "s");
        else
            fprintf(out, "    plan: %zu request%s per poll for %zu points\n", r0,
                    r0 == 1 ? "" : "s", dev->npoints);
        ef_plan_set_print(&set, out);
        ef_plan_set_free(&set);
    }
    return 0;
}

static void print_serial(const struct ef_config *cfg, const struct ef_serial *s, FILE *out)
{
    fprintf(out, "serial %s: %s ", s->name, s->path);
    print_line(s->baud, s->parity, s->data_bits, s->stop_bits, out);
    fprintf(out, ", format %s", ef_serial_format_name(s->format));
    if (s->format == EF_FMT_CSV) {
        fprintf(out, " fields");
        for (size_t i = 0; i < s->nfields; i++)
            fprintf(out, "%c%s", i ? ',' : ' ', s->fields[i]);
    }
    if (s->has_query) {
        fprintf(out, ", queried every %d ms with \"", s->interval_ms);
        for (size_t i = 0; i < s->query_len; i++) {
            unsigned char ch = s->query[i];
            if (ch == '\r')
                fprintf(out, "\\r");
            else if (ch == '\n')
                fprintf(out, "\\n");
            else if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
                fprintf(out, "\\x%02X", ch);
            else
                fputc(ch, out);
        }
        fprintf(out, "\", timeout %d ms", s->timeout_ms);
    } else {
        fprintf(out, ", streaming, published every %d ms", s->interval_ms);
    }
    fprintf(out, ", offline after %d\n", s->offline_after);
    print_topics(cfg, s->name, out);
    for (size_t i = 0; i < s->npoints; i++)
        print_point(&s->points[i], out);
}

/* One line per broker when there are several: the order is the order of trial. */
static void print_brokers(const struct ef_mqtt *m, FILE *out)
{
    size_t n = 0;
    bool tls;
    char err[8];
    if (ef_cv_uri_list(m->uri, &n, &tls, err, sizeof err) != 0 || n < 2)
        return;
    fprintf(out, "  %zu brokers, tried in order at each connection attempt%s:\n", n,
            tls ? " (paho's TLS build serves them all)" : "");
    const char *s = m->uri, *u;
    size_t len;
    for (size_t i = 0; (len = ef_cv_uri_next(&s, &u)) > 0; i++)
        fprintf(out, "    %zu. %.*s\n", i + 1, (int)len, u);
}

int ef_check_print(const struct ef_config *cfg, FILE *out)
{
    const struct ef_mqtt *m = &cfg->mqtt;
    fprintf(out, "configuration %s is valid\n", cfg->path);
    fprintf(out, "gateway %s: state_dir %s, stats every %d s\n", cfg->gateway.id,
            cfg->gateway.state_dir, cfg->gateway.stats_interval_s);
    fprintf(out, "mqtt: %s as %s, MQTT %s, keepalive %d s, telemetry QoS %d, alarm QoS %d, "
                 "retain_alarms %s\n",
            m->uri, m->client_id, m->version == 5 ? "5" : "3.1.1", m->keepalive_s,
            m->telemetry_qos, m->alarm_qos, yes_no(m->retain_alarms));
    print_brokers(m, out);
    if (m->max_packet_size)
        fprintf(out, "  max_packet_size %d bytes: larger messages are set aside\n",
                m->max_packet_size);
    if (m->username[0] || m->password_file[0])
        fprintf(out, "  credentials: user %s, password from %s\n",
                m->username[0] ? m->username : "(none)",
                m->password_file[0] ? m->password_file : "(none)");
    if (m->ca_file[0] || m->cert_file[0])
        fprintf(out, "  tls: ca %s, cert %s, key %s, verify %s\n", m->ca_file[0] ? m->ca_file : "-",
                m->cert_file[0] ? m->cert_file : "-", m->key_file[0] ? m->key_file : "-",
                yes_no(m->tls_verify));
    fprintf(out, "  topics: %s/%s/status (QoS 1, retained%s), %s/%s/stats\n", m->topic_prefix,
            cfg->gateway.id, cfg->sparkplug.enabled ? "" : ", will \"offline\"", m->topic_prefix,
            cfg->gateway.id);
    if (cfg->sparkplug.enabled && ef_check_print_sparkplug(cfg, out) != 0)
        return -1;
    fprintf(out, "queue: %s/queue, max %d MB on disk, %d kB in memory, flush %d ms, replay %s\n",
            cfg->gateway.state_dir, cfg->queue.max_disk_mb, cfg->queue.memory_kb,
            cfg->queue.flush_ms, cfg->queue.replay == EF_REPLAY_FIFO ? "fifo" : "live-first");
    /* Devices grouped by bus in one pass: asking every bus about every
     * device grows with their product. */
    size_t *start = calloc(cfg->nbuses + 1, sizeof *start);
    size_t *devs = malloc((cfg->ndevices ? cfg->ndevices : 1) * sizeof *devs);
    int rc = start && devs ? 0 : -1;
    for (size_t d = 0; rc == 0 && d < cfg->ndevices; d++)
        start[cfg->devices[d].bus + 1]++;
    for (size_t b = 0; rc == 0 && b < cfg->nbuses; b++)
        start[b + 1] += start[b];
    for (size_t d = 0; rc == 0 && d < cfg->ndevices; d++)
        devs[start[cfg->devices[d].bus]++] = d; /* start[b] moves to the end of bus b */
    for (size_t b = 0; rc == 0 && b < cfg->nbuses; b++) {
        size_t first = b ? start[b - 1] : 0;
        rc = print_bus(cfg, b, devs + first, start[b] - first, out);
    }
    free(start);
    free(devs);
    if (rc != 0)
        return -1;
    for (size_t s = 0; s < cfg->nserials; s++)
        print_serial(cfg, &cfg->serials[s], out);
    return print_discovery(cfg, out);
}
