/*  gridctl link|thing|pair|relief|rating|campaign|helper VERB: the
    programmes of grid work through the intake (programme.action, issue
    15; programmes.sql), and what reads them: link list, rating show,
    campaign show, programmes (the dashboard's figures). */
#include "gridctl.h"
#include "gf_client.h"
#include "gf_clock.h"
#include "gf_proto.h"

/*  (command, verb) -> programme.action's action. */
static const char *s_actions[][3] = {
    {"link", "open", "link.open"},         {"link", "close", "link.close"},
    {"thing", "done", "thing.done"},       {"pair", "open", "pair.open"},
    {"pair", "review", "pair.review"},     {"pair", "close", "pair.close"},
    {"relief", "record", "relief.record"}, {"rating", "open", "rating.open"},
    {"rating", "score", "rating.score"},   {"rating", "publish", "rating.publish"},
    {"campaign", "open", "campaign.open"}, {"campaign", "target", "campaign.target"},
    {"campaign", "item", "campaign.item"}, {"helper", "assign", "case.helper"}};

const char *gridctl_programme_action (const char *command, const char *verb)
{
    for (size_t i = 0; i < sizeof s_actions / sizeof s_actions[0]; i++)
        if (streq (s_actions[i][0], command) && streq (s_actions[i][1], verb))
            return s_actions[i][2];
    return NULL;
}

int gridctl_programme_act (gf_config_t *config, const char *action, int argc, char **argv)
{
    gf_programme_action_t a = {.score = -1};
    a.action = (char *)action;
    char **strs[GF_PROGRAMME_STR_KEYS];
    int64_t *ints[GF_PROGRAMME_INT_KEYS];
    gf_programme_action_fields (&a, strs, ints);
    char *request_id = NULL;
    for (int i = 0; i < argc; i++) {
        bool known = false;
        const char *key = strncmp (argv[i], "--", 2) == 0 ? argv[i] + 2 : "";
        if (i + 1 < argc && streq (key, "actor")) {
            a.actor = argv[++i];
            known = true;
        } else if (i + 1 < argc && streq (key, "request-id")) {
            request_id = argv[++i];
            known = true;
        }
        for (size_t k = 0; !known && i + 1 < argc && k < GF_PROGRAMME_STR_KEYS; k++)
            if (streq (key, gf_programme_str_keys[k])) {
                *strs[k] = argv[++i];
                known = true;
            }
        for (size_t k = 0; !known && i + 1 < argc && k < GF_PROGRAMME_INT_KEYS; k++)
            if (streq (key, gf_programme_int_keys[k])) {
                char *end = NULL;
                *ints[k] = strtoll (argv[++i], &end, 10);
                known = *argv[i] && !*end;
            }
        if (!known) {
            fprintf (stderr, "error: bad argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!a.actor) {
        fprintf (stderr, "error: --actor PERSON is required\n");
        return 2;
    }
    char id[64];
    gridctl_request_id (id, sizeof id);
    a.id = request_id ? request_id : id;
    a.at = gf_clock_now_ms ();

    zframe_t *body = gf_programme_action_encode (&a);
    gf_reply_t reply = {0};
    if (gridctl_request (config, &body, a.id, &reply, 5000) != 0)
        return 1;
    int rc = 0;
    if (reply.ok)
        printf ("%s: ok %s%s\n", action, reply.state ? reply.state : "-",
                reply.duplicate ? " [already done]" : "");
    else {
        fprintf (stderr, "error: %s: %s\n", gf_code_name (reply.code),
                 reply.message ? reply.message : "");
        rc = 1;
    }
    gf_reply_reset (&reply);
    return rc;
}

static const char *SQL_LINKS = "SELECT * FROM gf_link_counts ($1)";
static const char *SQL_RATING = "SELECT * FROM gf_rating_results ($1)";
static const char *SQL_RATING_PUBLIC = "SELECT gf_rating_public_json ()";
static const char *SQL_CAMPAIGNS = "SELECT gf_campaign_progress_json ($1)";
static const char *SQL_DASH = "SELECT gf_dash_programmes (NULL)";

/*  Prints a query's rows, tab-separated with a header (empty: NULL). */
static int s_print (gf_config_t *config, const char *sql, int nparams, const char **params,
                    bool header)
{
    gf_db_t *db = gridctl_db_new (config);
    PGresult *res = gf_db_connect (db, 10000) == 0 ? gf_db_exec (db, sql, nparams, params) : NULL;
    int rc = 1;
    if (res) {
        for (int c = 0; header && c < PQnfields (res); c++)
            printf ("%s%s", c ? "\t" : "", PQfname (res, c));
        if (header)
            printf ("\n");
        for (int r = 0; r < PQntuples (res); r++)
            for (int c = 0; c < PQnfields (res); c++)
                printf ("%s%s", PQgetvalue (res, r, c), c + 1 < PQnfields (res) ? "\t" : "\n");
        PQclear (res);
        rc = 0;
    } else
        fprintf (stderr, "error: unavailable: cannot read the database\n");
    gf_db_destroy (&db);
    return rc;
}

static const char *s_opt (int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (streq (argv[i], name))
            return argv[i + 1];
    return NULL;
}

int gridctl_programme_show (gf_config_t *config, const char *command, int argc, char **argv)
{
    const char *grid = s_opt (argc, argv, "--grid");
    if (streq (command, "link")) {
        const char *params[] = {grid ? grid : ""};
        if (!grid) {
            fprintf (stderr, "usage: gridctl link list --grid GRID\n");
            return 2;
        }
        return s_print (config, SQL_LINKS, 1, params, true);
    }
    if (streq (command, "rating") && argc >= 1 && streq (argv[0], "public"))
        return s_print (config, SQL_RATING_PUBLIC, 0, NULL, false);
    if (streq (command, "rating")) {
        char *end = NULL;
        if (argc < 1 || strtoll (argv[0], &end, 10) <= 0 || *end) {
            fprintf (stderr, "usage: gridctl rating show ROUND | rating public\n");
            return 2;
        }
        const char *params[] = {argv[0]};
        return s_print (config, SQL_RATING, 1, params, true);
    }
    if (streq (command, "campaign")) {
        const char *params[] = {grid};
        return s_print (config, SQL_CAMPAIGNS, 1, params, false);
    }
    return s_print (config, SQL_DASH, 0, NULL, false);
}
