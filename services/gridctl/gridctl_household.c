/*  gridctl household import|show|history|due|register|group, people
    history|edit: the household register and the versioned directory
    (issue 15; households.sql, directory.sql).  register and group go
    through the intake as staff messages; import is the operator's path
    (audited: audit.sql); the rest read. */
#include "gridctl.h"
#include "gf_client.h"
#include "gf_clock.h"
#include "gf_proto.h"

#include <jansson.h>

static const char *SQL_IMPORT = "SELECT * FROM gf_household_import ($1::jsonb, $2)";
static const char *SQL_SHOW =
    "SELECT h.id, h.grid, h.address, h.head_name, coalesce (h.phone, '-') AS phone, "
    "       h.members::text AS members, h.version, gf_visit_due (h.id) AS due, "
    "       (gf_visit_period (h.id)).period AS period FROM households h WHERE h.id = $1";
static const char *SQL_GROUPS =
    "SELECT hg.grp, s.name, hg.valid_from, coalesce (hg.valid_to::text, '-') AS valid_to, hg.source"
    "  FROM household_groups hg JOIN special_groups s ON s.code = hg.grp"
    " WHERE hg.household = $1 ORDER BY hg.valid_from, hg.id";
static const char *SQL_HISTORY =
    "SELECT to_char (at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS at, change, "
    "       coalesce (grp, '-') AS grp, actor, version FROM gf_household_history ($1)";
static const char *SQL_DUE = "SELECT household, grid, array_to_string (groups, ',') AS groups, "
                             "  period, coalesce (to_char (last_visit AT TIME ZONE "
                             "  'Asia/Shanghai', 'YYYY-MM-DD'), '-') AS last_visit, due, "
                             "  overdue FROM gf_visits_due ($1)";
static const char *SQL_PEOPLE_HISTORY =
    "SELECT person, name, grid, role, coalesce (team, '-') AS team, "
    "       coalesce (home_unit, '-') AS home_unit, "
    "       coalesce (to_char (valid_from AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'), "
    "                 'always') AS valid_from, coalesce (to_char (valid_to AT TIME ZONE "
    "       'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'), 'now') AS valid_to "
    "  FROM gf_person_history ($1, $2)";
static const char *SQL_PEOPLE_EDIT =
    "SELECT gf_person_roles_sync (p.id, jsonb_build_array (jsonb_build_object ('grid', p.grid, "
    "       'role', p.role)) || $2::jsonb) AS changed FROM people p WHERE p.id = $1";

#define V(res, r, col) (gf_db_get (res, r, col) ? gf_db_get (res, r, col) : "-")

/*  One read-only statement printed by print; 1 on failure. */
static int s_read (gf_config_t *config, const char *sql, int n, const char **params,
                   void (*print) (PGresult *res))
{
    gf_db_t *db = gridctl_db_new (config);
    PGresult *res = gf_db_connect (db, 10000) == 0 ? gf_db_exec (db, sql, n, params) : NULL;
    int rc = res ? 0 : 1;
    if (res)
        print (res);
    else
        fprintf (stderr, "error: unavailable: cannot read the database\n");
    if (res)
        PQclear (res);
    gf_db_destroy (&db);
    return rc;
}

/*  One CSV field from *p (RFC 4180 quotes), advanced past its separator;
 *eol set at the end of a record.  Caller frees. */
static char *s_csv_field (const char **p, bool *eol)
{
    const char *c = *p;
    char *out = malloc (strlen (c) + 1);
    size_t n = 0;
    if (*c == '"') {
        for (c++; *c && !(*c == '"' && c[1] != '"'); c++) {
            if (*c == '"')
                c++;
            out[n++] = *c;
        }
        if (*c == '"')
            c++;
    }
    while (*c && *c != ',' && *c != '\n' && *c != '\r')
        out[n++] = *c++;
    out[n] = 0;
    *eol = *c != ',';
    if (*c == ',')
        c++;
    else
        while (*c == '\r' || *c == '\n')
            c++;
    *p = c;
    return out;
}

/*  A register as CSV (gen_households.py --csv: id, grid, address,
    head_name, phone, groups with ';' between group codes) as the JSON the
    import reads; members are not in a CSV file (kept as they are).  NULL
    when the header is not that. */
static char *s_csv_to_json (const char *text)
{
    const char *cols[] = {"id", "grid", "address", "head_name", "phone", "groups"};
    const size_t ncols = sizeof cols / sizeof cols[0];
    const char *p = text;
    bool eol = false;
    for (size_t i = 0; i < ncols; i++) {
        char *f = s_csv_field (&p, &eol);
        bool same = streq (f, cols[i]) && eol == (i == ncols - 1);
        free (f);
        if (!same)
            return NULL;
    }
    json_t *list = json_array ();
    while (*p) {
        json_t *h = json_object ();
        for (size_t i = 0; i < ncols; i++) {
            char *f = s_csv_field (&p, &eol);
            if (i == ncols - 1) {
                json_t *groups = json_array ();
                for (char *g = strtok (f, ";"); g; g = strtok (NULL, ";"))
                    json_array_append_new (groups, json_pack ("{s:s}", "group", g));
                json_object_set_new (h, "groups", groups);
            } else if (*f || i < 4)
                json_object_set_new (h, cols[i], json_string (f));
            free (f);
            if (eol && i < ncols - 1)
                break;
        }
        json_array_append_new (list, h);
    }
    json_t *root = json_pack ("{s:o}", "households", list);
    char *out = json_dumps (root, JSON_COMPACT);
    json_decref (root);
    return out;
}

int gridctl_household_import (gf_config_t *config, int argc, char **argv)
{
    if (argc != 1) {
        fprintf (stderr, "usage: gridctl household import FILE (JSON {\"households\": [...]}, "
                         "or .csv: id,grid,address,head_name,phone,groups)\n");
        return 2;
    }
    char *json = gridctl_read_file (argv[0], NULL);
    if (!json) {
        fprintf (stderr, "error: cannot read %s: %s\n", argv[0], strerror (errno));
        return 1;
    }
    size_t len = strlen (argv[0]);
    if (len > 4 && streq (argv[0] + len - 4, ".csv")) {
        char *converted = s_csv_to_json (json);
        free (json);
        if (!converted) {
            fprintf (stderr,
                     "error: %s: the header must be id,grid,address,head_name,phone,groups\n",
                     argv[0]);
            return 1;
        }
        json = converted;
    }
    const char *user = getenv ("GF_ACTOR") ? getenv ("GF_ACTOR") : getenv ("USER");
    char *actor = zsys_sprintf ("gridctl:%s", user ? user : "operator");
    gf_db_t *db = gridctl_db_new (config);
    const char *params[] = {json, actor};
    PGresult *res = gf_db_connect (db, 10000) == 0 && gf_db_begin (db) == 0
                        ? gf_db_exec (db, SQL_IMPORT, 2, params)
                        : NULL;
    int rc = 1;
    if (res && gf_db_commit (db) == 0) {
        printf ("imported: %s created, %s updated, %s memberships added, %s ended\n",
                V (res, 0, "created"), V (res, 0, "updated"), V (res, 0, "groups_added"),
                V (res, 0, "groups_ended"));
        rc = 0;
    } else {
        gf_db_rollback (db);
        fprintf (stderr, "error: import failed, nothing changed (see the message above)\n");
    }
    if (res)
        PQclear (res);
    gf_db_destroy (&db);
    free (actor);
    free (json);
    return rc;
}

int gridctl_household_show (gf_config_t *config, int argc, char **argv)
{
    if (argc != 1) {
        fprintf (stderr, "usage: gridctl household show ID\n");
        return 2;
    }
    gf_db_t *db = gridctl_db_new (config);
    const char *params[] = {argv[0]};
    PGresult *h = gf_db_connect (db, 10000) == 0 ? gf_db_exec (db, SQL_SHOW, 1, params) : NULL;
    PGresult *g = h ? gf_db_exec (db, SQL_GROUPS, 1, params) : NULL;
    int rc = 1;
    if (!h || !g)
        fprintf (stderr, "error: unavailable: cannot read the register\n");
    else if (PQntuples (h) == 0)
        fprintf (stderr, "error: unknown_household: no household %s\n", argv[0]);
    else {
        printf ("户 household %s   网格 grid %s   version %s\n", V (h, 0, "id"), V (h, 0, "grid"),
                V (h, 0, "version"));
        printf ("  地址 address  %s\n  户主 head     %s   电话 phone %s\n  成员 members  %s\n",
                V (h, 0, "address"), V (h, 0, "head_name"), V (h, 0, "phone"), V (h, 0, "members"));
        printf ("  走访 visits   period %s   next due %s\n", V (h, 0, "period"), V (h, 0, "due"));
        printf ("  重点人群 groups (%d)\n", PQntuples (g));
        for (int r = 0; r < PQntuples (g); r++)
            printf ("    %-12s %-14s %s .. %-10s %s\n", V (g, r, "grp"), V (g, r, "name"),
                    V (g, r, "valid_from"), V (g, r, "valid_to"), V (g, r, "source"));
        rc = 0;
    }
    if (h)
        PQclear (h);
    if (g)
        PQclear (g);
    gf_db_destroy (&db);
    return rc;
}

static void s_print_history (PGresult *res)
{
    for (int r = 0; r < PQntuples (res); r++)
        printf ("%s  %-12s %-12s v%-4s %s\n", V (res, r, "at"), V (res, r, "change"),
                V (res, r, "grp"), V (res, r, "version"), V (res, r, "actor"));
}

static void s_print_groups (PGresult *res)
{
    printf ("memberships:\n");
    for (int r = 0; r < PQntuples (res); r++)
        printf ("  %-12s %s .. %-10s %s\n", V (res, r, "grp"), V (res, r, "valid_from"),
                V (res, r, "valid_to"), V (res, r, "source"));
}

int gridctl_household_history (gf_config_t *config, int argc, char **argv)
{
    if (argc != 1) {
        fprintf (stderr, "usage: gridctl household history ID\n");
        return 2;
    }
    const char *params[] = {argv[0]};
    return s_read (config, SQL_HISTORY, 1, params, s_print_history) ||
           s_read (config, SQL_GROUPS, 1, params, s_print_groups);
}

static void s_print_due (PGresult *res)
{
    for (int r = 0; r < PQntuples (res); r++)
        printf ("%-16s %-12s %-22s %-8s last %-10s due %s%s\n", V (res, r, "household"),
                V (res, r, "grid"), V (res, r, "groups"), V (res, r, "period"),
                V (res, r, "last_visit"), V (res, r, "due"),
                streq (V (res, r, "overdue"), "t") ? " OVERDUE" : "");
}

int gridctl_household_due (gf_config_t *config, int argc, char **argv)
{
    if (argc != 1) {
        fprintf (stderr, "usage: gridctl household due GRID\n");
        return 2;
    }
    const char *params[] = {argv[0]};
    return s_read (config, SQL_DUE, 1, params, s_print_due);
}

/*  household register|group ID --actor PERSON [...]: through the intake. */
int gridctl_household_act (gf_config_t *config, const char *what, int argc, char **argv)
{
    if (argc < 1 || *argv[0] == '-') {
        fprintf (stderr, "usage: gridctl household %s ID --actor PERSON [options]\n", what);
        return 2;
    }
    gf_household_msg_t h = {.household = argv[0]};
    h.type =
        (char *)(streq (what, "register") ? GF_TYPE_HOUSEHOLD_REGISTER : GF_TYPE_HOUSEHOLD_GROUP);
    char *request_id = NULL, *add = NULL, *end = NULL;
    const char *keys[] = {"--actor", "--grid",    "--address", "--head-name",
                          "--phone", "--members", "--add",     "--end",
                          "--from",  "--to",      "--source",  "--request-id"};
    char **fields[] = {&h.actor, &h.grid, &h.address, &h.head_name, &h.phone,  &h.members,
                       &add,     &end,    &h.from,    &h.to,        &h.source, &request_id};
    for (int i = 1; i < argc; i++) {
        bool known = false;
        for (size_t k = 0; !known && k < sizeof keys / sizeof keys[0]; k++)
            if (streq (argv[i], keys[k]) && i + 1 < argc) {
                *fields[k] = argv[++i];
                known = true;
            }
        if (!known && i + 1 < argc && streq (argv[i], "--version"))
            known = (h.version = strtoll (argv[++i], NULL, 10)) > 0;
        if (!known) {
            fprintf (stderr, "error: bad argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!h.actor) {
        fprintf (stderr, "error: --actor PERSON is required\n");
        return 2;
    }
    if (add || end) {
        h.op = (char *)(add ? "add" : "end");
        h.group = add ? add : end;
    }
    char id[64];
    gridctl_request_id (id, sizeof id);
    h.id = request_id ? request_id : id;
    h.at = gf_clock_now_ms ();

    zframe_t *body = gf_household_msg_encode (&h);
    gf_reply_t reply = {0};
    if (gridctl_request (config, &body, h.id, &reply, 5000) != 0)
        return 1;
    int rc = 0;
    if (reply.ok)
        printf ("household %s %s: ok (%s, version %" PRId64 ")%s\n", h.household, what,
                reply.state ? reply.state : "-", reply.version,
                reply.duplicate ? " [already done]" : "");
    else {
        fprintf (stderr, "error: %s: %s\n", gf_code_name (reply.code),
                 reply.message ? reply.message : "");
        rc = 1;
    }
    gf_reply_reset (&reply);
    return rc;
}

static void s_print_people (PGresult *res)
{
    for (int r = 0; r < PQntuples (res); r++)
        printf ("%-14s %-8s %-12s %-13s %-12s %-10s %s .. %s\n", V (res, r, "person"),
                V (res, r, "name"), V (res, r, "grid"), V (res, r, "role"), V (res, r, "team"),
                V (res, r, "home_unit"), V (res, r, "valid_from"), V (res, r, "valid_to"));
}

int gridctl_people (gf_config_t *config, int argc, char **argv)
{
    const char *a = argc > 0 ? argv[0] : "";
    if (streq (a, "history") && argc == 2 && *argv[1] != '-') {
        const char *params[] = {argv[1], NULL};
        return s_read (config, SQL_PEOPLE_HISTORY, 2, params, s_print_people);
    }
    if (streq (a, "history") && argc == 3 && streq (argv[1], "--grid")) {
        const char *params[] = {NULL, argv[2]};
        return s_read (config, SQL_PEOPLE_HISTORY, 2, params, s_print_people);
    }
    if (streq (a, "edit") && argc == 4 && streq (argv[2], "--roles")) {
        gf_db_t *db = gridctl_db_new (config);
        const char *params[] = {argv[1], argv[3]};
        PGresult *res = gf_db_connect (db, 10000) == 0 && gf_db_begin (db) == 0
                            ? gf_db_exec (db, SQL_PEOPLE_EDIT, 2, params)
                            : NULL;
        int rc = 1;
        if (res && PQntuples (res) == 0)
            fprintf (stderr, "error: unknown_actor: no person %s\n", argv[1]);
        else if (res && gf_db_commit (db) == 0) {
            printf ("person %s: %s role rows closed or opened\n", argv[1], V (res, 0, "changed"));
            rc = 0;
        } else
            fprintf (stderr, "error: edit failed, nothing changed (see the message above)\n");
        if (rc)
            gf_db_rollback (db);
        if (res)
            PQclear (res);
        gf_db_destroy (&db);
        return rc;
    }
    fprintf (stderr, "usage: gridctl people history PERSON | people history --grid GRID |"
                     " people edit PERSON --roles JSON\n");
    return 2;
}
