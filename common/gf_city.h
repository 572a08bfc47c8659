/*  gf_city — what a city reads of its districts (issue 18, city.sql,
    deploy/city.sh).  The city cluster holds one replica database per
    district (fed by logical replication); each gives its state and its own
    monthly report rows as one JSON object (gf_city_state,
    gf_city_district_report), and the city database adds them up
    (gf_city_freshness, gf_city_report_sum).  Read by `gridctl city` and by
    the gateway's city dashboard (/api/city.json).
*/
#ifndef GF_CITY_H_INCLUDED
#define GF_CITY_H_INCLUDED

#include <libpq-fe.h>
#include <stdbool.h>

/*  The districts (the rows of `SELECT district, dbname FROM
    gf_city_districts ()` on the city database), each read in its replica,
    reached with conninfo and its dbname: their state alone (month NULL) or
    with their report rows for month (YYYY-MM).  Returns the objects as one
    JSON array (free with zstr_free), or NULL with *error set (English, free
    with zstr_free): a bad replica name, or a district that cannot be read. */
char *gf_city_collect (const char *conninfo, PGresult *districts, const char *month,
                       const char *app, char **error);

/*  A month as the report takes it: YYYY-MM. */
bool gf_city_month_ok (const char *text);

#endif
