/*  gf_csv — a small RFC 4180 CSV reader with line numbers and recovery. */
#include "gf_csv.h"

#include <czmq.h>

struct _gf_csv_t {
    char *data;       /* the whole input                                */
    size_t size;      /* bytes in data                                  */
    size_t pos;       /* next byte to read                              */
    uint64_t line;    /* line of data[pos]                              */
    size_t record;    /* offset of the last record's first byte         */
    uint64_t start;   /* line on which the last record started          */
    char *text;       /* fields of the last record, each NUL-terminated */
    size_t text_size; /* bytes used in text                             */
    size_t text_cap;
    size_t *fields; /* offset of each field in text                     */
    size_t count;   /* fields in the last record                        */
    size_t fields_cap;
    char error[160]; /* why the last record was malformed, or ""       */
};

static gf_csv_t *s_new (char *data, size_t size)
{
    gf_csv_t *self = (gf_csv_t *)zmalloc (sizeof (gf_csv_t));
    self->data = data;
    self->size = size;
    self->line = 1;
    //  Spreadsheets on Windows save "CSV UTF-8" with a byte order mark.
    if (size >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0)
        self->pos = 3;
    return self;
}

gf_csv_t *gf_csv_new (const void *data, size_t size)
{
    char *copy = (char *)malloc (size + 1);
    assert (copy);
    if (size)
        memcpy (copy, data, size);
    return s_new (copy, size);
}

gf_csv_t *gf_csv_new_from_file (FILE *input)
{
    size_t size = 0, cap = 64 * 1024;
    char *data = (char *)malloc (cap);
    assert (data);
    size_t got;
    while ((got = fread (data + size, 1, cap - size, input)) > 0) {
        size += got;
        if (size == cap) {
            cap *= 2;
            data = (char *)realloc (data, cap);
            assert (data);
        }
    }
    if (ferror (input)) {
        int saved = errno;
        free (data);
        errno = saved;
        return NULL;
    }
    return s_new (data, size);
}

void gf_csv_destroy (gf_csv_t **self_p)
{
    assert (self_p);
    gf_csv_t *self = *self_p;
    if (!self)
        return;
    free (self->data);
    free (self->text);
    free (self->fields);
    free (self);
    *self_p = NULL;
}

/*  Length of the line break at pos: 2 for CRLF, 1 for LF or a lone CR,
    0 for anything else. */
static size_t s_break (gf_csv_t *self, size_t pos)
{
    if (pos >= self->size)
        return 0;
    if (self->data[pos] == '\n')
        return 1;
    if (self->data[pos] == '\r')
        return pos + 1 < self->size && self->data[pos + 1] == '\n' ? 2 : 1;
    return 0;
}

static void s_append (gf_csv_t *self, char c)
{
    if (self->text_size == self->text_cap) {
        self->text_cap = self->text_cap ? self->text_cap * 2 : 256;
        self->text = (char *)realloc (self->text, self->text_cap);
        assert (self->text);
    }
    self->text[self->text_size++] = c;
}

static void s_field_begin (gf_csv_t *self)
{
    if (self->count == self->fields_cap) {
        self->fields_cap = self->fields_cap ? self->fields_cap * 2 : 16;
        self->fields = (size_t *)realloc (self->fields, self->fields_cap * sizeof (size_t));
        assert (self->fields);
    }
    self->fields[self->count++] = self->text_size;
}

/*  Marks the record malformed and moves to the start of the line after
    `line`, the most likely place for the next good record to begin.  The
    walk starts again from the record's first byte, which starts a line. */
static int s_malformed (gf_csv_t *self, uint64_t line, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int s_malformed (gf_csv_t *self, uint64_t line, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->error, sizeof self->error, fmt, args);
    va_end (args);
    self->count = 0;
    self->text_size = 0;
    size_t pos = self->record;
    uint64_t at = self->start;
    while (pos < self->size && at <= line) {
        size_t n = s_break (self, pos);
        pos += n ? n : 1;
        at += n ? 1 : 0;
    }
    self->pos = pos;
    self->line = at;
    return -1;
}

/*  Ends the field at the end of the record: consumes the line break, if
    any, and terminates the field. */
static int s_record_end (gf_csv_t *self)
{
    size_t n = s_break (self, self->pos);
    if (n) {
        self->pos += n;
        self->line++;
    }
    s_append (self, 0);
    return 1;
}

/*  Reads a quoted field; pos is on the opening quote.  Returns 1 at the
    end of the record, 0 when another field follows, -1 if malformed. */
static int s_quoted (gf_csv_t *self)
{
    uint64_t opened = self->line;
    self->pos++;
    while (true) {
        if (self->pos >= self->size)
            return s_malformed (self, opened,
                                "unterminated quote: the field quoted on line %" PRIu64
                                " runs to the end of the input",
                                opened);
        char c = self->data[self->pos];
        size_t n = s_break (self, self->pos);
        if (c == '"' && self->pos + 1 < self->size && self->data[self->pos + 1] == '"') {
            s_append (self, '"');
            self->pos += 2;
        } else if (c == '"') {
            self->pos++;
            break;
        } else if (n) {
            //  One convention for line breaks in the data, whatever the file's.
            s_append (self, '\n');
            self->pos += n;
            self->line++;
        } else if (c == 0)
            return s_malformed (self, opened, "NUL byte on line %" PRIu64, self->line);
        else {
            s_append (self, c);
            self->pos++;
        }
    }
    if (self->pos >= self->size || s_break (self, self->pos))
        return s_record_end (self);
    if (self->data[self->pos] == ',') {
        self->pos++;
        s_append (self, 0);
        return 0;
    }
    if (self->line > opened)
        //  Most often a closing quote forgotten on line `opened`, and this
        //  is the opening quote of a later field.
        return s_malformed (self, opened,
                            "unterminated quote: the field quoted on line %" PRIu64
                            " is closed on line %" PRIu64 " with text after the closing quote",
                            opened, self->line);
    return s_malformed (self, opened,
                        "text after a closing quote (quote the whole field, double the "
                        "quotes inside)");
}

/*  Reads an unquoted field.  Returns 1 at the end of the record, 0 when
    another field follows, -1 if malformed. */
static int s_plain (gf_csv_t *self)
{
    while (true) {
        if (self->pos >= self->size || s_break (self, self->pos))
            return s_record_end (self);
        char c = self->data[self->pos];
        if (c == ',') {
            self->pos++;
            s_append (self, 0);
            return 0;
        }
        //  RFC 4180: a field that holds a quote must be quoted.  Taking it
        //  literally would guess; the clerk can fix the row instead.
        if (c == '"')
            return s_malformed (self, self->line,
                                "quote inside an unquoted field (quote the whole field, "
                                "double the quotes inside)");
        if (c == 0)
            return s_malformed (self, self->line, "NUL byte on line %" PRIu64, self->line);
        s_append (self, c);
        self->pos++;
    }
}

int gf_csv_next (gf_csv_t *self)
{
    assert (self);
    self->count = 0;
    self->text_size = 0;
    self->error[0] = 0;
    size_t n;
    while ((n = s_break (self, self->pos)) > 0) {
        self->pos += n;
        self->line++;
    }
    if (self->pos >= self->size)
        return 0;
    self->record = self->pos;
    self->start = self->line;
    int rc;
    do {
        s_field_begin (self);
        bool quoted = self->pos < self->size && self->data[self->pos] == '"';
        rc = quoted ? s_quoted (self) : s_plain (self);
    } while (rc == 0);
    return rc;
}

uint64_t gf_csv_line (gf_csv_t *self)
{
    assert (self);
    return self->start;
}

size_t gf_csv_size (gf_csv_t *self)
{
    assert (self);
    return self->count;
}

const char *gf_csv_field (gf_csv_t *self, size_t index)
{
    assert (self);
    return index < self->count ? self->text + self->fields[index] : NULL;
}

const char *gf_csv_error (gf_csv_t *self)
{
    assert (self);
    return self->error;
}
