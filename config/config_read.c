/* Stage one: ini text -> sections and keys with line numbers (see the
 * comment in config_raw.h for why the reader counts lines itself). */
#include <ctype.h>
#include <ini.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_raw.h"

struct reader {
    const char *text;
    size_t len, pos;
    int lineno;           /* physical line last handed to inih */
    bool key_pending;     /* that line should reach the handler as KEY = VALUE */
    bool key_handled;     /* ... and it did */
    bool prev_key;        /* inih's "prev_name": a key since the last header */
    long cur;             /* current section index; -1 none yet, -2 broken header */
    bool oom;
    struct ef_raw *raw;
    struct ef_config_errors *errs;
};

static bool is_comment_start(char c)
{
    return c == '\0' || c == ';' || c == '#';
}

static struct ef_raw_section *add_section(struct reader *r, const char *name, size_t n)
{
    struct ef_raw *raw = r->raw;
    if (raw->n == raw->cap) {
        size_t cap = raw->cap ? raw->cap * 2 : 16;
        struct ef_raw_section *s = realloc(raw->secs, cap * sizeof *s);
        if (!s)
            return NULL;
        raw->secs = s;
        raw->cap = cap;
    }
    struct ef_raw_section *sec = &raw->secs[raw->n];
    memset(sec, 0, sizeof *sec);
    sec->name = strndup(name, n);
    if (!sec->name)
        return NULL;
    sec->line = r->lineno;
    raw->n++;
    return sec;
}

/* A "[...]" line (S points at '['); mirrors inih: the name ends at ']' or at
 * an inline comment (';' after whitespace). */
static void section_header(struct reader *r, const char *s, size_t n)
{
    size_t i = 1;
    bool was_space = false;
    while (i < n && s[i] != ']' && !(was_space && s[i] == ';')) {
        was_space = isspace((unsigned char)s[i]);
        i++;
    }
    if (i >= n || s[i] != ']') {
        ef_cfgerr_add(r->errs, r->lineno, "section header without a closing ']'");
        r->cur = -2;
        return;
    }
    size_t after = i + 1;
    while (after < n && isspace((unsigned char)s[after]))
        after++;
    if (after < n && s[after] != ';' && s[after] != '#')
        ef_cfgerr_add(r->errs, r->lineno, "unexpected text after the section header");
    if (!add_section(r, s + 1, i - 1)) {
        r->oom = true;
        r->cur = -2;
        return;
    }
    r->cur = (long)r->raw->n - 1;
    r->prev_key = false;
}

/* Checks the previous line's outcome: a KEY = VALUE candidate that inih
 * did not hand to us lacked its '='. */
static void finish_line(struct reader *r)
{
    if (r->key_pending && !r->key_handled)
        ef_cfgerr_add(r->errs, r->lineno, "expected KEY = VALUE, a [section] or a comment");
    r->key_pending = false;
}

/* Decides what inih sees of line CONTENT (N bytes, no line break): the line
 * itself, or an empty line when the reader already reported it. */
static bool classify(struct reader *r, const char *content, size_t n, int num)
{
    if ((long)n > (long)num - 2) {
        ef_cfgerr_add(r->errs, r->lineno, "line is longer than %d characters", num - 2);
        return false;
    }
    if (memchr(content, '\0', n)) {
        ef_cfgerr_add(r->errs, r->lineno, "line contains a NUL byte");
        return false;
    }
    size_t i = 0;
    if (r->lineno == 1 && n >= 3 && memcmp(content, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    size_t lead = i;
    while (i < n && isspace((unsigned char)content[i]))
        i++;
    if (is_comment_start(i < n ? content[i] : '\0'))
        return true;
    if (r->prev_key && i > lead) {
        /* inih would append it to the previous value (configparser style). */
        ef_cfgerr_add(r->errs, r->lineno,
                      "indented line: multi-line values are not supported, remove the indentation");
        return false;
    }
    if (content[i] == '[') {
        section_header(r, content + i, n - i);
        return true;
    }
    r->key_pending = true;
    r->key_handled = false;
    return true;
}

/* inih's ini_reader: fgets semantics, one physical line per call. */
static char *read_line(char *str, int num, void *stream)
{
    struct reader *r = stream;
    finish_line(r);
    if (r->pos >= r->len || num < 3)
        return NULL;
    const char *start = r->text + r->pos;
    const char *nl = memchr(start, '\n', r->len - r->pos);
    size_t n = nl ? (size_t)(nl - start) : r->len - r->pos;
    r->pos += n + (nl ? 1 : 0);
    if (n > 0 && start[n - 1] == '\r')
        n--;
    r->lineno++;
    if (!classify(r, start, n, num))
        n = 0;
    memcpy(str, start, n);
    str[n] = '\n';
    str[n + 1] = '\0';
    return str;
}

static int add_key(struct ef_raw_section *sec, const char *name, const char *value, int line)
{
    if (sec->nkeys == sec->cap) {
        size_t cap = sec->cap ? sec->cap * 2 : 8;
        struct ef_raw_key *k = realloc(sec->keys, cap * sizeof *k);
        if (!k)
            return -1;
        sec->keys = k;
        sec->cap = cap;
    }
    struct ef_raw_key *k = &sec->keys[sec->nkeys];
    k->name = strdup(name);
    k->value = strdup(value);
    k->line = line;
    if (!k->name || !k->value) {
        free(k->name);
        free(k->value);
        return -1;
    }
    sec->nkeys++;
    return 0;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    (void)section; /* inih's copy may be cut short; the reader tracks the full name */
    struct reader *r = user;
    if (!r->key_pending || r->key_handled) {
        ef_cfgerr_add(r->errs, r->lineno, "unexpected continuation of a value");
        return 1;
    }
    r->key_handled = true;
    r->prev_key = true;
    if (r->cur == -1)
        ef_cfgerr_add(r->errs, r->lineno, "key '%s' before the first [section]", name);
    else if (r->cur >= 0 && add_key(&r->raw->secs[r->cur], name, value, r->lineno) != 0)
        r->oom = true;
    return 1; /* errors are collected, never reported back through inih */
}

int ef_raw_parse(const char *text, size_t len, struct ef_raw *raw, struct ef_config_errors *errs)
{
    struct reader r = {.text = text, .len = len, .cur = -1, .raw = raw, .errs = errs};
    int rc = ini_parse_stream(read_line, &r, on_key, &r);
    if (rc > 0 && !ef_cfgerr_on_line(errs, rc))
        ef_cfgerr_add(errs, rc, "syntax error");
    else if (rc < 0)
        r.oom = true;
    return r.oom ? -1 : 0;
}

void ef_raw_free(struct ef_raw *raw)
{
    for (size_t i = 0; i < raw->n; i++) {
        struct ef_raw_section *s = &raw->secs[i];
        for (size_t k = 0; k < s->nkeys; k++) {
            free(s->keys[k].name);
            free(s->keys[k].value);
        }
        free(s->keys);
        free(s->name);
    }
    free(raw->secs);
    memset(raw, 0, sizeof *raw);
}

const struct ef_raw_key *ef_raw_find(const struct ef_raw_section *sec, const char *name)
{
    for (size_t i = 0; i < sec->nkeys; i++)
        if (strcmp(sec->keys[i].name, name) == 0)
            return &sec->keys[i];
    return NULL;
}
