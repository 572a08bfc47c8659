/*  gridctl db migrate, grids import. */
#include "gridctl.h"
#include "gf_db.h"

#include <dirent.h>
#include <libgen.h>
#include <unistd.h>

/*  Serialises concurrent migrators, for the whole run (a session lock). */
static const char *SQL_MIGRATE_LOCK = "SELECT pg_advisory_lock (7146203002)";
static const char *SQL_MIGRATIONS_TABLE = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                          "  version text PRIMARY KEY, checksum text NOT NULL,"
                                          "  applied_at timestamptz NOT NULL DEFAULT now ())";
static const char *SQL_REPEATABLES_TABLE = "CREATE TABLE IF NOT EXISTS schema_repeatables ("
                                           "  file text PRIMARY KEY, checksum text NOT NULL,"
                                           "  applied_at timestamptz NOT NULL DEFAULT now ())";
static const char *SQL_MIGRATION_GET =
    "SELECT checksum = md5 ($2) AS same FROM schema_migrations WHERE version = $1";
static const char *SQL_MIGRATION_PUT =
    "INSERT INTO schema_migrations (version, checksum) VALUES ($1, md5 ($2))";
static const char *SQL_REPEATABLE_SAME =
    "SELECT EXISTS (SELECT 1 FROM schema_repeatables WHERE file = $1 AND checksum = md5 ($2))"
    "       AS same";
static const char *SQL_REPEATABLE_PUT =
    "INSERT INTO schema_repeatables (file, checksum) VALUES ($1, md5 ($2))"
    "  ON CONFLICT (file) DO UPDATE SET checksum = excluded.checksum, applied_at = now ()";
/*  Bodies refer to functions of other files, created later in the run. */
static const char *SQL_NO_BODY_CHECK = "SET LOCAL check_function_bodies = off";
/*  Functions named by a file just run in this transaction that it did not
    (re)create: overloads it no longer has (a changed argument list).  Those
    it ran have this transaction as their xmin.  ($1: the file.) */
static const char *SQL_STALE_OVERLOADS =
    "SELECT 'FUNCTION' AS kind, p.oid::regprocedure::text AS name FROM pg_proc p"
    " WHERE p.pronamespace = 'public'::regnamespace AND p.xmin <> pg_current_xact_id ()::xid"
    "   AND p.proname IN (SELECT lower (m[1]) FROM regexp_matches ($1,"
    "       'CREATE\\s+(?:OR\\s+REPLACE\\s+)?FUNCTION\\s+(?:public\\.)?(\\w+)', 'gi') m)";

/*  At 015 of the old numbered migrations, the baseline not recorded yet. */
static const char *SQL_LEGACY_STATE =
    "SELECT coalesce (bool_or (version = '015_ledger_subtree') AND NOT bool_or (version = $1),"
    "                 false) AS at_015,"
    "       coalesce (bool_or (version ~ '^0(0[1-9]|1[0-5])_') AND NOT bool_or (version = $1),"
    "                 false) AS legacy,"
    "       max (version) FILTER (WHERE version ~ '^0(0[1-9]|1[0-5])_') AS last"
    "  FROM schema_migrations";
/*  Functions and views of the schema (not an extension's) that no
    repeatable file creates ($1: the text of all of them). */
static const char *SQL_STALE_OBJECTS =
    "WITH made AS (SELECT lower (m[1]) AS kind, lower (m[2]) AS name FROM regexp_matches ($1,"
    "  'CREATE\\s+(?:OR\\s+REPLACE\\s+)?(FUNCTION|VIEW)\\s+(?:public\\.)?(\\w+)', 'gi') m),"
    " ext AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e')"
    "SELECT 'FUNCTION' AS kind, p.oid::regprocedure::text AS name FROM pg_proc p"
    " WHERE p.pronamespace = 'public'::regnamespace AND (p.tableoid, p.oid) NOT IN (TABLE ext)"
    "   AND p.proname NOT IN (SELECT name FROM made WHERE kind = 'function')"
    "UNION ALL SELECT 'VIEW', c.oid::regclass::text FROM pg_class c"
    " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'v'"
    "   AND c.relname NOT IN (SELECT name FROM made WHERE kind = 'view') AND (c.tableoid, c.oid) "
    "NOT IN (TABLE ext)";

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

/*  The SQL directory (migrations/ and repeatable/): --dir, else gridctl_data_dir. */
static char *s_sql_dir (int argc, char **argv)
{
    for (int i = 0; i + 1 < argc; i++)
        if (streq (argv[i], "--dir"))
            return strdup (argv[i + 1]);
    return gridctl_data_dir ("GF_SQL_DIR", "sql");
}

/*  The .sql files of a directory, sorted by name; NULL if it cannot be read. */
static zlist_t *s_sql_files (const char *dir)
{
    DIR *d = opendir (dir);
    if (!d) {
        fprintf (stderr, "error: cannot open %s: %s\n", dir, strerror (errno));
        return NULL;
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
    return files;
}

/*  The text of dir/name, or NULL (said on stderr). */
static char *s_sql_read (const char *dir, const char *name, size_t *size)
{
    char *path = zsys_sprintf ("%s/%s", dir, name);
    char *sql = gridctl_read_file (path, size);
    if (!sql)
        fprintf (stderr, "error: cannot read %s\n", path);
    free (path);
    return sql;
}

/*  A script as is, in the current transaction. */
static int s_run_script (gf_db_t *db, const char *what, const char *sql)
{
    PGresult *res = PQexec (gf_db_conn (db), sql);
    ExecStatusType status = PQresultStatus (res);
    int rc = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY
                 ? 0
                 : 1;
    if (rc)
        fprintf (stderr, "error: %s failed: %s", what, PQresultErrorMessage (res));
    PQclear (res);
    return rc;
}

/*  The first versioned migration: 001-015 of earlier releases squashed. */
#define BASELINE "016_baseline"

/*  Drops what a query ($1: text) names in its columns kind ("FUNCTION" or
    "VIEW") and name (regprocedure / regclass text: quoted by the server).
    Returns how many, or -1. */
static int s_drop_all (gf_db_t *db, const char *query, const char *text, const char *why)
{
    const char *params[] = {text};
    PGresult *res = gf_db_exec (db, query, 1, params);
    int dropped = res ? 0 : -1;
    for (int row = 0; res && dropped >= 0 && row < PQntuples (res); row++) {
        const char *kind = gf_db_get (res, row, "kind");
        char *drop = zsys_sprintf ("DROP %s %s", kind, gf_db_get (res, row, "name"));
        if (s_run_script (db, drop, drop) == 0) {
            printf ("dropped %s %s (%s)\n", kind, gf_db_get (res, row, "name"), why);
            dropped++;
        } else
            dropped = -1;
        free (drop);
    }
    if (res)
        PQclear (res);
    return dropped;
}

/*  One run of the migrator: the directory, the connection, what it did. */
typedef struct {
    char *dir;
    gf_db_t *db;
    int applied;
    zlist_t *repeatables; /* the repeatable files' names, in name order     */
    zhash_t *texts;       /* name -> the file's text                        */
} migrator_t;

/*  Reads every repeatable file once.  Returns 0 or 1. */
static int s_repeatables_load (migrator_t *self)
{
    char *dir = zsys_sprintf ("%s/repeatable", self->dir);
    self->repeatables = s_sql_files (dir);
    self->texts = zhash_new ();
    zhash_autofree (self->texts);
    int rc = self->repeatables ? 0 : 1;
    for (char *name = rc == 0 ? (char *)zlist_first (self->repeatables) : NULL; name && rc == 0;
         name = (char *)zlist_next (self->repeatables)) {
        char *sql = s_sql_read (dir, name, NULL);
        if (sql)
            zhash_insert (self->texts, name, sql);
        else
            rc = 1;
        free (sql);
    }
    free (dir);
    return rc;
}

/*  Runs sql as a script named what, records it with put ($1, $2: params)
    and counts it.  Returns 0 or 1. */
static int s_apply (migrator_t *self, const char *what, const char *sql, const char *put,
                    const char *const *params)
{
    if (s_run_script (self->db, what, sql) || gf_db_run (self->db, put, 2, params))
        return 1;
    printf ("applied %s\n", what);
    self->applied++;
    return 0;
}

/*  The repeatable files of one phase ("before", "main" or "after"), each
    run when its checksum differs from the one recorded (or, with force,
    always), in the current transaction.  A file names its phase in a
    "gridflow:phase=" line; none means main. */
static int s_repeatables (migrator_t *self, const char *phase, bool force)
{
    int rc = 0;
    for (char *name = (char *)zlist_first (self->repeatables); name && rc == 0;
         name = (char *)zlist_next (self->repeatables)) {
        const char *sql = (const char *)zhash_lookup (self->texts, name);
        const char *mark = strstr (sql, "gridflow:phase=");
        const char *file_phase = mark ? mark + strlen ("gridflow:phase=") : "main";
        if (strncmp (file_phase, phase, strlen (phase)) == 0) {
            const char *params[] = {name, sql};
            PGresult *res = gf_db_exec (self->db, SQL_REPEATABLE_SAME, 2, params);
            bool same = res && PQntuples (res) == 1 && streq (gf_db_get (res, 0, "same"), "t");
            if (!res)
                rc = 1;
            else if (force || !same) {
                char *what = zsys_sprintf ("repeatable %s", name);
                rc = s_apply (self, what, sql, SQL_REPEATABLE_PUT, params);
                int dropped = rc == 0 ? s_drop_all (self->db, SQL_STALE_OVERLOADS, sql,
                                                    "an overload the file no longer has")
                                      : 0;
                rc = dropped < 0 ? 1 : rc;
                free (what);
            }
            if (res)
                PQclear (res);
        }
    }
    return rc;
}

/*  Functions and views that no repeatable file creates any more (renamed or
    removed): dropped, so that the files are the whole truth.  (An overload
    whose file still names the function goes when the file runs.) */
static int s_sweep (migrator_t *self)
{
    zchunk_t *all = zchunk_new (NULL, 0);
    for (char *name = (char *)zlist_first (self->repeatables); name;
         name = (char *)zlist_next (self->repeatables)) {
        const char *sql = (const char *)zhash_lookup (self->texts, name);
        zchunk_extend (all, sql, strlen (sql));
    }
    zchunk_extend (all, "", 1);
    int dropped = s_drop_all (self->db, SQL_STALE_OBJECTS, (const char *)zchunk_data (all),
                              "no repeatable file creates it");
    zchunk_destroy (&all);
    if (dropped < 0)
        return 1;
    self->applied += dropped;
    return 0;
}

/*  A database made by the numbered migrations 001-015 of earlier releases is
    at the baseline's schema: record the baseline as carried over.  One made
    by an older release that stopped before 015 must be brought to 015 by
    that release first. */
static int s_carry_over (migrator_t *self, const char *baseline, const char *sql)
{
    const char *version[] = {baseline};
    PGresult *res = gf_db_exec (self->db, SQL_LEGACY_STATE, 1, version);
    if (!res)
        return 1;
    int rc = 0;
    if (streq (gf_db_get (res, 0, "at_015"), "t")) {
        const char *params[] = {baseline, sql};
        rc = gf_db_run (self->db, SQL_MIGRATION_PUT, 2, params);
        if (rc == 0)
            printf ("carried over %s (the database was made by migrations 001-015)\n", baseline);
    } else if (streq (gf_db_get (res, 0, "legacy"), "t")) {
        fprintf (stderr,
                 "error: this database stopped at migration %s of an older release; bring it "
                 "to 015_ledger_subtree with that release, then migrate again\n",
                 gf_db_get (res, 0, "last"));
        rc = 1;
    }
    PQclear (res);
    return rc;
}

/*  The versioned migrations (tables, indexes, constraints, data), each once,
    in its own transaction, in name order.  A migration changed after it was
    applied is an error. */
static int s_versioned (migrator_t *self)
{
    char *dir = zsys_sprintf ("%s/migrations", self->dir);
    zlist_t *files = s_sql_files (dir);
    int rc = files ? 0 : 1;
    for (char *name = files ? (char *)zlist_first (files) : NULL; name && rc == 0;
         name = (char *)zlist_next (files)) {
        char *sql = s_sql_read (dir, name, NULL);
        rc = sql ? rc : 1;
        char version[256];
        snprintf (version, sizeof version, "%.*s", (int)(strlen (name) - 4), name);
        const char *params[] = {version, sql};
        PGresult *res = NULL;
        if (rc == 0 && (gf_db_begin (self->db) ||
                        !(res = gf_db_exec (self->db, SQL_MIGRATION_GET, 2, params))))
            rc = 1;
        if (rc == 0 && PQntuples (res) == 1) {
            if (!streq (gf_db_get (res, 0, "same"), "t")) {
                fprintf (stderr, "error: migration %s was changed after it was applied\n", version);
                rc = 1;
            }
        } else if (rc == 0) {
            char *what = zsys_sprintf ("migration %s", version);
            rc = s_apply (self, what, sql, SQL_MIGRATION_PUT, params);
            free (what);
        }
        if (res)
            PQclear (res);
        if (rc == 0)
            rc = gf_db_commit (self->db) == 0 ? 0 : 1;
        else
            gf_db_rollback (self->db);
        free (sql);
    }
    zlist_destroy (&files);
    free (dir);
    return rc;
}

int gridctl_db_migrate (gf_config_t *config, int argc, char **argv)
{
    migrator_t self = {s_sql_dir (argc, argv), gridctl_db_new (config), 0, NULL, NULL};
    int rc = s_repeatables_load (&self);
    if (rc == 0 && gf_db_connect (self.db, 10000) != 0) {
        fprintf (stderr, "error: cannot connect to the database\n");
        rc = 1;
    }
    /* One migrator at a time (a session lock: it spans the transactions). */
    if (rc == 0 && (gf_db_run (self.db, SQL_MIGRATE_LOCK, 0, NULL) ||
                    gf_db_run (self.db, SQL_MIGRATIONS_TABLE, 0, NULL)))
        rc = 1;
    /* A database of the old numbered migrations: the baseline is carried over. */
    if (rc == 0) {
        char *dir = zsys_sprintf ("%s/migrations", self.dir);
        char *sql = s_sql_read (dir, BASELINE ".sql", NULL);
        rc = !sql || gf_db_begin (self.db) || s_carry_over (&self, BASELINE, sql);
        rc = rc == 0 ? gf_db_commit (self.db) : (gf_db_rollback (self.db), 1);
        free (sql);
        free (dir);
    }
    /* Phase before: pure functions the tables' constraints use. */
    if (rc == 0) {
        rc = gf_db_run (self.db, SQL_REPEATABLES_TABLE, 0, NULL) || gf_db_begin (self.db) ||
             gf_db_run (self.db, SQL_NO_BODY_CHECK, 0, NULL) ||
             s_repeatables (&self, "before", false);
        rc = rc == 0 ? gf_db_commit (self.db) : (gf_db_rollback (self.db), 1);
    }
    if (rc == 0)
        rc = s_versioned (&self);
    /* The concepts, the sweep, and the grants last (again whenever anything
       else ran: a new table or function needs its grants), in one
       transaction. */
    if (rc == 0) {
        rc = gf_db_begin (self.db) || gf_db_run (self.db, SQL_NO_BODY_CHECK, 0, NULL) ||
             s_repeatables (&self, "main", false) || s_sweep (&self) ||
             s_repeatables (&self, "after", self.applied > 0);
        rc = rc == 0 ? gf_db_commit (self.db) : (gf_db_rollback (self.db), 1);
    }
    if (rc == 0)
        printf ("database is up to date (%d applied now)\n", self.applied);
    gf_db_destroy (&self.db);
    zlist_destroy (&self.repeatables);
    zhash_destroy (&self.texts);
    free (self.dir);
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
/*  Each person's roles (own grid and role, plus "roles"), versioned
    (directory.sql): unchanged rows untouched, old ones closed.  Skipped on
    a database not migrated to issue 15 yet (an old one being carried
    over: `db migrate` then opens everyone's rows from 029). */
static const char *SQL_IMPORT_ROLES_HERE =
    "SELECT to_regprocedure ('gf_person_roles_import(jsonb)') IS NOT NULL AS here";
static const char *SQL_IMPORT_ROLES = "SELECT gf_person_roles_import ($1::jsonb)";
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
    gf_db_t *db = gridctl_db_new (config);
    int rc = gf_db_connect (db, 10000) == 0 && gf_db_begin (db) == 0 ? 0 : 1;
    const char *params[] = {json};
    for (size_t s = 0; rc == 0 && s < sizeof SQL_IMPORT / sizeof SQL_IMPORT[0]; s++)
        if (gf_db_run (db, SQL_IMPORT[s], 1, params) != 0)
            rc = 1;
    PGresult *here = rc == 0 ? gf_db_exec (db, SQL_IMPORT_ROLES_HERE, 0, NULL) : NULL;
    if (!here)
        rc = 1;
    else if (streq (gf_db_get (here, 0, "here"), "t") &&
             gf_db_run (db, SQL_IMPORT_ROLES, 1, params) != 0)
        rc = 1;
    if (here)
        PQclear (here);
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
