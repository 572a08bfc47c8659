/*  gf_suggestbox — imports transcribed suggestion-box slips. */
#include "gf_proto.h"
#include "gf_clock.h"
#include "gf_csv.h"
#include "gf_suggestbox.h"

static const char *s_columns[] = {"box_id", "opened_at", "slip_no", "text",
                                  "name",   "phone",     "address"};
#define S_COLUMNS    7
#define S_REQUIRED   4              /* the first four are required */
#define S_IDEO_SPACE "\xE3\x80\x80" /* U+3000, what Chinese IMEs type for a space */

static int *s_column (gf_suggestbox_header_t *header, int index)
{
    int *slots[S_COLUMNS] = {&header->box_id, &header->opened_at, &header->slip_no, &header->text,
                             &header->name,   &header->phone,     &header->address};
    return slots[index];
}

/*  A copy of text without surrounding spaces: ASCII white space and U+3000,
    which transcribers type with a Chinese input method. */
static char *s_trimmed (const char *text)
{
    const char *start = text, *end = text + strlen (text);
    while (true) {
        if (start < end && isspace ((unsigned char)*start))
            start++;
        else if (end - start >= 3 && memcmp (start, S_IDEO_SPACE, 3) == 0)
            start += 3;
        else
            break;
    }
    while (true) {
        if (end > start && isspace ((unsigned char)end[-1]))
            end--;
        else if (end - start >= 3 && memcmp (end - 3, S_IDEO_SPACE, 3) == 0)
            end -= 3;
        else
            break;
    }
    return strndup (start, (size_t)(end - start));
}

int gf_suggestbox_header (gf_csv_t *csv, gf_suggestbox_header_t *header, gf_error_t *err)
{
    for (int i = 0; i < S_COLUMNS; i++)
        *s_column (header, i) = -1;
    header->columns = gf_csv_size (csv);
    for (size_t f = 0; f < gf_csv_size (csv); f++) {
        char *title = s_trimmed (gf_csv_field (csv, f));
        int i = 0;
        while (i < S_COLUMNS && strcasecmp (title, s_columns[i]) != 0)
            i++;
        int rc = 0;
        if (i == S_COLUMNS)
            rc = gf_error_set (err, GF_E_BAD_VALUE,
                               "unknown column '%.40s' (known: box_id, opened_at, slip_no, text, "
                               "name, phone, address)",
                               title);
        else if (*s_column (header, i) >= 0)
            rc = gf_error_set (err, GF_E_BAD_VALUE, "column '%s' appears twice", s_columns[i]);
        else
            *s_column (header, i) = (int)f;
        free (title);
        if (rc)
            return -1;
    }
    for (int i = 0; i < S_REQUIRED; i++)
        if (*s_column (header, i) < 0)
            return gf_error_set (err, GF_E_MISSING_FIELD, "no column '%s'", s_columns[i]);
    return 0;
}

/*  The trimmed cell of a column, NULL for an absent column or empty cell. */
static char *s_cell (gf_csv_t *csv, int column)
{
    if (column < 0)
        return NULL;
    char *cell = s_trimmed (gf_csv_field (csv, (size_t)column));
    if (!*cell)
        zstr_free (&cell);
    return cell;
}

/*  Checks a required identifier cell: present, UTF-8, short enough, no '/'
    (the separator in source_ref, which must stay unambiguous). */
static int s_check_key (const char *cell, const char *column, size_t max_chars, gf_error_t *err)
{
    if (!cell)
        return gf_error_set (err, GF_E_MISSING_FIELD, "'%s' is empty", column);
    ssize_t chars = gf_utf8_count (cell, strlen (cell));
    if (chars < 0)
        return gf_error_set (err, GF_E_INVALID_UTF8, "'%s' is not valid UTF-8", column);
    if ((size_t)chars > max_chars)
        return gf_error_set (err, GF_E_TOO_LONG, "'%s' is over %zu characters", column, max_chars);
    if (strchr (cell, '/'))
        return gf_error_set (err, GF_E_BAD_VALUE, "'%s' must not contain '/': %.40s", column, cell);
    return 0;
}

/*  Slip numbers that are all digits lose their leading zeros: spreadsheets
    drop them when a file is opened and saved, and "007" is slip 7. */
static void s_canonical_slip (char *slip)
{
    if (strspn (slip, "0123456789") != strlen (slip))
        return;
    size_t zeros = strspn (slip, "0");
    if (zeros == strlen (slip))
        zeros--; /* "000" is slip 0 */
    memmove (slip, slip + zeros, strlen (slip + zeros) + 1);
}

/*  Checks the required cells, in column order; sets *opened_ms. */
static int s_check_row (const char *box, const char *opened, const char *slip, const char *text,
                        int64_t *opened_ms, gf_error_t *err)
{
    if (s_check_key (box, "box_id", GF_SUGGESTBOX_MAX_BOX, err) != 0)
        return -1;
    if (!opened)
        return gf_error_set (err, GF_E_MISSING_FIELD, "'opened_at' is empty");
    if (gf_clock_parse (opened, opened_ms) != 0)
        return gf_error_set (err, GF_E_BAD_VALUE,
                             "'opened_at' is not ISO 8601 (2026-11-23T09:00:00+08:00): %.40s",
                             opened);
    if (s_check_key (slip, "slip_no", GF_SUGGESTBOX_MAX_SLIP, err) != 0)
        return -1;
    if (!text)
        return gf_error_set (err, GF_E_MISSING_FIELD, "'text' is empty");
    //  Checked here, not only by the intake, so that the clerk learns which
    //  row to shorten before anything is sent.
    ssize_t chars = gf_utf8_count (text, strlen (text));
    if (chars < 0)
        return gf_error_set (err, GF_E_INVALID_UTF8, "'text' is not valid UTF-8");
    if (chars > GF_MAX_DESCRIPTION)
        return gf_error_set (err, GF_E_TOO_LONG, "'text' has %zd characters, over %d", chars,
                             GF_MAX_DESCRIPTION);
    return 0;
}

/*  A cell that would break the whole envelope (invalid UTF-8, over
    GF_MAX_STRING bytes) is refused here with the column's name, which the
    intake's answer (about the body as a whole) could not give; field limits
    (name over 64 characters, ...) are left to the intake. */
static int s_check_optional (const char *cell, const char *column, gf_error_t *err)
{
    if (!cell)
        return 0;
    if (strlen (cell) > GF_MAX_STRING)
        return gf_error_set (err, GF_E_TOO_LONG, "'%s' is over %d bytes", column, GF_MAX_STRING);
    if (gf_utf8_count (cell, strlen (cell)) < 0)
        return gf_error_set (err, GF_E_INVALID_UTF8, "'%s' is not valid UTF-8", column);
    return 0;
}

int gf_suggestbox_parse (const gf_suggestbox_header_t *header, gf_csv_t *csv, gf_complaint_t *c,
                         gf_error_t *err)
{
    memset (c, 0, sizeof *c);
    if (gf_csv_size (csv) != header->columns)
        return gf_error_set (err, GF_E_MALFORMED, "row has %zu fields, the header has %zu",
                             gf_csv_size (csv), header->columns);
    char *box = s_cell (csv, header->box_id);
    char *opened = s_cell (csv, header->opened_at);
    char *slip = s_cell (csv, header->slip_no);
    gf_complaint_t local = {0};
    local.description = s_cell (csv, header->text);
    local.name = s_cell (csv, header->name);
    local.phone = s_cell (csv, header->phone);
    local.address = s_cell (csv, header->address);
    int64_t opened_ms = 0;
    int rc = s_check_row (box, opened, slip, local.description, &opened_ms, err);
    if (rc == 0)
        rc = s_check_optional (local.name, "name", err);
    if (rc == 0)
        rc = s_check_optional (local.phone, "phone", err);
    if (rc == 0)
        rc = s_check_optional (local.address, "address", err);
    if (rc == 0) {
        s_canonical_slip (slip);
        local.source = strdup (GF_SUGGESTBOX_SOURCE);
        local.source_ref = zsys_sprintf ("%s/%" PRId64 "/%s", box, opened_ms, slip);
        local.id = zsys_sprintf ("%" PRIu64 ":%s", gf_csv_line (csv), local.source_ref);
        local.reported_at = opened_ms;
        local.at = gf_clock_now_ms ();
        *c = local;
    } else
        gf_complaint_reset (&local);
    free (box);
    free (opened);
    free (slip);
    return rc;
}

/*  The feeder's source: the CSV reader and the header's column map. */
typedef struct {
    gf_csv_t *csv;                 /* rows                 */
    gf_suggestbox_header_t header; /* where each column is */
} s_source_t;

/*  Next row: 1 with a complaint, -1 for a row rejected here, 0 at the end. */
static int s_next (void *source, gf_complaint_t *c, uint64_t *line, gf_error_t *err)
{
    s_source_t *self = (s_source_t *)source;
    int rc = gf_csv_next (self->csv);
    if (rc == 0)
        return 0;
    *line = gf_csv_line (self->csv);
    if (rc < 0)
        return gf_error_set (err, GF_E_MALFORMED, "%s", gf_csv_error (self->csv));
    return gf_suggestbox_parse (&self->header, self->csv, c, err) == 0 ? 1 : -1;
}

/*  Reads and checks the header row; prints why it is unusable. */
static int s_read_header (gf_csv_t *csv, const char *name, gf_suggestbox_header_t *header)
{
    gf_error_t err = {GF_OK, ""};
    int rc = gf_csv_next (csv);
    if (rc == 0)
        fprintf (stderr, "%s: error: empty input; the first row must be the header\n", name);
    else if (rc < 0)
        fprintf (stderr, "%s:%" PRIu64 ": error: bad header: %s\n", name, gf_csv_line (csv),
                 gf_csv_error (csv));
    else if (gf_suggestbox_header (csv, header, &err) != 0)
        fprintf (stderr, "%s:%" PRIu64 ": error: bad header: %s\n", name, gf_csv_line (csv),
                 err.message);
    else
        return 0;
    return -1;
}

int gf_suggestbox_feed (FILE *input, const char *name, const gf_feeder_options_t *options,
                        gf_feeder_counts_t *counts)
{
    s_source_t source = {.csv = gf_csv_new_from_file (input)};
    if (!source.csv) {
        fprintf (stderr, "%s: error: cannot read: %s\n", name, strerror (errno));
        return -2;
    }
    int rc = s_read_header (source.csv, name, &source.header) != 0
                 ? -2
                 : gf_feeder_run (options, name, s_next, &source, counts);
    gf_csv_destroy (&source.csv);
    return rc;
}
