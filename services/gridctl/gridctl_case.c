/*  gridctl submit, case show. */
#include "gridctl.h"
#include "gf_client.h"
#include "gf_clock.h"
#include "gf_db.h"
#include "gf_proto.h"

int gridctl_submit (gf_config_t *config, int argc, char **argv)
{
    gf_complaint_t c = {0};
    const char *keys[] = {"--source",  "--ref",      "--text", "--grid",
                          "--address", "--category", "--name", "--phone"};
    char **fields[] = {&c.source,  &c.source_ref, &c.description, &c.grid,
                       &c.address, &c.category,   &c.name,        &c.phone};
    for (int i = 0; i < argc; i++) {
        bool known = false;
        if (streq (argv[i], "--urgent"))
            c.urgent = known = true;
        for (size_t k = 0; !known && k < sizeof keys / sizeof keys[0]; k++)
            if (streq (argv[i], keys[k]) && i + 1 < argc) {
                *fields[k] = argv[++i];
                known = true;
            }
        if (!known) {
            fprintf (stderr, "error: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!c.source || !c.source_ref || !c.description) {
        fprintf (stderr, "usage: gridctl submit --source S --ref R --text T [...]\n");
        return 2;
    }
    char id[64];
    snprintf (id, sizeof id, "gridctl-%d-%" PRId64, getpid (), zclock_usecs ());
    c.id = id;
    c.at = gf_clock_now_ms ();
    gf_client_t *client = gf_client_new (config->intake);
    gf_reply_t reply = {0};
    int rc = 1;
    if (client && gf_client_submit (client, &c, &reply, 5000, 3) == 0) {
        if (reply.ok) {
            printf ("case %" PRId64 " %s\n", reply.case_id,
                    reply.duplicate ? "(duplicate: already registered)" : "registered");
            rc = 0;
        } else
            fprintf (stderr, "error: %s: %s\n", gf_code_name (reply.code),
                     reply.message ? reply.message : "");
    } else
        fprintf (stderr, "error: no reply from the intake at %s\n", config->intake);
    gf_reply_reset (&reply);
    gf_client_destroy (&client);
    return rc;
}

static const char *SQL_CASE = "SELECT c.*, g.name AS grid_name, cat.name AS category_name,"
                              "       to_char (c.received_at AT TIME ZONE 'Asia/Shanghai', "
                              "'YYYY-MM-DD HH24:MI:SS') AS received,"
                              "       to_char (c.reported_at AT TIME ZONE 'Asia/Shanghai', "
                              "'YYYY-MM-DD HH24:MI:SS') AS reported"
                              "  FROM cases c JOIN grids g ON g.code = c.grid"
                              "  LEFT JOIN categories cat ON cat.code = c.category WHERE c.id = $1";
static const char *SQL_TIMELINE =
    "SELECT seq, type, topic,"
    "       to_char (at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS') AS at,"
    "       payload::text AS payload"
    "  FROM case_events WHERE case_id = $1 ORDER BY id";

int gridctl_case_show (gf_config_t *config, int argc, char **argv)
{
    char *end = NULL;
    if (argc != 1 || strtoll (argv[0], &end, 10) <= 0 || *end) {
        fprintf (stderr, "usage: gridctl case show ID\n");
        return 2;
    }
    gf_db_t *db = gf_db_new (config->db, "gridctl");
    const char *params[] = {argv[0]};
    PGresult *c = gf_db_connect (db, 10000) == 0 ? gf_db_exec (db, SQL_CASE, 1, params) : NULL;
    int rc = 1;
    if (!c)
        fprintf (stderr, "error: cannot read the database\n");
    else if (PQntuples (c) == 0)
        fprintf (stderr, "error: no case %s\n", argv[0]);
    else {
#define F(col) (gf_db_get (c, 0, col) ? gf_db_get (c, 0, col) : "-")
        printf ("案件 case %s\n", F ("id"));
        printf ("  状态 state      %s   层级 level L%s   台账 tier %s%s\n", F ("state"),
                F ("level"), F ("tier"), streq (F ("urgent"), "t") ? "   紧急 URGENT" : "");
        printf ("  网格 grid       %s %s\n", F ("grid"), F ("grid_name"));
        printf ("  类别 category   %s %s\n", F ("category"), F ("category_name"));
        printf ("  来源 source     %s %s\n", F ("source"), F ("source_ref"));
        printf ("  反映 reported   %s   登记 received %s\n", F ("reported"), F ("received"));
        printf ("  地址 address    %s\n", F ("address"));
        printf ("  内容 text       %s\n", F ("description"));
#undef F
        PGresult *t = gf_db_exec (db, SQL_TIMELINE, 1, params);
        if (t) {
            printf ("  时间线 timeline\n");
            for (int r = 0; r < PQntuples (t); r++) {
                const char *seq = gf_db_get (t, r, "seq");
                printf ("    %s  seq %-8s %-22s %s\n", gf_db_get (t, r, "at"),
                        seq ? seq : "(pending)", gf_db_get (t, r, "type"),
                        gf_db_get (t, r, "payload"));
            }
            PQclear (t);
            rc = 0;
        }
    }
    if (c)
        PQclear (c);
    gf_db_destroy (&db);
    return rc;
}
