#include "gateway/sparkplug/sp_session.h"

#include <string.h>

void ef_sps_init(struct ef_sps *s, bool primary, int last_bdseq)
{
    memset(s, 0, sizeof *s);
    s->primary = primary;
    if (last_bdseq >= 0 && last_bdseq <= 255) {
        s->have_bdseq = true;
        s->bdseq = (uint8_t)last_bdseq;
    }
}

void ef_sps_set_devices(struct ef_sps *s, struct ef_sps_dev *dev, size_t n)
{
    s->dev = dev;
    s->ndev = n;
    if (s->in_session)
        s->rebirth = true; /* aliases and metric lists may have changed */
}

uint8_t ef_sps_connecting(struct ef_sps *s)
{
    s->bdseq = s->have_bdseq ? (uint8_t)(s->bdseq + 1) : 0; /* uint8_t: 255 -> 0 */
    s->have_bdseq = true;
    s->up = false;
    s->in_session = false;
    return s->bdseq;
}

void ef_sps_link(struct ef_sps *s, bool up)
{
    s->up = up;
    s->in_session = false;
    s->rebirth = false;
    s->drop = false;
    /* The host's state is learnt again from the retained STATE on every
     * connection: another broker may know better. Its last online
     * timestamp stays, to ignore stale offline messages. */
    s->host_online = false;
    for (size_t i = 0; i < s->ndev; i++)
        s->dev[i].born = false;
}

bool ef_sps_host_state(struct ef_sps *s, bool online, int64_t ts)
{
    if (s->have_host_ts && ts < s->host_ts)
        return false;
    if (online) {
        s->host_online = true;
        s->have_host_ts = true;
        s->host_ts = ts;
        return true;
    }
    s->host_online = false;
    if (s->in_session)
        s->drop = true;
    return true;
}

void ef_sps_request_rebirth(struct ef_sps *s)
{
    if (s->in_session)
        s->rebirth = true;
}

enum ef_sps_action ef_sps_next(const struct ef_sps *s, size_t *dev)
{
    if (!s->up)
        return EF_SPS_WAIT;
    if (s->drop)
        return EF_SPS_DISCONNECT;
    if (s->primary && !s->host_online)
        return EF_SPS_WAIT;
    if (!s->in_session || s->rebirth)
        return EF_SPS_NBIRTH;
    for (size_t i = 0; i < s->ndev; i++) {
        const struct ef_sps_dev *d = &s->dev[i];
        if (d->online && d->has_values && !d->born) {
            *dev = i;
            return EF_SPS_DBIRTH;
        }
        if (!d->online && d->born) {
            *dev = i;
            return EF_SPS_DDEATH;
        }
    }
    return EF_SPS_READY;
}

uint8_t ef_sps_did_nbirth(struct ef_sps *s, int64_t now_ms)
{
    s->in_session = true;
    s->rebirth = false;
    s->session_start_ms = now_ms;
    for (size_t i = 0; i < s->ndev; i++)
        s->dev[i].born = false;
    s->seq = 1;
    return 0;
}

uint8_t ef_sps_take_seq(struct ef_sps *s) { return s->seq++; }

uint8_t ef_sps_did_dbirth(struct ef_sps *s, size_t dev)
{
    if (dev < s->ndev)
        s->dev[dev].born = true;
    return ef_sps_take_seq(s);
}

uint8_t ef_sps_did_ddeath(struct ef_sps *s, size_t dev)
{
    if (dev < s->ndev)
        s->dev[dev].born = false;
    return ef_sps_take_seq(s);
}

enum ef_sps_data ef_sps_data(const struct ef_sps *s, size_t dev)
{
    if (!s->up || !s->in_session || s->rebirth || s->drop)
        return EF_SPS_DATA_WAIT;
    if (dev >= s->ndev)
        return EF_SPS_DATA_DROP;
    const struct ef_sps_dev *d = &s->dev[dev];
    if (d->born)
        return d->online ? EF_SPS_DATA_SEND : EF_SPS_DATA_CONTROL_FIRST; /* DDEATH goes first */
    return d->online && d->has_values ? EF_SPS_DATA_CONTROL_FIRST : EF_SPS_DATA_DROP;
}

bool ef_sps_historical(const struct ef_sps *s, int64_t ts_ms) { return ts_ms < s->session_start_ms; }
