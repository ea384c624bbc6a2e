/* The bdSeq of the last CONNECT, kept in state_dir so that a restart (or a
 * power cut) never reuses it: a host correlates NBIRTH and NDEATH by it. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "gateway/sparkplug/sp_node_priv.h"

int ef_sp_bdseq_load(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno != ENOENT)
            ef_warn("sparkplug: cannot read %s (%s): bdSeq starts at 0", path, strerror(errno));
        return -1;
    }
    char line[32] = "";
    bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    char *end = NULL;
    long v = got ? strtol(line, &end, 10) : -1;
    if (!got || end == line || (*end != '\n' && *end != '\0') || v < 0 || v > 255) {
        ef_warn("sparkplug: %s does not hold a bdSeq (0..255): bdSeq starts at 0", path);
        return -1;
    }
    return (int)v;
}

static int sync_dir_of(const char *path)
{
    char dir[EF_STR_MAX + 32];
    snprintf(dir, sizeof dir, "%s", path);
    int fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

int ef_sp_bdseq_save(const char *path, uint8_t bdseq)
{
    char tmp[EF_STR_MAX + 40];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    char text[8];
    int len = snprintf(text, sizeof text, "%u\n", (unsigned)bdseq);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    int rc = 0;
    if (write(fd, text, (size_t)len) != len || fsync(fd) != 0)
        rc = errno ? -errno : -EIO;
    close(fd);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    return sync_dir_of(path);
}
