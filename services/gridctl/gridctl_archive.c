/*  gridctl case export ID --out FILE — a closed case as one archive file
    (资料归档齐): a POSIX (pax) tar, gzip-compressed, written with libarchive,
    of the files deploy/sql/repeatable/attachments.sql gf_case_archive
    gives: case.json, timeline.json, referrals.json (reports, receipts,
    deadlines, replies), attachments/<id>-<name>, and manifest.json with
    every other file's size and sha256.  A case that is not closed is
    refused (nothing written). */
#include "gridctl.h"
#include "gf_db.h"

#include <archive.h>
#include <archive_entry.h>

static const char *SQL_STATE = "SELECT state FROM cases WHERE id = $1";
static const char *SQL_FILES = "SELECT path, data, sha256 FROM gf_case_archive ($1)";

/*  Writes the rows of files into out (tar.gz).  Returns 0 or -1. */
static int s_write (PGresult *files, const char *out)
{
    struct archive *a = archive_write_new ();
    archive_write_set_format_pax_restricted (a);
    archive_write_add_filter_gzip (a);
    int rc = archive_write_open_filename (a, out) == ARCHIVE_OK ? 0 : -1;
    time_t now = time (NULL);
    for (int r = 0; rc == 0 && r < PQntuples (files); r++) {
        size_t size = 0;
        unsigned char *bytes =
            PQunescapeBytea ((const unsigned char *)PQgetvalue (files, r, 1), &size);
        struct archive_entry *e = archive_entry_new ();
        archive_entry_set_pathname_utf8 (e, PQgetvalue (files, r, 0));
        archive_entry_set_size (e, (la_int64_t)size);
        archive_entry_set_filetype (e, AE_IFREG);
        archive_entry_set_perm (e, 0644);
        archive_entry_set_mtime (e, now, 0);
        if (!bytes || archive_write_header (a, e) != ARCHIVE_OK ||
            archive_write_data (a, bytes, size) != (la_ssize_t)size)
            rc = -1;
        archive_entry_free (e);
        PQfreemem (bytes);
    }
    if (rc != 0)
        fprintf (stderr, "error: cannot write %s: %s\n", out, archive_error_string (a));
    if (archive_write_close (a) != ARCHIVE_OK)
        rc = -1;
    archive_write_free (a);
    return rc;
}

int gridctl_case_export (gf_config_t *config, int argc, char **argv)
{
    char *end = NULL;
    const char *out = argc == 3 && streq (argv[1], "--out") ? argv[2] : NULL;
    if (argc != 3 || !out || strtoll (argv[0], &end, 10) <= 0 || *end) {
        fprintf (stderr, "usage: gridctl case export ID --out FILE\n");
        return 2;
    }
    gf_db_t *db = gridctl_db_new (config);
    const char *params[] = {argv[0]};
    int rc = 1;
    PGresult *state = NULL, *files = NULL;
    if (gf_db_connect (db, 10000) != 0 || !(state = gf_db_exec (db, SQL_STATE, 1, params)))
        fprintf (stderr, "error: cannot read the database\n");
    else if (PQntuples (state) == 0)
        fprintf (stderr, "error: unknown_case: no case %s\n", argv[0]);
    else if (!streq (gf_db_get (state, 0, "state"), "closed"))
        fprintf (stderr,
                 "error: illegal_transition: case %s is %s: only a closed case is archived\n",
                 argv[0], gf_db_get (state, 0, "state"));
    else if (!(files = gf_db_exec (db, SQL_FILES, 1, params)))
        fprintf (stderr, "error: cannot read the case's files\n");
    else if (s_write (files, out) == 0) {
        printf ("case %s: %d files (manifest.json with sha256) -> %s\n", argv[0], PQntuples (files),
                out);
        rc = 0;
    } else
        unlink (out);
    if (state)
        PQclear (state);
    if (files)
        PQclear (files);
    gf_db_destroy (&db);
    return rc;
}
