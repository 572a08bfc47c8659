/*  gridctl cert — CurveZMQ certificates and the identities they stand for.

    cert server FILE                 the intake's certificate: FILE (public,
                                     for clients' --server-cert) and FILE_secret
    cert new NAME --kind adapter|staff|subscriber|app|department|workbench --grid SUBTREE
             [--sources a,b] [--topics p,q] [--person P] --out FILE
                                     a client identity: its certificate FILE
                                     and FILE_secret (for the client's --cert),
                                     its public certificate in the servers'
                                     directory (--certs DIR/NAME.cert) and its
                                     rights in the database (topics: the event
                                     types a stream reader may read, prefixes;
                                     none = every type for subscriber/staff)
    cert list                        identities, their rights, and whether
                                     their certificate is in --certs
    cert revoke NAME                 removes its public certificate from
                                     --certs (new connections are refused by
                                     zauth) and marks it revoked (the intake
                                     refuses its requests on open connections)
*/
#include "gridctl.h"
#include "gf_db.h"

#include <sys/stat.h>

static const char *SQL_INSERT =
    "INSERT INTO identities (name, public_key, kind, sources, grid, person, topics, department)"
    " VALUES ($1, $2, $3, coalesce (string_to_array (nullif ($4, ''), ','), '{}'), $5, $6,"
    "         coalesce (string_to_array (nullif ($7, ''), ','), '{}'), $8)";
static const char *SQL_LIST =
    "SELECT name, kind, grid, coalesce (nullif (array_to_string (sources, ','), ''), '-') AS "
    "sources,"
    "       person, public_key,"
    "       to_char (created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD\"T\"HH24:MI') AS created,"
    "       to_char (revoked_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD\"T\"HH24:MI') AS revoked"
    "  FROM identities ORDER BY name";
static const char *SQL_REVOKE =
    "UPDATE identities SET revoked_at = coalesce (revoked_at, now ()) WHERE name = $1"
    " RETURNING public_key";

/*  Valid identity names are also safe file names (the table checks the
    same rule). */
static bool s_name_ok (const char *name)
{
    size_t len = strlen (name);
    if (len < 1 || len > 64 || !isalnum ((unsigned char)name[0]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum ((unsigned char)name[i]) && !strchr ("_.-", name[i]))
            return false;
    return true;
}

/*  Saves cert as FILE (public) and FILE_secret (mode 0600); refuses to
    overwrite.  Returns 0 or -1 (printed). */
static int s_save_pair (zcert_t *cert, const char *path)
{
    char *secret = zsys_sprintf ("%s_secret", path);
    int rc = -1;
    if (zsys_file_exists (path) || zsys_file_exists (secret))
        fprintf (stderr, "error: %s or %s already exists\n", path, secret);
    else if (zcert_save (cert, path) != 0)
        fprintf (stderr, "error: cannot write %s: %s\n", path, strerror (errno));
    else if (chmod (secret, 0600) != 0)
        fprintf (stderr, "error: cannot protect %s: %s\n", secret, strerror (errno));
    else
        rc = 0;
    zstr_free (&secret);
    return rc;
}

static int s_server (gf_config_t *config, int argc, char **argv)
{
    if (argc != 1) {
        fprintf (stderr, "usage: gridctl cert server FILE\n");
        return 2;
    }
    zcert_t *cert = zcert_new ();
    zcert_set_meta (cert, "name", "%s", "gf-intake");
    int rc = s_save_pair (cert, argv[0]) == 0 ? 0 : 1;
    if (rc == 0)
        printf ("server certificate %s (public key %s), secret in %s_secret\n", argv[0],
                zcert_public_txt (cert), argv[0]);
    zcert_destroy (&cert);
    return rc;
}

static int s_new (gf_config_t *config, int argc, char **argv)
{
    const char *name = NULL, *kind = NULL, *grid = NULL, *sources = "", *person = NULL, *out = NULL,
               *topics = "", *department = NULL;
    for (int i = 0; i < argc; i++) {
        const char **opt = streq (argv[i], "--kind")         ? &kind
                           : streq (argv[i], "--grid")       ? &grid
                           : streq (argv[i], "--sources")    ? &sources
                           : streq (argv[i], "--person")     ? &person
                           : streq (argv[i], "--topics")     ? &topics
                           : streq (argv[i], "--department") ? &department
                           : streq (argv[i], "--out")        ? &out
                                                             : NULL;
        if (opt && i + 1 < argc)
            *opt = argv[++i];
        else if (!opt && !name && argv[i][0] != '-')
            name = argv[i];
        else {
            fprintf (stderr, "error: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!name || !kind || !grid || !out) {
        fprintf (stderr,
                 "usage: gridctl [--certs DIR] cert new NAME --kind "
                 "adapter|staff|subscriber|app|department|workbench --grid SUBTREE [--sources a,b] "
                 "[--topics p,q] [--person P] [--department CODE] --out FILE\n");
        return 2;
    }
    if (!s_name_ok (name)) {
        fprintf (stderr, "error: name must be 1..64 of A-Z a-z 0-9 _ . - (first alphanumeric)\n");
        return 2;
    }
    if (!*config->certs) {
        fprintf (stderr, "error: --certs DIR (GF_CERTS): the intake's certificate directory\n");
        return 2;
    }
    char *store = zsys_sprintf ("%s/%s.cert", config->certs, name);
    if (zsys_file_exists (store)) {
        fprintf (stderr, "error: %s already exists\n", store);
        zstr_free (&store);
        return 1;
    }
    zcert_t *cert = zcert_new ();
    zcert_set_meta (cert, "name", "%s", name);
    zcert_set_meta (cert, "kind", "%s", kind);
    /* The rights first, in a transaction that commits only once both
       files exist: a failure leaves neither a key without rights nor
       rights without a key. */
    gf_db_t *db = gridctl_db_new (config);
    const char *params[] = {name,      zcert_public_txt (cert), kind, sources, grid, person, topics,
                            department};
    int rc = 1;
    if (gf_db_connect (db, 10000) != 0 || gf_db_begin (db) != 0)
        fprintf (stderr, "error: cannot reach the database\n");
    else if (gf_db_run (db, SQL_INSERT, 8, params) != 0)
        fprintf (stderr,
                 "error: identity %s refused by the database (%s): name taken, "
                 "unknown grid or person, or bad kind/sources/topics\n",
                 name, gf_db_sqlstate (db));
    else if (s_save_pair (cert, out) == 0) {
        zsys_dir_create (config->certs);
        if (zcert_save_public (cert, store) != 0)
            fprintf (stderr, "error: cannot write %s: %s\n", store, strerror (errno));
        else if (gf_db_commit (db) != 0) {
            fprintf (stderr, "error: commit failed\n");
            zsys_file_delete (store);
        } else
            rc = 0;
    }
    if (rc == 0)
        printf ("identity %s (%s, %s) key %s: certificate %s, secret %s_secret, public %s\n", name,
                kind, grid, zcert_public_txt (cert), out, out, store);
    else
        gf_db_rollback (db);
    gf_db_destroy (&db);
    zcert_destroy (&cert);
    zstr_free (&store);
    return rc;
}

/*  Whether a certificate with this public key is in the directory; with
    remove, deletes every such file.  Returns the number of files. */
static int s_in_store (const char *dir, const char *key, bool remove)
{
    int found = 0;
    zdir_t *zdir = *dir ? zdir_new (dir, NULL) : NULL;
    zfile_t **files = zdir ? zdir_flatten (zdir) : NULL;
    for (int i = 0; files && files[i]; i++) {
        zcert_t *cert = zcert_load (zfile_filename (files[i], NULL));
        if (cert && streq (zcert_public_txt (cert), key)) {
            found++;
            if (remove && zsys_file_delete (zfile_filename (files[i], NULL)) != 0)
                fprintf (stderr, "error: cannot remove %s: %s\n", zfile_filename (files[i], NULL),
                         strerror (errno));
        }
        zcert_destroy (&cert);
    }
    if (files)
        zdir_flatten_free (&files);
    zdir_destroy (&zdir);
    return found;
}

static int s_list (gf_config_t *config, int argc, char **argv)
{
    if (argc != 0) {
        fprintf (stderr, "usage: gridctl [--certs DIR] cert list\n");
        return 2;
    }
    gf_db_t *db = gridctl_db_new (config);
    PGresult *res = gf_db_connect (db, 10000) == 0 ? gf_db_exec (db, SQL_LIST, 0, NULL) : NULL;
    if (res) {
        printf ("%-20s %-8s %-14s %-24s %-10s %-16s %-16s %s\n", "name", "kind", "grid", "sources",
                "person", "created", "revoked", "in --certs");
        for (int r = 0; r < PQntuples (res); r++) {
            const char *person = gf_db_get (res, r, "person");
            const char *revoked = gf_db_get (res, r, "revoked");
            printf ("%-20s %-8s %-14s %-24s %-10s %-16s %-16s %s\n", gf_db_get (res, r, "name"),
                    gf_db_get (res, r, "kind"), gf_db_get (res, r, "grid"),
                    gf_db_get (res, r, "sources"), person ? person : "-",
                    gf_db_get (res, r, "created"), revoked ? revoked : "-",
                    !*config->certs                                                       ? "?"
                    : s_in_store (config->certs, gf_db_get (res, r, "public_key"), false) ? "yes"
                                                                                          : "no");
        }
        PQclear (res);
    } else
        fprintf (stderr, "error: cannot read identities\n");
    gf_db_destroy (&db);
    return res ? 0 : 1;
}

static int s_revoke (gf_config_t *config, int argc, char **argv)
{
    if (argc != 1) {
        fprintf (stderr, "usage: gridctl [--certs DIR] cert revoke NAME\n");
        return 2;
    }
    if (!*config->certs) {
        fprintf (stderr, "error: --certs DIR (GF_CERTS): the intake's certificate directory\n");
        return 2;
    }
    gf_db_t *db = gridctl_db_new (config);
    const char *params[] = {argv[0]};
    PGresult *res = gf_db_connect (db, 10000) == 0 ? gf_db_exec (db, SQL_REVOKE, 1, params) : NULL;
    int rc = 1;
    if (!res)
        fprintf (stderr, "error: cannot reach the database\n");
    else if (PQntuples (res) == 0)
        fprintf (stderr, "error: no identity %s\n", argv[0]);
    else {
        int removed = s_in_store (config->certs, gf_db_get (res, 0, "public_key"), true);
        printf ("identity %s revoked; %d certificate file(s) removed from %s\n", argv[0], removed,
                config->certs);
        rc = 0;
    }
    if (res)
        PQclear (res);
    gf_db_destroy (&db);
    return rc;
}

int gridctl_cert (gf_config_t *config, int argc, char **argv)
{
    const char *command = argc > 0 ? argv[0] : "";
    if (streq (command, "server"))
        return s_server (config, argc - 1, argv + 1);
    if (streq (command, "new"))
        return s_new (config, argc - 1, argv + 1);
    if (streq (command, "list"))
        return s_list (config, argc - 1, argv + 1);
    if (streq (command, "revoke"))
        return s_revoke (config, argc - 1, argv + 1);
    fprintf (stderr, "usage: gridctl cert server|new|list|revoke ...\n");
    return 2;
}
