/*  gridctl db migrate, grids import. */
#include "gridctl.h"
#include "gf_db.h"

#include <dirent.h>
#include <libgen.h>
#include <unistd.h>

/*  Serialises concurrent migrators. */
static const char *SQL_MIGRATE_LOCK = "SELECT pg_advisory_xact_lock (7146203002)";
static const char *SQL_MIGRATIONS_TABLE = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                          "  version text PRIMARY KEY, checksum text NOT NULL,"
                                          "  applied_at timestamptz NOT NULL DEFAULT now ())";
static const char *SQL_MIGRATION_GET =
    "SELECT checksum = md5 ($2) AS same FROM schema_migrations WHERE version = $1";
static const char *SQL_MIGRATION_PUT =
    "INSERT INTO schema_migrations (version, checksum) VALUES ($1, md5 ($2))";

char *gridctl_read_file (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    char *data = NULL;
    size_t len = 0, cap = 0;
    size_t got;
    do {
        if (cap - len < 65536) {
            cap = cap ? cap * 2 : 65536;
            data = (char *)realloc (data, cap + 1);
        }
        got = fread (data + len, 1, cap - len, file);
        len += got;
    } while (got > 0);
    fclose (file);
    data[len] = 0;
    if (size)
        *size = len;
    return data;
}

char *gridctl_data_dir (const char *env, const char *name)
{
    if (getenv (env))
        return strdup (getenv (env));
    char exe[4096];
    ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *bindir = dirname (exe);
        char *candidates[] = {zsys_sprintf ("%s/../deploy/%s", bindir, name),
                              zsys_sprintf ("%s/../share/gridflow/%s", bindir, name)};
        char *found = NULL;
        for (int c = 0; c < 2; c++) {
            if (!found && zsys_file_exists (candidates[c]))
                found = candidates[c];
            else
                free (candidates[c]);
        }
        if (found)
            return found;
    }
    return zsys_sprintf ("deploy/%s", name);
}

/*  The migrations directory: --dir, else gridctl_data_dir. */
static char *s_sql_dir (int argc, char **argv)
{
    for (int i = 0; i + 1 < argc; i++)
        if (streq (argv[i], "--dir"))
            return strdup (argv[i + 1]);
    return gridctl_data_dir ("GF_SQL_DIR", "sql");
}

int gridctl_db_migrate (gf_config_t *config, int argc, char **argv)
{
    char *dir = s_sql_dir (argc, argv);
    DIR *d = opendir (dir);
    if (!d) {
        fprintf (stderr, "error: cannot open migrations directory %s: %s\n", dir, strerror (errno));
        free (dir);
        return 1;
    }
    zlist_t *files = zlist_new ();
    zlist_autofree (files);
    struct dirent *e;
    while ((e = readdir (d))) {
        size_t len = strlen (e->d_name);
        if (len > 4 && streq (e->d_name + len - 4, ".sql"))
            zlist_append (files, e->d_name);
    }
    closedir (d);
    zlist_sort (files, (zlist_compare_fn *)strcmp);

    gf_db_t *db = gf_db_new (config->db, "gridctl");
    int rc = gf_db_connect (db, 10000) == 0 ? 0 : 1;
    if (rc)
        fprintf (stderr, "error: cannot connect to the database\n");
    int applied = 0;
    for (char *name = (char *)zlist_first (files); name && rc == 0;
         name = (char *)zlist_next (files)) {
        char *path = zsys_sprintf ("%s/%s", dir, name);
        char *sql = gridctl_read_file (path, NULL);
        if (!sql) {
            fprintf (stderr, "error: cannot read %s\n", path);
            rc = 1;
        }
        char version[256];
        snprintf (version, sizeof version, "%.*s", (int)(strlen (name) - 4), name);
        const char *params[] = {version, sql};
        PGresult *res = NULL;
        if (rc == 0 && (gf_db_begin (db) || gf_db_run (db, SQL_MIGRATE_LOCK, 0, NULL) ||
                        gf_db_run (db, SQL_MIGRATIONS_TABLE, 0, NULL) ||
                        !(res = gf_db_exec (db, SQL_MIGRATION_GET, 2, params))))
            rc = 1;
        if (rc == 0 && PQntuples (res) == 1) {
            if (!streq (gf_db_get (res, 0, "same"), "t")) {
                fprintf (stderr, "error: migration %s was changed after it was applied\n", version);
                rc = 1;
            }
        } else if (rc == 0) {
            /* A migration file is a script: run it as is, in this transaction. */
            PGresult *script = PQexec (gf_db_conn (db), sql);
            if (PQresultStatus (script) != PGRES_COMMAND_OK &&
                PQresultStatus (script) != PGRES_TUPLES_OK) {
                fprintf (stderr, "error: migration %s failed: %s", version,
                         PQresultErrorMessage (script));
                rc = 1;
            }
            PQclear (script);
            if (rc == 0 && gf_db_run (db, SQL_MIGRATION_PUT, 2, params) != 0)
                rc = 1;
            if (rc == 0) {
                printf ("applied %s\n", version);
                applied++;
            }
        }
        if (res)
            PQclear (res);
        if (rc == 0)
            rc = gf_db_commit (db) == 0 ? 0 : 1;
        else
            gf_db_rollback (db);
        free (sql);
        free (path);
    }
    if (rc == 0)
        printf ("database is up to date (%d applied now)\n", applied);
    gf_db_destroy (&db);
    zlist_destroy (&files);
    free (dir);
    return rc;
}

/*  Import statements, each reading the whole file as one JSON parameter. */
static const char *SQL_IMPORT[] = {
    "INSERT INTO categories (code, name)"
    "  SELECT code, name FROM jsonb_to_recordset (coalesce ($1::jsonb -> 'categories', '[]'))"
    "       AS x (code text, name text)"
    "  ON CONFLICT (code) DO UPDATE SET name = excluded.name",
    /* Parents first: level order. */
    "INSERT INTO grids (code, level, parent, name, commitment)"
    "  SELECT code, level, parent, name, commitment"
    "    FROM jsonb_to_recordset (coalesce ($1::jsonb -> 'grids', '[]'))"
    "         AS x (code text, level smallint, parent text, name text, commitment text)"
    "   ORDER BY level, code"
    "  ON CONFLICT (code) DO UPDATE SET level = excluded.level, parent = excluded.parent,"
    "     name = excluded.name, commitment = excluded.commitment",
    "INSERT INTO people (id, grid, role, name, position, phone, commitment)"
    "  SELECT id, grid, role, name, position, phone, commitment"
    "    FROM jsonb_to_recordset (coalesce ($1::jsonb -> 'people', '[]'))"
    "         AS x (id text, grid text, role text, name text, position text, phone text,"
    "               commitment text)"
    "  ON CONFLICT (id) DO UPDATE SET grid = excluded.grid, role = excluded.role,"
    "     name = excluded.name, position = excluded.position, phone = excluded.phone,"
    "     commitment = excluded.commitment",
    "INSERT INTO addresses (address, grid)"
    "  SELECT gf_normalize_address (address), grid"
    "    FROM jsonb_to_recordset (coalesce ($1::jsonb -> 'addresses', '[]'))"
    "         AS x (address text, grid text)"
    "  ON CONFLICT (address) DO UPDATE SET grid = excluded.grid",
};
static const char *SQL_IMPORT_CHECK =
    "SELECT (SELECT count (*) FROM grids) AS grids, (SELECT count (*) FROM people) AS people,"
    "       (SELECT count (*) FROM addresses) AS addresses,"
    "       (SELECT count (*) FROM addresses a JOIN grids g ON g.code = a.grid"
    "         WHERE g.level <> 3) AS bad_addresses,"
    "       (SELECT count (*) FROM grids g WHERE g.level > 1 AND g.level <>"
    "          (SELECT p.level + 1 FROM grids p WHERE p.code = g.parent)) AS bad_levels";

int gridctl_grids_import (gf_config_t *config, int argc, char **argv)
{
    if (argc != 1) {
        fprintf (stderr, "usage: gridctl grids import FILE\n");
        return 2;
    }
    char *json = gridctl_read_file (argv[0], NULL);
    if (!json) {
        fprintf (stderr, "error: cannot read %s: %s\n", argv[0], strerror (errno));
        return 1;
    }
    gf_db_t *db = gf_db_new (config->db, "gridctl");
    int rc = gf_db_connect (db, 10000) == 0 && gf_db_begin (db) == 0 ? 0 : 1;
    const char *params[] = {json};
    for (size_t s = 0; rc == 0 && s < sizeof SQL_IMPORT / sizeof SQL_IMPORT[0]; s++)
        if (gf_db_run (db, SQL_IMPORT[s], 1, params) != 0)
            rc = 1;
    PGresult *res = rc == 0 ? gf_db_exec (db, SQL_IMPORT_CHECK, 0, NULL) : NULL;
    if (res && (gf_db_get_ll (res, 0, "bad_addresses") || gf_db_get_ll (res, 0, "bad_levels"))) {
        fprintf (stderr, "error: addresses must map to L3 grids and each grid's level must be "
                         "its parent's + 1\n");
        rc = 1;
    }
    if (rc == 0 && res && gf_db_commit (db) == 0)
        printf ("imported: directory now has %s grids, %s people, %s addresses\n",
                gf_db_get (res, 0, "grids"), gf_db_get (res, 0, "people"),
                gf_db_get (res, 0, "addresses"));
    else {
        gf_db_rollback (db);
        fprintf (stderr, "error: import failed, nothing changed (see the message above)\n");
        rc = 1;
    }
    if (res)
        PQclear (res);
    gf_db_destroy (&db);
    free (json);
    return rc;
}
