/* Runs one fuzz target without libFuzzer, so that every compiler runs the
 * targets in ctest: first every file of the corpus directories named on the
 * command line, then a fixed number of inputs derived from them by a seeded
 * generator (byte flips, insertions, deletions, repeats, splices with other
 * seeds, cuts, and now and then pure random bytes).
 *
 *   standalone_<target> [-n COUNT] [-s SEED] DIR_OR_FILE...
 *
 * Deterministic: the same seed gives the same inputs, so a failure
 * reproduces; the input that failed is written to ./standalone-crash-input
 * before each run, so it is there to keep when the target aborts. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EF_FUZZ_MAX_INPUT (1u << 16)

struct seed {
    uint8_t *data;
    size_t len;
};

static struct seed *seeds;
static size_t nseeds, capseeds;
static int save_inputs;

static uint64_t rng_state;

static uint32_t rng(void)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(rng_state >> 33);
}

static void add_seed(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    uint8_t *buf = malloc(EF_FUZZ_MAX_INPUT);
    size_t n = buf ? fread(buf, 1, EF_FUZZ_MAX_INPUT, f) : 0;
    fclose(f);
    if (nseeds == capseeds) {
        capseeds = capseeds ? 2 * capseeds : 64;
        seeds = realloc(seeds, capseeds * sizeof *seeds);
        if (!seeds)
            exit(2);
    }
    seeds[nseeds++] = (struct seed){buf, n};
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds PATH, or every regular file directly inside it, in name order so the
 * generated inputs do not depend on the directory's order on disk. */
static void add_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        exit(2);
    }
    if (!S_ISDIR(st.st_mode)) {
        add_seed(path);
        return;
    }
    DIR *d = opendir(path);
    if (!d)
        exit(2);
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        snprintf(names[n++], len, "%s/%s", path, e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            add_seed(names[i]);
        free(names[i]);
    }
    free(names);
}

/* One mutation of BUF (LEN bytes, capacity EF_FUZZ_MAX_INPUT); returns the new length. */
static size_t mutate_once(uint8_t *buf, size_t len)
{
    size_t pos = len ? rng() % len : 0, n = 1 + rng() % 8;
    switch (rng() % 7) {
    case 0: /* flip bits */
        if (len)
            buf[pos] ^= (uint8_t)(1u << (rng() % 8));
        return len;
    case 1: /* overwrite with an interesting byte */
        if (len) {
            static const uint8_t bytes[] = {0, 1, 0x7f, 0x80, 0xff, '\n', '\r', '=', ',', '[', ']',
                                            '*', '$', ';', '#', '.', '-', 'e', '0', '9'};
            buf[pos] = bytes[rng() % sizeof bytes];
        }
        return len;
    case 2: /* insert random bytes */
        if (len + n > EF_FUZZ_MAX_INPUT)
            return len;
        memmove(buf + pos + n, buf + pos, len - pos);
        for (size_t i = 0; i < n; i++)
            buf[pos + i] = (uint8_t)rng();
        return len + n;
    case 3: /* delete a run */
        if (pos + n > len)
            n = len - pos;
        memmove(buf + pos, buf + pos + n, len - pos - n);
        return len - n;
    case 4: { /* repeat a run */
        n = 1 + rng() % 64;
        if (pos + n > len || len + n > EF_FUZZ_MAX_INPUT)
            return len;
        memmove(buf + pos + n, buf + pos, len - pos);
        return len + n;
    }
    case 5: { /* splice in part of another seed */
        if (!nseeds)
            return len;
        const struct seed *o = &seeds[rng() % nseeds];
        if (!o->len)
            return len;
        size_t from = rng() % o->len, m = 1 + rng() % (o->len - from);
        if (pos + m > EF_FUZZ_MAX_INPUT)
            m = EF_FUZZ_MAX_INPUT - pos;
        memcpy(buf + pos, o->data + from, m);
        return pos + m > len ? pos + m : len;
    }
    default: /* cut the tail */
        return pos;
    }
}

static void run_one(const uint8_t *data, size_t len)
{
    if (save_inputs) {
        FILE *f = fopen("standalone-crash-input", "wb");
        if (f) {
            fwrite(data, 1, len, f);
            fclose(f);
        }
    }
    /* An exact-size copy: reads past the end are the target's bug. */
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, data, len);
    LLVMFuzzerTestOneInput(copy, len);
    free(copy);
}

int main(int argc, char **argv)
{
    long count = 3000;
    uint64_t seed = 1;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i += 2) {
        if (i + 1 >= argc)
            break;
        if (strcmp(argv[i], "-n") == 0)
            count = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "-s") == 0)
            seed = strtoull(argv[i + 1], NULL, 10);
    }
    for (; i < argc; i++)
        add_path(argv[i]);
    save_inputs = getenv("EF_FUZZ_SAVE") != NULL;
    rng_state = seed * 0x9e3779b97f4a7c15u + 1;

    for (size_t s = 0; s < nseeds; s++)
        run_one(seeds[s].data, seeds[s].len);
    uint8_t *buf = malloc(EF_FUZZ_MAX_INPUT);
    for (long k = 0; k < count; k++) {
        size_t len;
        if (!nseeds || rng() % 16 == 0) { /* random bytes now and then */
            len = rng() % 512;
            for (size_t j = 0; j < len; j++)
                buf[j] = (uint8_t)rng();
        } else {
            const struct seed *s = &seeds[rng() % nseeds];
            memcpy(buf, s->data, s->len);
            len = s->len;
            for (unsigned m = 1 + rng() % 6; m > 0; m--)
                len = mutate_once(buf, len);
        }
        run_one(buf, len);
    }
    printf("%zu corpus inputs and %ld generated inputs: no failure\n", nseeds, count);
    free(buf);
    for (size_t s = 0; s < nseeds; s++)
        free(seeds[s].data);
    free(seeds);
    return 0;
}
