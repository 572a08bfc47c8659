/*  gf_city — the districts' report objects of a city: gf_city.h. */
#include "gf_city.h"
#include "gf_db.h"
#include <czmq.h>

static const char *SQL_STATE = "SELECT to_jsonb (s) FROM gf_city_state () s";
static const char *SQL_DISTRICT_REPORT = "SELECT gf_city_district_report ($1, NULL)";

/*  A replica's name goes into a conninfo: lower case letters, digits and _
    only (deploy/city.sh makes gridflow_<name>). */
static bool s_dbname_ok (const char *name)
{
    if (!*name || strlen (name) > 63)
        return false;
    for (const char *c = name; *c; c++)
        if (!(islower ((unsigned char)*c) || isdigit ((unsigned char)*c) || *c == '_'))
            return false;
    return true;
}

/*  One district's object, or NULL. */
static char *s_district (const char *conninfo, const char *dbname, const char *month,
                         const char *app)
{
    char *replica = zsys_sprintf ("%s dbname=%s", conninfo, dbname);
    gf_db_t *db = gf_db_new (replica, app);
    zstr_free (&replica);
    PGresult *res = NULL;
    if (db && gf_db_connect (db, 10000) == 0) {
        const char *params[] = {month};
        res = month ? gf_db_exec (db, SQL_DISTRICT_REPORT, 1, params)
                    : gf_db_exec (db, SQL_STATE, 0, NULL);
    }
    char *object = res && PQntuples (res) == 1 && !PQgetisnull (res, 0, 0)
                       ? strdup (PQgetvalue (res, 0, 0))
                       : NULL;
    if (res)
        PQclear (res);
    gf_db_destroy (&db);
    return object;
}

char *gf_city_collect (const char *conninfo, PGresult *districts, const char *month,
                       const char *app, char **error)
{
    char *array = strdup ("[");
    *error = NULL;
    for (int r = 0; r < PQntuples (districts) && !*error; r++) {
        const char *dbname = gf_db_get (districts, r, "dbname");
        char *object = s_dbname_ok (dbname) ? s_district (conninfo, dbname, month, app) : NULL;
        if (!s_dbname_ok (dbname))
            *error = zsys_sprintf ("bad replica database name '%s'", dbname);
        else if (!object)
            *error = zsys_sprintf ("cannot read district %s (database %s)",
                                   gf_db_get (districts, r, "district"), dbname);
        else {
            char *longer = zsys_sprintf ("%s%s%s", array, r ? "," : "", object);
            zstr_free (&array);
            array = longer;
        }
        zstr_free (&object);
    }
    if (*error) {
        zstr_free (&array);
        return NULL;
    }
    char *closed = zsys_sprintf ("%s]", array);
    zstr_free (&array);
    return closed;
}

bool gf_city_month_ok (const char *text)
{
    return text && strlen (text) == 7 && isdigit ((unsigned char)text[0]) &&
           isdigit ((unsigned char)text[1]) && isdigit ((unsigned char)text[2]) &&
           isdigit ((unsigned char)text[3]) && text[4] == '-' && isdigit ((unsigned char)text[5]) &&
           isdigit ((unsigned char)text[6]) && atoi (text + 5) >= 1 && atoi (text + 5) <= 12;
}
