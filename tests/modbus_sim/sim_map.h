/* The register contents of one simulated unit (see modbus_sim.c's header
 * comment for the map) and their encoding in the four byte orders. */
#ifndef EF_SIM_MAP_H
#define EF_SIM_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include <modbus.h>

#define SIM_MAP_SIZE 1000 /* addresses 0..999 of every kind */

struct sim_unit {
    int id;
    bool dead;
    unsigned long long requests;
    modbus_mapping_t *map; /* owned; modbus_mapping_free() */
};

enum sim_order { SIM_ABCD, SIM_DCBA, SIM_BADC, SIM_CDAB };

/* Writes the big-endian value V of NREGS registers (1, 2 or 4) in ORDER. */
void sim_encode(uint64_t v, int nregs, enum sim_order order, uint16_t *out);

/* Allocates and fills the map of unit ID. Returns 0 or -1. */
int sim_map_init(struct sim_unit *u, int id);

/* Updates the changing registers: counter and RAMP. */
void sim_map_tick(struct sim_unit *u, int64_t ramp);

#endif
