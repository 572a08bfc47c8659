/*  gf_csv — a small RFC 4180 CSV reader with line numbers and recovery.

    Fields are separated by commas, records by CRLF, LF or a lone CR.  A
    field may be quoted: inside quotes, commas and line breaks are data and
    a doubled quote is one quote.  Line breaks inside quoted fields come out
    as "\n" whatever the file used.  A UTF-8 byte order mark at the start is
    skipped; blank lines between records are skipped (they are not records
    of one empty field).  Whitespace is data (no trimming here).

    Strict where RFC 4180 is: a quote inside an unquoted field, text after a
    closing quote, an unterminated quote and a NUL byte make the record
    malformed.  The reader then says why, reports the line the record
    started on, and resynchronises at the start of the next physical line
    after the line that opened the offending quoted field (or after the
    line of the error when no quoted field was open).  So a forgotten
    closing quote costs one record, not the rest of the file.

    libcsv (Debian libcsv-dev 3.0.3) was considered: its callbacks carry no
    position, so line numbers and resynchronisation after an error would
    have to be rebuilt around it, and it neither skips a BOM nor reports why
    a record is malformed; this module is smaller than that glue.

    The whole input is held in memory (suggestion-box batches are small;
    recovery needs to look back).
*/
#ifndef GF_CSV_H_INCLUDED
#define GF_CSV_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct _gf_csv_t gf_csv_t;

/*  A reader over a copy of data[0..size). */
gf_csv_t *gf_csv_new (const void *data, size_t size);

/*  A reader over everything left in input.  Returns NULL on a read error
    (errno says why). */
gf_csv_t *gf_csv_new_from_file (FILE *input);

void gf_csv_destroy (gf_csv_t **self_p);

/*  Reads the next record.  Returns 1 with a record, 0 at the end of the
    input, or -1 for a malformed record, which is skipped (gf_csv_error says
    why; reading can go on). */
int gf_csv_next (gf_csv_t *self);

/*  The line (1-based) on which the last record read started. */
uint64_t gf_csv_line (gf_csv_t *self);

/*  The fields of the last record, valid until the next gf_csv_next. */
size_t gf_csv_size (gf_csv_t *self);
const char *gf_csv_field (gf_csv_t *self, size_t index);

/*  Why the last record was malformed ("" after a good one). */
const char *gf_csv_error (gf_csv_t *self);

#endif
