/* Loader state shared by config_load.c (sections and keys) and
 * config_check.c (rules between keys and sections, final assembly). */
#ifndef EF_CONFIG_BUILD_H
#define EF_CONFIG_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "config/config_index.h"
#include "config/config_keys.h"
#include "config/config_raw.h"

/* One recognised section. DATA is the section's build struct (for the
 * singletons: the struct inside the config). */
struct ef_item {
    const struct ef_raw_section *raw;
    char name[EF_NAME_MAX + 1];  /* NAME of [kind:NAME], or of [point:OWNER.NAME] */
    char owner[EF_NAME_MAX + 1]; /* points only */
    void *data;
    unsigned bad_keys; /* bit i: key i of the section's table was given but invalid */
    bool bad;          /* some error inside this section: skip its own checks */
};

struct ef_build {
    struct ef_config *cfg;
    struct ef_config_errors *errs;
    struct ef_item *items[EF_SEC_COUNT];
    size_t n[EF_SEC_COUNT], cap[EF_SEC_COUNT];
    /* Section name (after the colon) and kind -> index into items[kind]. */
    struct ef_index names;
    /* Candidates "did you mean" may still compare; a file of thousands of
     * dangling references must not cost a comparison with every name each. */
    size_t suggest_budget;
    bool oom;
};

/* Error at LINE about key KEY of ITEM's section. */
void ef_build_key_error(struct ef_build *b, const struct ef_item *it, const char *key,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Line of KEY in ITEM's section, or the section's line when absent. */
int ef_item_line(const struct ef_item *it, const char *key);
bool ef_item_has(const struct ef_item *it, const char *key);
/* KEY is present and its value was valid. */
bool ef_item_ok(const struct ef_item *it, enum ef_section_kind kind, const char *key);

/* [sparkplug] rules (config_check_sparkplug.c). */
void ef_check_sparkplug(struct ef_build *b);

/* The item of KIND named NAME, or NULL. */
struct ef_item *ef_build_find(struct ef_build *b, enum ef_section_kind kind, const char *name);

/* Runs every cross-key and cross-section rule and fills b->cfg's arrays.
 * Errors go to b->errs; b->oom is set when memory ran out. */
void ef_check_and_assemble(struct ef_build *b);

/* [http]: a listen address that is not loopback needs a password_file
 * (config_http.c). */
void ef_check_http(struct ef_build *b);
/* The rules of writable points and their limits (config_check_write.c);
 * SERIAL: the point belongs to a serial sensor. Runs after the point's
 * register was checked. */
void ef_check_point_write(struct ef_build *b, struct ef_item *it, bool serial);
/* A device without its own write_single takes its template's. */
void ef_check_device_write(struct ef_build *b, struct ef_item *it);

/* Copies the checked build structs into b->cfg (buses, devices with their
 * template points resolved, serial sensors). Only called without errors. */
void ef_assemble(struct ef_build *b);

/* "Did you mean" search: start with {WORD, NULL, 0}, offer every candidate;
 * BEST is then the closest one within a small edit distance, or NULL. */
struct ef_suggest {
    const char *word;
    const char *best;
    unsigned dist;
};
void ef_suggest_offer(struct ef_suggest *s, const char *candidate);
/* " (did you mean 'X'?)" or "" when there is no suggestion; static buffer
 * owned by S's caller: BUF of LEN bytes. */
const char *ef_suggest_text(const struct ef_suggest *s, char *buf, size_t len);

#endif
