#include "sim_map.h"

#include <string.h>

void sim_encode(uint64_t v, int nregs, enum sim_order order, uint16_t *out)
{
    uint8_t be[8], wire[8];
    int n = 2 * nregs;
    for (int i = 0; i < n; i++)
        be[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    for (int i = 0; i < n; i++) {
        switch (order) {
        case SIM_ABCD:
            wire[i] = be[i];
            break;
        case SIM_DCBA:
            wire[i] = be[n - 1 - i];
            break;
        case SIM_BADC:
            wire[i] = be[i ^ 1];
            break;
        case SIM_CDAB: /* word w of the wire is word nregs-1-w of the value */
            wire[i] = be[2 * (nregs - 1 - i / 2) + i % 2];
            break;
        }
    }
    for (int r = 0; r < nregs; r++)
        out[r] = (uint16_t)(wire[2 * r] << 8 | wire[2 * r + 1]);
}

/* Each value of a multi-register type, in the four orders from BASE on. */
static void put4(uint16_t *regs, int base, uint64_t v, int nregs)
{
    for (int o = 0; o < 4; o++)
        sim_encode(v, nregs, (enum sim_order)o, &regs[base + o * nregs]);
}

static uint64_t f32_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static uint64_t f64_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

/* BYTES (N of them, N even) as registers from BASE on, the first byte of
 * each pair high (or, with LOW_FIRST, low). */
static void put_text(uint16_t *regs, int base, const char *bytes, int n, bool low_first)
{
    const unsigned char *b = (const unsigned char *)bytes;
    for (int i = 0; i < n; i += 2)
        regs[base + i / 2] = low_first ? (uint16_t)(b[i + 1] << 8 | b[i])
                                       : (uint16_t)(b[i] << 8 | b[i + 1]);
}

static void fill(uint16_t *regs, int id)
{
    for (int a = 200; a < SIM_MAP_SIZE; a++)
        regs[a] = (uint16_t)a;
    regs[0] = (uint16_t)id;
    regs[10] = (uint16_t)(int16_t)-12345;
    regs[11] = 54321;
    regs[12] = 0xA5A5;
    put4(regs, 20, (uint32_t)(int32_t)-123456789, 2);
    put4(regs, 30, 3000000000u, 2);
    put4(regs, 40, f32_bits(3.14159274f), 2);
    put4(regs, 50, (uint64_t)(int64_t)-1234567890123456789ll, 4);
    put4(regs, 70, 17375808098319191535ull, 4);
    put4(regs, 90, f64_bits(-2.718281828459045), 4);
    put_text(regs, 110, "EDGEFERRY-01\0\0\0\0", 16, false);
    put_text(regs, 120, "EDGEFERRY-01\0\0\0\0", 16, true);
    put_text(regs, 130, "Z\xC3\xBCrich ", 8, false);
    put_text(regs, 134, "OK\xFF", 4, false);
}

int sim_map_init(struct sim_unit *u, int id)
{
    memset(u, 0, sizeof *u);
    u->id = id;
    u->map = modbus_mapping_new(SIM_MAP_SIZE, SIM_MAP_SIZE, SIM_MAP_SIZE, SIM_MAP_SIZE);
    if (!u->map)
        return -1;
    for (int a = 0; a < SIM_MAP_SIZE; a++) {
        u->map->tab_bits[a] = a % 3 == 0;
        u->map->tab_input_bits[a] = a % 2 == 1;
    }
    fill(u->map->tab_registers, id);
    fill(u->map->tab_input_registers, id);
    return 0;
}

void sim_map_tick(struct sim_unit *u, int64_t ramp)
{
    uint16_t counter = (uint16_t)u->requests;
    u->map->tab_registers[1] = u->map->tab_input_registers[1] = counter;
    u->map->tab_registers[2] = u->map->tab_input_registers[2] = (uint16_t)ramp;
}
