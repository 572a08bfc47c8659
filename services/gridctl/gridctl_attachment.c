/*  gridctl case attach / case attachment get — evidence on a case
    (deploy/sql/repeatable/attachments.sql):

    case attach ID --actor P --file F [--name N] [--public] [--for REQUEST]
                [--note T] [--request-id R]
        uploads F through the intake (attachment.add; the type is read from
        the bytes: JPEG, PNG, WebP, PDF)
    case attachment get ATT --actor P --out FILE
        the bytes, for staff whose grid holds the case (else refused); the
        sha256 is checked against the stored one
*/
#include "gridctl.h"
#include "gf_client.h"
#include "gf_clock.h"
#include "gf_db.h"
#include "gf_proto.h"

static const char *SQL_GET = "SELECT err, case_id, filename, content_type, size, sha256, data"
                             "  FROM gf_attachment_get ($1, $2)";
static const char *SQL_SHA = "SELECT encode (sha256 ($1::bytea), 'hex') AS sha";

int gridctl_case_attach (gf_config_t *config, int argc, char **argv)
{
    char *end = NULL;
    gf_attachment_t a = {0};
    const char *file = NULL, *name = NULL, *request_id = NULL;
    if (argc < 1 || (a.case_id = strtoll (argv[0], &end, 10)) <= 0 || *end) {
        fprintf (stderr, "usage: gridctl case attach ID --actor P --file F [--public] "
                         "[--for REQUEST] [--note T] [--name N] [--request-id R]\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char **opt = streq (argv[i], "--file")         ? &file
                           : streq (argv[i], "--name")       ? &name
                           : streq (argv[i], "--request-id") ? &request_id
                           : streq (argv[i], "--actor")      ? (const char **)&a.actor
                           : streq (argv[i], "--for")        ? (const char **)&a.action
                           : streq (argv[i], "--note")       ? (const char **)&a.note
                                                             : NULL;
        if (streq (argv[i], "--public"))
            a.public = true;
        else if (opt && i + 1 < argc)
            *opt = argv[++i];
        else {
            fprintf (stderr, "error: bad argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!a.actor || !file) {
        fprintf (stderr, "error: --actor PERSON and --file FILE are required\n");
        return 2;
    }
    zchunk_t *chunk = NULL;
    FILE *f = fopen (file, "rb");
    if (f) {
        chunk = zchunk_read (f, 256 * 1024 * 1024);
        fclose (f);
    }
    if (!chunk) {
        fprintf (stderr, "error: cannot read %s\n", file);
        return 1;
    }
    char id[64];
    gridctl_request_id (id, sizeof id);
    a.id = (char *)(request_id ? request_id : id);
    a.at = gf_clock_now_ms ();
    const char *base = strrchr (file, '/');
    a.filename = (char *)(name ? name : base ? base + 1 : file);
    a.data = zchunk_data (chunk);
    a.size = zchunk_size (chunk);
    zframe_t *body = gf_attachment_encode (&a);
    zchunk_destroy (&chunk);
    gf_reply_t reply = {0};
    if (gridctl_request (config, &body, a.id, &reply, 10000) != 0)
        return 1;
    int rc = 0;
    if (reply.ok)
        printf ("case %" PRId64 ": attachment %s stored%s\n", a.case_id, a.filename,
                reply.duplicate ? " [already done]" : "");
    else {
        fprintf (stderr, "error: %s: %s\n", gf_code_name (reply.code),
                 reply.message ? reply.message : "");
        rc = 1;
    }
    gf_reply_reset (&reply);
    return rc;
}

int gridctl_case_attachment (gf_config_t *config, int argc, char **argv)
{
    const char *actor = NULL, *out = NULL;
    char *end = NULL;
    if (argc < 2 || !streq (argv[0], "get") || strtoll (argv[1], &end, 10) <= 0 || *end) {
        fprintf (stderr, "usage: gridctl case attachment get ATT --actor P --out FILE\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (streq (argv[i], "--actor") && i + 1 < argc)
            actor = argv[++i];
        else if (streq (argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else {
            fprintf (stderr, "error: bad argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!actor || !out) {
        fprintf (stderr, "error: --actor PERSON and --out FILE are required\n");
        return 2;
    }
    gf_db_t *db = gridctl_db_new (config);
    const char *params[] = {argv[1], actor};
    PGresult *res = gf_db_connect (db, 10000) == 0 ? gf_db_exec (db, SQL_GET, 2, params) : NULL;
    int rc = 1;
    if (!res)
        fprintf (stderr, "error: cannot read the database\n");
    else if (gf_db_get (res, 0, "err"))
        fprintf (stderr, "error: %s: attachment %s %s\n",
                 streq (gf_db_get (res, 0, "err"), "unknown") ? "unknown_case"
                                                              : gf_db_get (res, 0, "err"),
                 argv[1],
                 streq (gf_db_get (res, 0, "err"), "forbidden")
                     ? "belongs to a case outside the actor's grid"
                     : "is not known (or the actor is not)");
    else {
        size_t size = 0;
        unsigned char *bytes =
            PQunescapeBytea ((const unsigned char *)gf_db_get (res, 0, "data"), &size);
        /* The stored checksum, recomputed over what was read. */
        const char *sha_params[] = {gf_db_get (res, 0, "data")};
        PGresult *sha = gf_db_exec (db, SQL_SHA, 1, sha_params);
        FILE *f = bytes ? fopen (out, "wb") : NULL;
        if (!sha || !streq (gf_db_get (sha, 0, "sha"), gf_db_get (res, 0, "sha256")))
            fprintf (stderr, "error: attachment %s: checksum mismatch\n", argv[1]);
        else if (!f || fwrite (bytes, 1, size, f) != size)
            fprintf (stderr, "error: cannot write %s\n", out);
        else {
            printf ("attachment %s (case %s): %s, %s, %zu bytes, sha256 %s -> %s\n", argv[1],
                    gf_db_get (res, 0, "case_id"), gf_db_get (res, 0, "filename"),
                    gf_db_get (res, 0, "content_type"), size, gf_db_get (res, 0, "sha256"), out);
            rc = 0;
        }
        if (f && fclose (f) != 0)
            rc = 1;
        if (sha)
            PQclear (sha);
        PQfreemem (bytes);
    }
    if (res)
        PQclear (res);
    gf_db_destroy (&db);
    return rc;
}
