/*  gf_hotline — the hotline call-centre bridge. */
#include "gf_proto.h"
#include "gf_clock.h"
#include "gf_hotline.h"

#include <jansson.h>

static char *s_opt_str (json_t *record, const char *key, gf_error_t *err, bool *bad)
{
    json_t *v = json_object_get (record, key);
    if (!v || json_is_null (v))
        return NULL;
    if (!json_is_string (v)) {
        gf_error_set (err, GF_E_WRONG_TYPE, "'%s' must be a string", key);
        *bad = true;
        return NULL;
    }
    return strdup (json_string_value (v));
}

int gf_hotline_parse (const char *line, uint64_t line_no, gf_complaint_t *c, gf_error_t *err)
{
    memset (c, 0, sizeof *c);
    json_error_t jerr;
    json_t *record = json_loads (line, JSON_REJECT_DUPLICATES, &jerr);
    if (!record || !json_is_object (record)) {
        json_decref (record);
        return gf_error_set (err, GF_E_MALFORMED, "not a JSON object: %s", jerr.text);
    }
    bool bad = false;
    c->source = strdup ("hotline");
    c->source_ref = s_opt_str (record, "call_id", err, &bad);
    c->description = s_opt_str (record, "text", err, &bad);
    c->category = s_opt_str (record, "category", err, &bad);
    c->grid = s_opt_str (record, "grid", err, &bad);
    c->address = s_opt_str (record, "address", err, &bad);
    c->name = s_opt_str (record, "caller", err, &bad);
    c->phone = s_opt_str (record, "phone", err, &bad);
    char *time = s_opt_str (record, "time", err, &bad);
    json_t *urgent = json_object_get (record, "urgent");
    if (!bad && urgent && !json_is_boolean (urgent) && !json_is_null (urgent)) {
        gf_error_set (err, GF_E_WRONG_TYPE, "'urgent' must be true or false");
        bad = true;
    }
    c->urgent = urgent && json_is_true (urgent);
    if (!bad && (!c->source_ref || !*c->source_ref)) {
        gf_error_set (err, GF_E_MISSING_FIELD, "'call_id' is required");
        bad = true;
    }
    if (!bad && !c->description) {
        gf_error_set (err, GF_E_MISSING_FIELD, "'text' is required");
        bad = true;
    }
    if (!bad && time && gf_clock_parse (time, &c->reported_at) != 0) {
        gf_error_set (err, GF_E_BAD_VALUE, "'time' is not ISO 8601: %.40s", time);
        bad = true;
    }
    free (time);
    json_decref (record);
    if (bad) {
        gf_complaint_reset (c);
        return -1;
    }
    c->id = zsys_sprintf ("%" PRIu64 ":%s", line_no, c->source_ref);
    c->at = gf_clock_now_ms ();
    return 0;
}

/*  Reads the next non-empty line; returns NULL at end of input. */
static char *s_next_line (FILE *input, uint64_t *line_no)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline (&line, &cap, input)) >= 0) {
        (*line_no)++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (len > 0)
            return line;
    }
    free (line);
    return NULL;
}

/*  The feeder's source: the input and where we are in it. */
typedef struct {
    FILE *input;   /* JSON Lines                */
    uint64_t line; /* number of the last line read */
} s_source_t;

static int s_next (void *source, gf_complaint_t *c, uint64_t *line, gf_error_t *err)
{
    s_source_t *self = (s_source_t *)source;
    char *text = s_next_line (self->input, &self->line);
    if (!text)
        return 0;
    *line = self->line;
    int rc = gf_hotline_parse (text, self->line, c, err) == 0 ? 1 : -1;
    free (text);
    return rc;
}

int gf_hotline_feed (FILE *input, const char *name, const gf_feeder_options_t *options,
                     gf_feeder_counts_t *counts)
{
    s_source_t source = {input, 0};
    return gf_feeder_run (options, name, s_next, &source, counts);
}
