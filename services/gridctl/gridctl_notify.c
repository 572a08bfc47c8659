/*  gridctl notify — the delivery outbox for operators: dead letters,
    re-driving them, delivery counts, staff app tokens. */
#include "gridctl.h"
#include "gf_db.h"

static const char *SQL_DEAD =
    "SELECT d.id, d.channel,"
    "       CASE d.channel WHEN 'sms' THEN gf_mask_phone (d.address) ELSE d.address END AS address,"
    "       coalesce (n.case_id::text, '-') AS case_id, n.kind, d.attempts, coalesce "
    "(d.last_error, '') AS last_error,"
    "       to_char (d.created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS created,"
    "       count (*) OVER () AS total"
    "  FROM deliveries d JOIN notifications n ON n.id = d.notification"
    " WHERE d.state = 'dead' ORDER BY d.id LIMIT $1::int";

/*  $1 ids as a JSON array, or NULL for every dead letter. */
static const char *SQL_REDRIVE =
    "WITH r AS ("
    "  UPDATE deliveries SET state = 'pending', attempts = 0, next_at = now (),"
    "         last_error = 'redriven after: ' || coalesce (last_error, '')"
    "   WHERE state = 'dead' AND ($1::jsonb IS NULL OR id IN ("
    "           SELECT (jsonb_array_elements_text ($1::jsonb))::bigint))"
    "  RETURNING id"
    ")"
    "SELECT count (*) AS redriven, pg_notify ('gf_deliveries', '') FROM r";

static const char *SQL_STATS =
    "SELECT p.channel, count (d.id) FILTER (WHERE d.state = 'pending') AS pending,"
    "       count (d.id) FILTER (WHERE d.state = 'pending' AND d.not_before > gf_now ()) AS quiet,"
    "       count (d.id) FILTER (WHERE d.state = 'sent') AS sent,"
    "       count (d.id) FILTER (WHERE d.state = 'acked') AS acked,"
    "       count (d.id) FILTER (WHERE d.state = 'dead') AS dead"
    "  FROM delivery_policy p LEFT JOIN deliveries d ON d.channel = p.channel"
    " GROUP BY p.channel ORDER BY p.channel";

static const char *SQL_TOKEN =
    "INSERT INTO app_tokens (person, token_sha256)"
    " SELECT id, sha256 (convert_to ($2, 'UTF8')) FROM people WHERE id = $1"
    " ON CONFLICT (person) DO UPDATE SET token_sha256 = excluded.token_sha256, issued_at = now ()"
    " RETURNING person";

gf_db_t *gridctl_connect (gf_config_t *config)
{
    gf_db_t *db = gridctl_db_new (config);
    if (db && gf_db_connect (db, 10000) != 0) {
        fprintf (stderr, "error: unavailable: cannot connect to the database\n");
        gf_db_destroy (&db);
    }
    return db;
}

static bool s_id (const char *text)
{
    char *end = NULL;
    long long v = strtoll (text, &end, 10);
    return *text && end && !*end && v > 0 && strlen (text) < 19;
}

static int s_dead (gf_db_t *db, int argc, char **argv)
{
    const char *limit = "100";
    if (argc == 2 && streq (argv[0], "--limit") && s_id (argv[1]))
        limit = argv[1];
    else if (argc != 0) {
        fprintf (stderr, "usage: gridctl notify dead [--limit N]\n");
        return 2;
    }
    const char *params[] = {limit};
    PGresult *res = gf_db_exec (db, SQL_DEAD, 1, params);
    if (!res)
        return 1;
    printf ("%-8s %-6s %-24s %-8s %-22s %-8s %-16s %s\n", "id", "chan", "address", "case", "kind",
            "attempts", "created", "last error");
    for (int r = 0; r < PQntuples (res); r++)
        printf ("%-8s %-6s %-24s %-8s %-22s %-8s %-16s %s\n", gf_db_get (res, r, "id"),
                gf_db_get (res, r, "channel"), gf_db_get (res, r, "address"),
                gf_db_get (res, r, "case_id"), gf_db_get (res, r, "kind"),
                gf_db_get (res, r, "attempts"), gf_db_get (res, r, "created"),
                gf_db_get (res, r, "last_error"));
    int shown = PQntuples (res);
    long long total = shown ? gf_db_get_ll (res, 0, "total") : 0;
    if (total > shown)
        printf ("(%d of %lld dead letters shown, the oldest; --limit N shows more; "
                "gridctl notify redrive ID... | --all)\n",
                shown, total);
    else
        printf ("(%d dead letters; gridctl notify redrive ID... | --all)\n", shown);
    PQclear (res);
    return 0;
}

static int s_redrive (gf_db_t *db, int argc, char **argv)
{
    bool all = argc == 1 && streq (argv[0], "--all");
    zlist_t *ids = zlist_new ();
    for (int i = 0; i < argc && !all; i++)
        if (s_id (argv[i]))
            zlist_append (ids, argv[i]);
    if (!all && (argc == 0 || (int)zlist_size (ids) != argc)) {
        fprintf (stderr, "usage: gridctl notify redrive ID... | --all\n");
        zlist_destroy (&ids);
        return 2;
    }
    char *list = NULL;
    if (!all) {
        list = strdup ("[");
        for (char *id = (char *)zlist_first (ids); id; id = (char *)zlist_next (ids)) {
            char *more = zsys_sprintf ("%s%s%s", list, streq (list, "[") ? "" : ",", id);
            free (list);
            list = more;
        }
        char *closed = zsys_sprintf ("%s]", list);
        free (list);
        list = closed;
    }
    zlist_destroy (&ids);
    const char *params[] = {list};
    PGresult *res = gf_db_exec (db, SQL_REDRIVE, 1, params);
    free (list);
    if (!res)
        return 1;
    printf ("redriven %s\n", gf_db_get (res, 0, "redriven"));
    PQclear (res);
    return 0;
}

static int s_stats (gf_db_t *db)
{
    PGresult *res = gf_db_exec (db, SQL_STATS, 0, NULL);
    if (!res)
        return 1;
    printf ("%-6s %8s %8s %8s %8s %8s\n", "chan", "pending", "(quiet)", "sent", "acked", "dead");
    for (int r = 0; r < PQntuples (res); r++)
        printf ("%-6s %8s %8s %8s %8s %8s\n", gf_db_get (res, r, "channel"),
                gf_db_get (res, r, "pending"), gf_db_get (res, r, "quiet"),
                gf_db_get (res, r, "sent"), gf_db_get (res, r, "acked"),
                gf_db_get (res, r, "dead"));
    PQclear (res);
    return 0;
}

/*  A new app token for a person: printed once, stored as its SHA-256. */
static int s_token (gf_db_t *db, int argc, char **argv)
{
    if (argc != 1 || strlen (argv[0]) > 64) {
        fprintf (stderr, "usage: gridctl notify token PERSON\n");
        return 2;
    }
    byte raw[24];
    FILE *random = fopen ("/dev/urandom", "rb");
    bool ok = random && fread (raw, 1, sizeof raw, random) == sizeof raw;
    if (random)
        fclose (random);
    if (!ok) {
        fprintf (stderr, "error: cannot read /dev/urandom\n");
        return 1;
    }
    char token[2 * sizeof raw + 1];
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf (token + 2 * i, 3, "%02x", raw[i]);
    const char *params[] = {argv[0], token};
    PGresult *res = gf_db_exec (db, SQL_TOKEN, 2, params);
    if (!res)
        return 1;
    int rc = PQntuples (res) == 1 ? 0 : 1;
    if (rc == 0)
        printf ("%s\n", token);
    else
        fprintf (stderr, "error: not_found: no person %s in the directory\n", argv[0]);
    PQclear (res);
    return rc;
}

int gridctl_notify (gf_config_t *config, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    if (!streq (sub, "dead") && !streq (sub, "redrive") && !streq (sub, "stats") &&
        !streq (sub, "token")) {
        fprintf (stderr, "usage: gridctl notify dead|redrive|stats|token ...\n");
        return 2;
    }
    gf_db_t *db = gridctl_connect (config);
    if (!db)
        return 1;
    int rc = streq (sub, "dead")      ? s_dead (db, argc - 1, argv + 1)
             : streq (sub, "redrive") ? s_redrive (db, argc - 1, argv + 1)
             : streq (sub, "token")   ? s_token (db, argc - 1, argv + 1)
                                      : s_stats (db);
    gf_db_destroy (&db);
    return rc;
}
