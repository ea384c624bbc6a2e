/* Sparkplug B message shapes over the protobuf codec (sparkplug_pb.h):
 * datatypes of points, values both ways, and the payloads edgeferry sends.
 *
 * Two forms of DDATA exist. The core queues the *stored* form: metrics by
 * name with their datatype, the sample's timestamp, no seq, because aliases,
 * seq and "historical" belong to the MQTT session at the time of sending,
 * which may be a later connection or a later process. The publisher turns
 * it into the *wire* form (ef_sp_ddata_wire): by alias, a timestamp on every
 * metric, no datatype, is_historical when it comes from the backlog, and seq
 * appended last. Pure functions, no allocation. */
#ifndef EF_NORTH_SPARKPLUG_H
#define EF_NORTH_SPARKPLUG_H

#include "drivers/source.h"
#include "gateway/north/sparkplug_pb.h"

/* Aliases of the node's own metrics; device points start at EF_SP_ALIAS_FIRST. */
#define EF_SP_ALIAS_REBIRTH 0
#define EF_SP_ALIAS_BDSEQ 1
#define EF_SP_ALIAS_FIRST 2

#define EF_SP_REBIRTH_NAME "Node Control/Rebirth"

/* The Sparkplug datatype of a point: its type, or Double when scaled; a
 * SERIAL value (whose point may be NULL) is a Double. */
enum ef_sp_type ef_sp_point_type(const struct ef_point *p, bool serial);

const char *ef_sp_type_name(enum ef_sp_type t);

/* Sets M's value from V, encoded as datatype T requires. */
void ef_sp_set_value(struct ef_sp_metric *m, enum ef_sp_type t, const struct ef_value *v);

/* The value of a decoded metric read as datatype T (a command). Returns 0,
 * or -1 when the metric carries no value of the kind T uses. */
int ef_sp_get_value(const struct ef_sp_metric *m, enum ef_sp_type t, struct ef_value *out);

/* NDEATH: the bdSeq metric only, no seq. */
void ef_sp_payload_ndeath(struct ef_pbw *w, uint64_t ts_ms, uint64_t bdseq);

/* NBIRTH: bdSeq and Node Control/Rebirth (false), then seq SEQ. */
void ef_sp_payload_nbirth(struct ef_pbw *w, uint64_t ts_ms, uint64_t bdseq, uint64_t seq);

/* DDEATH: a timestamp and the seq. */
void ef_sp_payload_ddeath(struct ef_pbw *w, uint64_t ts_ms, uint64_t seq);

/* Stored DDATA of the readings whose INCLUDE flag is set (all when NULL).
 * SERIAL: the readings come from a serial sensor. */
void ef_sp_payload_ddata_stored(struct ef_pbw *w, int64_t ts_ms, const struct ef_reading *r,
                                size_t n, const bool *include, bool serial);

/* Maps a metric name of device context CTX to its alias; false if unknown. */
typedef bool (*ef_sp_alias_fn)(void *ctx, const char *name, size_t len, uint64_t *alias);

struct ef_sp_wire_result {
    size_t sent;    /* metrics written */
    size_t unknown; /* metrics left out: no alias (the point no longer exists) */
};

/* Stored DDATA IN -> wire DDATA into W. SCRATCH holds MAX decoded metrics.
 * Returns 0, or EF_SP_EMALFORMED / EF_SP_ETOOMANY (nothing useful written). */
int ef_sp_ddata_wire(const void *in, size_t len, struct ef_sp_metric *scratch, size_t max,
                     ef_sp_alias_fn alias_of, void *ctx, bool historical, uint64_t seq,
                     struct ef_pbw *w, struct ef_sp_wire_result *res);

#endif
