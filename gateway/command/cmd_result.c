/* The result payload of a command (format in command.h). */
#include "gateway/command/command.h"

void ef_cmd_json_string(struct ef_buf *b, const char *s)
{
    ef_buf_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            ef_buf_put(b, e, 2);
        } else {
            /* Ids, names and texts here are printable ASCII by construction;
             * anything else (from a library's message) becomes '?', so the
             * payload stays valid UTF-8 and its size bound holds. */
            char o = c < 0x20 || c > 0x7e ? '?' : (char)c;
            ef_buf_put(b, &o, 1);
        }
    }
    ef_buf_put(b, "\"", 1);
}

static void ok_members(struct ef_buf *b, const struct ef_cmd_write *w)
{
    ef_buf_puts(b, "\"ok\":true,\"value\":");
    ef_buf_value(b, &w->w.value);
    ef_buf_puts(b, ",\"readback\":");
    if (w->has_readback)
        ef_buf_value(b, &w->readback);
    else
        ef_buf_puts(b, "null");
}

static void error_members(struct ef_buf *b, const char *error)
{
    ef_buf_puts(b, "\"ok\":false,\"error\":");
    ef_cmd_json_string(b, error[0] ? error : "not executed");
}

static bool all_written(const struct ef_cmd_job *job)
{
    bool all = job->nwrites > 0 && !job->refused && !job->failed;
    for (size_t i = 0; i < job->nwrites; i++)
        all = all && job->writes[i].outcome == EF_CMD_WRITTEN;
    return all;
}

void ef_cmd_result_json(const struct ef_cmd_job *job, int64_t wall_now_ms, struct ef_buf *out)
{
    bool ok = all_written(job);
    ef_buf_puts(out, "{\"ts\":");
    ef_buf_int(out, wall_now_ms);
    if (job->has_id) {
        ef_buf_puts(out, ",\"id\":");
        ef_cmd_json_string(out, job->id);
    }
    ef_buf_puts(out, ",");
    if (!job->multi) {
        if (ok)
            ok_members(out, &job->writes[0]);
        else
            error_members(out, job->error);
        ef_buf_puts(out, "}");
        return;
    }
    if (ok)
        ef_buf_puts(out, "\"ok\":true");
    else
        error_members(out, job->error);
    if (job->nwrites > 0) {
        ef_buf_puts(out, ",\"results\":{");
        for (size_t i = 0; i < job->nwrites; i++) {
            const struct ef_cmd_write *w = &job->writes[i];
            if (i)
                ef_buf_puts(out, ",");
            ef_cmd_json_string(out, w->name);
            ef_buf_puts(out, ":{");
            if (w->outcome == EF_CMD_WRITTEN)
                ok_members(out, w);
            else
                error_members(out, w->error);
            ef_buf_puts(out, "}");
        }
        ef_buf_puts(out, "}");
    }
    ef_buf_puts(out, "}");
}
