/* Fuzz targets for the pure serial code. Built once per target with
 * -DFUZZ_TARGET_xxx: under clang with libFuzzer, and always as a plain
 * program (fuzz_main.c) that replays a corpus and generated inputs in ctest.
 * Each target copies the input into an exact-size heap buffer so that any
 * read past the end is caught by AddressSanitizer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/serial/csv.h"
#include "drivers/serial/framing.h"
#include "drivers/serial/kv.h"
#include "drivers/serial/nmea.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char csv_fields[5][EF_NAME_MAX + 1] = {"a", "b", "c", "d", "e"};

static void check_result(const struct ef_parsed *out)
{
    if (out->n > EF_PARSED_MAX)
        abort();
    for (size_t i = 0; i < out->n; i++) {
        size_t len = strnlen(out->items[i].name, EF_NAME_MAX + 1);
        if (len == 0 || len > EF_NAME_MAX || !ef_parse_valid_name(out->items[i].name, len))
            abort();
    }
}

/* A line the framer would reject is rejected by every parser, whole. */
static void check_clean(const char *line, size_t len, int rc, const struct ef_parsed *out)
{
    if (!ef_line_clean(line, len) && (rc != EF_PARSE_REJECT || out->n != 0))
        abort();
}

static void parse_all(const char *line, size_t len)
{
    struct ef_parsed out;
    check_clean(line, len, ef_nmea_parse(line, len, &out), &out);
    check_result(&out);
    check_clean(line, len, ef_kv_parse(line, len, &out), &out);
    check_result(&out);
    check_clean(line, len, ef_csv_parse(line, len, csv_fields, 1 + len % 5, &out), &out);
    check_result(&out);
}

static void on_frame(void *ctx, enum ef_frame_kind kind, const char *line, size_t len)
{
    (void)ctx;
    if (kind != EF_FRAME_LINE)
        return;
    if (len == 0 || len > EF_FRAME_LINE_MAX || strlen(line) != len)
        abort();
    if (!ef_line_clean(line, len))
        abort(); /* junk must never reach a parser */
    parse_all(line, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
#if defined(FUZZ_TARGET_FRAMING)
    /* The first byte picks a chunk size, so partial lines across pushes are hit. */
    struct ef_framer f;
    ef_framer_reset(&f);
    size_t chunk = size ? 1 + (unsigned char)buf[0] % 64 : 1;
    for (size_t i = 0; i < size; i += chunk)
        ef_framer_push(&f, buf + i, size - i < chunk ? size - i : chunk, on_frame, NULL);
    if (f.len > EF_FRAME_LINE_MAX)
        abort();
#elif defined(FUZZ_TARGET_NMEA)
    struct ef_parsed out;
    check_clean(buf, size, ef_nmea_parse(buf, size, &out), &out);
    check_result(&out);
    (void)on_frame;
#elif defined(FUZZ_TARGET_KV)
    struct ef_parsed out;
    check_clean(buf, size, ef_kv_parse(buf, size, &out), &out);
    check_result(&out);
    (void)on_frame;
#elif defined(FUZZ_TARGET_CSV)
    struct ef_parsed out;
    check_clean(buf, size, ef_csv_parse(buf, size, csv_fields, 1 + size % 5, &out), &out);
    check_result(&out);
    (void)on_frame;
#else
#error "define one FUZZ_TARGET_*"
#endif
    free(buf);
    return 0;
}
