/* Loading: ini text -> raw sections -> build structs filled from the key
 * tables -> checks and assembly (config_check.c) -> struct ef_config. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_build.h"
#include "config/config_index.h"
#include "config/config_keys.h"
#include "config/config_raw.h"
#include "config/config_value.h"

#define EF_CONFIG_FILE_MAX (16u * 1024u * 1024u)

static const size_t build_size[EF_SEC_COUNT] = {
    [EF_SEC_GATEWAY] = 0, /* singletons live in the config itself */
    [EF_SEC_MQTT] = 0,
    [EF_SEC_QUEUE] = 0,
    [EF_SEC_BUS] = sizeof(struct ef_bus),
    [EF_SEC_DEVICE] = sizeof(struct ef_device_build),
    [EF_SEC_TEMPLATE] = sizeof(struct ef_template_build),
    [EF_SEC_POINT] = sizeof(struct ef_point_build),
    [EF_SEC_SERIAL] = sizeof(struct ef_serial_build),
    [EF_SEC_HOMEASSISTANT] = 0,
    [EF_SEC_SPARKPLUG] = 0,
    [EF_SEC_HTTP] = 0,
};

void ef_suggest_offer(struct ef_suggest *s, const char *candidate)
{
    size_t len = strlen(s->word);
    unsigned limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
    unsigned d = ef_cv_distance(s->word, candidate);
    if (d <= limit && (!s->best || d < s->dist)) {
        s->best = candidate;
        s->dist = d;
    }
}

const char *ef_suggest_text(const struct ef_suggest *s, char *buf, size_t len)
{
    if (!s->best)
        return "";
    snprintf(buf, len, " (did you mean '%s'?)", s->best);
    return buf;
}

void ef_build_key_error(struct ef_build *b, const struct ef_item *it, const char *key,
                        const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (key)
        ef_cfgerr_add(b->errs, ef_item_line(it, key), "[%s] %s: %s", it->raw->name, key, msg);
    else
        ef_cfgerr_add(b->errs, it->raw->line, "[%s] %s", it->raw->name, msg);
}

int ef_item_line(const struct ef_item *it, const char *key)
{
    const struct ef_raw_key *k = ef_raw_find(it->raw, key);
    return k ? k->line : it->raw->line;
}

bool ef_item_has(const struct ef_item *it, const char *key)
{
    return ef_raw_find(it->raw, key) != NULL;
}

struct ef_item *ef_build_find(struct ef_build *b, enum ef_section_kind kind, const char *name)
{
    size_t i = ef_index_get(&b->names, name, kind);
    return i < b->n[kind] ? &b->items[kind][i] : NULL;
}

/* Fills IT->data from its section: defaults, then every key, then the
 * check that required keys are there. */
static void apply_table(struct ef_build *b, enum ef_section_kind kind, struct ef_item *it)
{
    const struct ef_section_type *t = &ef_section_types[kind];
    size_t errors_before = b->errs->count;
    char err[160];
    for (size_t i = 0; i < t->nkeys; i++) {
        const struct ef_key *k = &t->keys[i];
        if (k->def && k->type->parse(k, k->def, (char *)it->data + k->offset, err, sizeof err))
            ef_cfgerr_add(b->errs, 0, "internal: bad default of %s.%s: %s", t->prefix, k->name, err);
    }
    const struct ef_raw_section *sec = it->raw;
    /* First occurrence of each table key: a section of many repeated keys
     * must not cost a search per key. */
    const struct ef_raw_key *first[EF_KEYS_MAX] = {0};
    for (size_t i = 0; i < sec->nkeys; i++) {
        const struct ef_raw_key *rk = &sec->keys[i];
        const struct ef_key *k = ef_key_find(t, rk->name);
        size_t ki = k ? (size_t)(k - t->keys) : 0;
        if (k && !first[ki])
            first[ki] = rk;
        if (!k) {
            struct ef_suggest s = {rk->name, NULL, 0};
            for (size_t j = 0; j < t->nkeys; j++)
                ef_suggest_offer(&s, t->keys[j].name);
            char hint[96];
            ef_cfgerr_add(b->errs, rk->line, "[%s] unknown key '%s'%s", sec->name, rk->name,
                          ef_suggest_text(&s, hint, sizeof hint));
        } else if (first[ki] != rk) {
            ef_cfgerr_add(b->errs, rk->line, "[%s] %s: duplicate key, first set on line %d",
                          sec->name, rk->name, first[ki]->line);
        } else if (k->type->parse(k, rk->value, (char *)it->data + k->offset, err, sizeof err)) {
            ef_cfgerr_add(b->errs, rk->line, "[%s] %s: %s", sec->name, rk->name, err);
            it->bad_keys |= 1u << (k - t->keys);
        }
    }
    for (size_t i = 0; i < t->nkeys; i++)
        if ((t->keys[i].flags & EF_KEY_REQUIRED) && !first[i])
            ef_cfgerr_add(b->errs, sec->line, "[%s] missing required key '%s'", sec->name,
                          t->keys[i].name);
    it->bad = b->errs->count != errors_before;
}

bool ef_item_ok(const struct ef_item *it, enum ef_section_kind kind, const char *key)
{
    const struct ef_key *k = ef_key_find(&ef_section_types[kind], key);
    return k && ef_item_has(it, key) &&
           !(it->bad_keys & (1u << (k - ef_section_types[kind].keys)));
}

/* Splits "[kind:rest]" and checks the names; returns the kind or -1. */
static int classify_section(struct ef_build *b, const struct ef_raw_section *sec,
                            struct ef_item *it)
{
    const char *colon = strchr(sec->name, ':');
    size_t plen = colon ? (size_t)(colon - sec->name) : strlen(sec->name);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%.*s", (int)(plen < 31 ? plen : 31), sec->name);
    struct ef_suggest s = {prefix, NULL, 0};
    for (int k = 0; k < EF_SEC_COUNT; k++) {
        const struct ef_section_type *t = &ef_section_types[k];
        if (strlen(t->prefix) != plen || strncmp(t->prefix, sec->name, plen) != 0) {
            ef_suggest_offer(&s, t->prefix);
            continue;
        }
        if (!t->named) {
            if (colon)
                ef_cfgerr_add(b->errs, sec->line, "section [%s] takes no name", t->prefix);
            return colon ? -1 : k;
        }
        const char *rest = colon ? colon + 1 : "";
        const char *dot = k == EF_SEC_POINT ? strchr(rest, '.') : NULL;
        if (k == EF_SEC_POINT && !dot) {
            ef_cfgerr_add(b->errs, sec->line, "point section must be [point:OWNER.NAME]");
            return -1;
        }
        if (dot) {
            snprintf(it->owner, sizeof it->owner, "%.*s", (int)(dot - rest), rest);
            rest = dot + 1;
        }
        if (!ef_cv_is_name(rest) || (dot && (!ef_cv_is_name(it->owner) ||
                                            (size_t)(dot - colon - 1) > EF_NAME_MAX))) {
            ef_cfgerr_add(b->errs, sec->line,
                          "bad name in [%s]: names are 1 to %d of A-Z a-z 0-9 _ -", sec->name,
                          EF_NAME_MAX);
            return -1;
        }
        /* P/G/alarm/gateway/... are the gateway's own alarms (its disk). */
        if ((k == EF_SEC_DEVICE || k == EF_SEC_SERIAL) && strcmp(rest, "gateway") == 0) {
            ef_cfgerr_add(b->errs, sec->line,
                          "[%s]: the device name 'gateway' is reserved for the gateway's own "
                          "alarms", sec->name);
            return -1;
        }
        snprintf(it->name, sizeof it->name, "%s", rest);
        return k;
    }
    char hint[96];
    ef_cfgerr_add(b->errs, sec->line, "unknown section [%s]%s", sec->name,
                  ef_suggest_text(&s, hint, sizeof hint));
    return -1;
}

static void *singleton_data(struct ef_config *cfg, int kind)
{
    return kind == EF_SEC_GATEWAY         ? (void *)&cfg->gateway
         : kind == EF_SEC_MQTT            ? (void *)&cfg->mqtt
         : kind == EF_SEC_HOMEASSISTANT   ? (void *)&cfg->homeassistant
         : kind == EF_SEC_SPARKPLUG       ? (void *)&cfg->sparkplug
         : kind == EF_SEC_HTTP            ? (void *)&cfg->http
                                          : (void *)&cfg->queue;
}

static void add_item(struct ef_build *b, const struct ef_raw_section *sec)
{
    struct ef_item it = {.raw = sec};
    int kind = classify_section(b, sec, &it);
    if (kind < 0)
        return;
    /* Keyed by the text after the colon, which lives as long as the build
     * (it->name moves with the item array). */
    const char *colon = strchr(sec->name, ':');
    size_t at = ef_index_put(&b->names, colon ? colon + 1 : "", kind, b->n[kind]);
    if (at == EF_INDEX_NONE) {
        b->oom = true;
        return;
    }
    if (at != b->n[kind]) {
        ef_cfgerr_add(b->errs, sec->line, "duplicate section [%s], first on line %d",
                      sec->name, b->items[kind][at].raw->line);
        return;
    }
    if (b->n[kind] == b->cap[kind]) {
        size_t cap = b->cap[kind] ? b->cap[kind] * 2 : 16;
        struct ef_item *items = realloc(b->items[kind], cap * sizeof *items);
        if (!items) {
            b->oom = true;
            return;
        }
        b->items[kind] = items;
        b->cap[kind] = cap;
    }
    it.data = build_size[kind] ? calloc(1, build_size[kind]) : singleton_data(b->cfg, kind);
    if (!it.data) {
        b->oom = true;
        return;
    }
    if (kind == EF_SEC_POINT)
        ((struct ef_point_build *)it.data)->p.bit = -1;
    apply_table(b, (enum ef_section_kind)kind, &it);
    b->items[kind][b->n[kind]++] = it;
}

/* Defaults of sections that may be left out entirely. */
static void apply_absent_defaults(struct ef_build *b)
{
    static const struct ef_raw_section empty = {.name = "", .line = 0};
    if (b->n[EF_SEC_QUEUE] == 0) {
        struct ef_item it = {.raw = &empty, .data = singleton_data(b->cfg, EF_SEC_QUEUE)};
        apply_table(b, EF_SEC_QUEUE, &it);
    }
    if (b->n[EF_SEC_HOMEASSISTANT] == 0) {
        struct ef_item it = {.raw = &empty, .data = singleton_data(b->cfg, EF_SEC_HOMEASSISTANT)};
        apply_table(b, EF_SEC_HOMEASSISTANT, &it);
    }
    if (b->n[EF_SEC_SPARKPLUG] == 0) {
        struct ef_item it = {.raw = &empty, .data = singleton_data(b->cfg, EF_SEC_SPARKPLUG)};
        apply_table(b, EF_SEC_SPARKPLUG, &it);
    }
    if (b->n[EF_SEC_GATEWAY] == 0)
        ef_cfgerr_add(b->errs, 0, "missing [gateway] section (gateway id is required)");
    if (b->n[EF_SEC_MQTT] == 0)
        ef_cfgerr_add(b->errs, 0, "missing [mqtt] section (mqtt uri is required)");
}

static void build_free(struct ef_build *b)
{
    for (int k = 0; k < EF_SEC_COUNT; k++) {
        for (size_t i = 0; build_size[k] && i < b->n[k]; i++) {
            if (k == EF_SEC_SERIAL) /* fields not handed over to the config */
                free(((struct ef_serial_build *)b->items[k][i].data)->s.fields);
            free(b->items[k][i].data);
        }
        free(b->items[k]);
    }
    ef_index_free(&b->names);
}

static struct ef_config_errors *new_errors(const char *name)
{
    struct ef_config_errors *errs = calloc(1, sizeof *errs);
    if (errs)
        snprintf(errs->file, sizeof errs->file, "%s", name);
    return errs;
}

int ef_config_load_string(const char *name, const char *text, struct ef_config **out,
                          struct ef_config_errors **errs_out)
{
    *out = NULL;
    *errs_out = NULL;
    struct ef_config_errors *errs = new_errors(name);
    struct ef_config *cfg = calloc(1, sizeof *cfg);
    struct ef_raw raw = {0};
    struct ef_build b = {.cfg = cfg, .errs = errs, .suggest_budget = 100000};
    if (!errs || !cfg || ef_raw_parse(text, strlen(text), &raw, errs) != 0) {
        b.oom = true;
    } else {
        snprintf(cfg->path, sizeof cfg->path, "%s", name);
        for (size_t i = 0; i < raw.n && !b.oom; i++)
            add_item(&b, &raw.secs[i]);
        apply_absent_defaults(&b);
        if (!b.oom) {
            ef_check_http(&b);
            ef_check_and_assemble(&b);
        }
    }
    build_free(&b);
    ef_raw_free(&raw);
    if (b.oom && errs)
        ef_cfgerr_add(errs, 0, "out of memory");
    if (!errs || errs->count > 0) {
        ef_config_free(cfg);
        if (!errs)
            errs = new_errors(name); /* may still be NULL: caller sees -1 only */
        if (errs) {
            ef_cfgerr_sort(errs);
        }
        *errs_out = errs;
        return -1;
    }
    ef_config_errors_free(errs);
    *out = cfg;
    return 0;
}

static const char *file_type(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

/* Reads PATH whole into a NUL-terminated buffer, or explains why not in
 * WHY. Only a regular file is read: a FIFO or a device could block the
 * start-up (and --check) forever or never end. stat names what a path is
 * even where open would fail (a socket); O_NONBLOCK keeps the open from
 * waiting for a FIFO's writer should the path change in between, and
 * fstat then judges the very file that is read. */
static char *read_file(const char *path, size_t *len, char *why, size_t whylen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(why, whylen, "cannot read the file: %s", strerror(errno));
        return NULL;
    }
    int fd = S_ISREG(st.st_mode) ? open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) : -1;
    if (S_ISREG(st.st_mode) && (fd < 0 || fstat(fd, &st) != 0)) {
        snprintf(why, whylen, "cannot read the file: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "%s: the configuration must be a regular file",
                 file_type(st.st_mode));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char *text = st.st_size <= EF_CONFIG_FILE_MAX ? malloc(EF_CONFIG_FILE_MAX + 1) : NULL;
    const char *err = st.st_size > EF_CONFIG_FILE_MAX ? "larger than 16 MiB"
                    : !text                           ? "out of memory"
                                                      : NULL;
    ssize_t n = 0;
    *len = 0;
    do {
        n = err ? 0 : read(fd, text + *len, EF_CONFIG_FILE_MAX + 1 - *len);
        if (n > 0)
            *len += (size_t)n;
    } while ((n > 0 && *len <= EF_CONFIG_FILE_MAX) || (n < 0 && errno == EINTR));
    if (!err && n < 0)
        err = strerror(errno);
    else if (!err && *len > EF_CONFIG_FILE_MAX)
        err = "larger than 16 MiB";
    close(fd);
    if (err) {
        snprintf(why, whylen, "cannot read the file: %s", err);
        free(text);
        return NULL;
    }
    text[*len] = '\0';
    return text;
}

int ef_config_load(const char *path, struct ef_config **out, struct ef_config_errors **errs)
{
    *out = NULL;
    *errs = NULL;
    size_t len = 0;
    char why[200];
    char *text = read_file(path, &len, why, sizeof why);
    if (!text) {
        *errs = new_errors(path);
        if (*errs)
            ef_cfgerr_add(*errs, 0, "%s", why);
        return -1;
    }
    if (memchr(text, '\0', len)) {
        free(text);
        *errs = new_errors(path);
        if (*errs)
            ef_cfgerr_add(*errs, 0, "the file contains NUL bytes: not a text file");
        return -1;
    }
    int rc = ef_config_load_string(path, text, out, errs);
    free(text);
    return rc;
}
