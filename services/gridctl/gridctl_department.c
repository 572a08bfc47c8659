/*  gridctl department — the departments cases are referred to (代访,
    deploy/sql/repeatable/referrals.sql):

    department add CODE --name N [--contact C] [--phone P] [--root L1|'*']
                   [--days N]     insert or update one (N: its reply deadline
                                  in working days; default the rule's)
    department list               every department and its rule
    department import FILE        a JSON array of {code, name, contact, phone,
                                  root, reply_working_days}; all or nothing
*/
#include "gridctl.h"
#include "gf_db.h"

#include <jansson.h>

static const char *SQL_ADD = "SELECT gf_department_upsert ($1, $2, $3, $4, $5, $6::int) AS code";
static const char *SQL_IMPORT = "SELECT gf_department_import ($1::jsonb) AS n";
static const char *SQL_LIST =
    "SELECT code, name, coalesce (contact, '-') AS contact, coalesce (phone, '-') AS phone, root,"
    "       coalesce (reply_working_days::text, '(rule)') AS days FROM departments ORDER BY code";

static int s_add (gf_db_t *db, int argc, char **argv)
{
    const char *code = NULL, *name = NULL, *contact = NULL, *phone = NULL, *root = "*",
               *days = NULL;
    for (int i = 0; i < argc; i++) {
        const char **opt = streq (argv[i], "--name")      ? &name
                           : streq (argv[i], "--contact") ? &contact
                           : streq (argv[i], "--phone")   ? &phone
                           : streq (argv[i], "--root")    ? &root
                           : streq (argv[i], "--days")    ? &days
                                                          : NULL;
        if (opt && i + 1 < argc)
            *opt = argv[++i];
        else if (!opt && !code && argv[i][0] != '-')
            code = argv[i];
        else {
            fprintf (stderr, "error: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!code || !name) {
        fprintf (stderr, "usage: gridctl department add CODE --name N [--contact C] [--phone P] "
                         "[--root L1] [--days N]\n");
        return 2;
    }
    const char *params[] = {code, name, contact, phone, root, days};
    if (gf_db_run (db, SQL_ADD, 6, params) != 0) {
        fprintf (stderr,
                 "error: department %s refused by the database (%s): code A-Z a-z 0-9 _ . - "
                 "(1..64), name 1..64 characters, days 1..60\n",
                 code, gf_db_sqlstate (db));
        return 1;
    }
    printf ("department %s (%s)\n", code, name);
    return 0;
}

static int s_import (gf_db_t *db, const char *file)
{
    json_error_t jerr;
    json_t *rows = json_load_file (file, 0, &jerr);
    if (!json_is_array (rows)) {
        fprintf (stderr, "error: %s: not a JSON array (%s)\n", file, jerr.text);
        json_decref (rows);
        return 1;
    }
    char *text = json_dumps (rows, JSON_COMPACT);
    json_decref (rows);
    const char *params[] = {text};
    PGresult *res = gf_db_begin (db) == 0 ? gf_db_exec (db, SQL_IMPORT, 1, params) : NULL;
    int rc = 1;
    if (!res || gf_db_commit (db) != 0) {
        fprintf (stderr, "error: %s refused by the database (%s): nothing imported\n", file,
                 gf_db_sqlstate (db));
        gf_db_rollback (db);
    } else {
        printf ("%s departments imported from %s\n", gf_db_get (res, 0, "n"), file);
        rc = 0;
    }
    if (res)
        PQclear (res);
    free (text);
    return rc;
}

int gridctl_department (gf_config_t *config, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "";
    if (!streq (verb, "add") && !streq (verb, "list") && !(streq (verb, "import") && argc == 2)) {
        fprintf (stderr,
                 "usage: gridctl department add CODE --name N [...] | list | import FILE\n");
        return 2;
    }
    gf_db_t *db = gridctl_db_new (config);
    int rc = 1;
    if (gf_db_connect (db, 10000) != 0)
        fprintf (stderr, "error: cannot reach the database\n");
    else if (streq (verb, "add"))
        rc = s_add (db, argc - 1, argv + 1);
    else if (streq (verb, "import"))
        rc = s_import (db, argv[1]);
    else {
        PGresult *res = gf_db_exec (db, SQL_LIST, 0, NULL);
        if (res) {
            printf ("%-16s %-20s %-10s %-14s %-6s %s\n", "code", "部门 name", "联系人", "电话",
                    "root", "回复时限(工作日)");
            for (int r = 0; r < PQntuples (res); r++)
                printf ("%-16s %-20s %-10s %-14s %-6s %s\n", gf_db_get (res, r, "code"),
                        gf_db_get (res, r, "name"), gf_db_get (res, r, "contact"),
                        gf_db_get (res, r, "phone"), gf_db_get (res, r, "root"),
                        gf_db_get (res, r, "days"));
            PQclear (res);
            rc = 0;
        }
    }
    gf_db_destroy (&db);
    return rc;
}
