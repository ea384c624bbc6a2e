/* Runs a fuzz target without libFuzzer: every file named on the command line
 * (or inside a directory named there), then a fixed number of inputs made by
 * a seeded generator from the vocabulary of serial lines. Deterministic, so a
 * crash reproduces; short, so it runs in ctest with any compiler. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    return 0;
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        rc |= run_file(full);
    }
    closedir(d);
    return rc;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rng(void)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(rng_state >> 33);
}

static void generated_inputs(int count)
{
    static const char *pieces[] = {"$", "GPGGA", "GNRMC", "*", "47", "7f", ",", ",,", "4807.038",
                                   "N", "S", "E", "W", "A", "V", "1", "-", ".", "e", "E+9",
                                   "=", "T", " ", ";", "true", "false", "\r", "\n", "\r\n",
                                   "\x00", "\xff", "\t", "99999999999999999999", "0x1"};
    uint8_t buf[600];
    for (int i = 0; i < count; i++) {
        size_t len = 0, parts = rng() % 40;
        for (size_t p = 0; p < parts; p++) {
            const char *piece = pieces[rng() % (sizeof pieces / sizeof pieces[0])];
            size_t pl = piece[0] ? strlen(piece) : 1; /* "\x00" is one NUL byte */
            if (rng() % 8 == 0) {
                buf[len++] = (uint8_t)rng(); /* a raw byte now and then */
            } else if (len + pl <= sizeof buf) {
                memcpy(buf + len, piece, pl);
                len += pl;
            }
            if (len >= sizeof buf - 1)
                break;
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
}

int main(int argc, char **argv)
{
    int rc = 0;
    for (int i = 1; i < argc; i++)
        rc |= run_path(argv[i]);
    generated_inputs(20000);
    printf("fuzz replay done\n");
    return rc ? 1 : 0;
}
