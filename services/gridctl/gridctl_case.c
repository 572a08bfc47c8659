/*  gridctl submit, case show. */
#include "gridctl.h"
#include "gf_client.h"
#include "gf_clock.h"
#include "gf_db.h"
#include "gf_proto.h"

int gridctl_submit (gf_config_t *config, int argc, char **argv)
{
    gf_complaint_t c = {0};
    const char *keys[] = {"--source",   "--ref",       "--text",  "--grid",
                          "--address",  "--category",  "--name",  "--phone",
                          "--reporter", "--household", "--groups"};
    char **fields[] = {&c.source,   &c.source_ref, &c.description, &c.grid,
                       &c.address,  &c.category,   &c.name,        &c.phone,
                       &c.reporter, &c.household,  &c.groups};
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
    gridctl_request_id (id, sizeof id);
    c.id = id;
    c.at = gf_clock_now_ms ();
    gf_client_t *client = gf_client_new_secure (config->intake, config->cert, config->server_cert);
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
                              "       rr.name AS rejected_name,"
                              "       to_char (c.received_at AT TIME ZONE 'Asia/Shanghai', "
                              "'YYYY-MM-DD HH24:MI:SS') AS received,"
                              "       to_char (c.reported_at AT TIME ZONE 'Asia/Shanghai', "
                              "'YYYY-MM-DD HH24:MI:SS') AS reported"
                              "  FROM cases c JOIN grids g ON g.code = c.grid"
                              "  LEFT JOIN categories cat ON cat.code = c.category"
                              "  LEFT JOIN reject_reasons rr ON rr.code = c.rejected_reason"
                              " WHERE c.id = $1";
static const char *SQL_TIMELINE = "SELECT * FROM gf_case_timeline ($1)";
static const char *SQL_REFERRALS = "SELECT * FROM gf_referral_list ($1)";
static const char *SQL_ATTACHMENTS = "SELECT * FROM gf_attachment_list ($1)";

/*  Evidence: each attachment without its bytes. */
static void s_show_attachments (gf_db_t *db, const char *const *params)
{
    PGresult *r = gf_db_exec (db, SQL_ATTACHMENTS, 1, params);
    for (int i = 0; r && i < PQntuples (r); i++) {
        if (i == 0)
            printf ("  附件 attachments\n");
        printf ("    #%s %s  %s  %s bytes  sha256 %s  %s  %s %s%s%s\n", gf_db_get (r, i, "id"),
                gf_db_get (r, i, "filename"), gf_db_get (r, i, "content_type"),
                gf_db_get (r, i, "size"), gf_db_get (r, i, "sha256"),
                streq (gf_db_get (r, i, "public"), "t") ? "公开 public" : "内部 staff only",
                gf_db_get (r, i, "actor"), gf_db_get (r, i, "at"),
                gf_db_get (r, i, "action") ? "  for " : "",
                gf_db_get (r, i, "action") ? gf_db_get (r, i, "action") : "");
    }
    if (r)
        PQclear (r);
}

/*  代访: each referral's report, receipt, deadline and reply. */
static void s_show_referrals (gf_db_t *db, const char *const *params)
{
    PGresult *r = gf_db_exec (db, SQL_REFERRALS, 1, params);
    for (int i = 0; r && i < PQntuples (r); i++) {
#define R(col) (gf_db_get (r, i, col) ? gf_db_get (r, i, col) : "-")
        if (i == 0)
            printf ("  代访 referrals\n");
        printf ("    #%s 转办至 %s %s   由 %s 于 %s   期限 deadline %s\n", R ("id"),
                R ("department"), R ("department_name"), R ("referred_by"), R ("referred_at"),
                R ("deadline"));
        printf ("      报告 report   %s\n", R ("report"));
        if (gf_db_get (r, i, "received_at"))
            printf ("      签收 receipt  %s 签收于 %s (%s, 记录 %s)\n", R ("received_by"),
                    R ("received_at"),
                    streq (R ("receipt_via"), "department") ? "部门身份签收" : "网格长登记",
                    R ("receipt_recorded_by"));
        else
            printf ("      签收 receipt  未签收 (not signed for yet)\n");
        if (gf_db_get (r, i, "replied_at"))
            printf ("      回复 reply    %s: %s (%s)\n", R ("replied_at"), R ("reply"),
                    R ("replied_by"));
        if (gf_db_get (r, i, "reminded_at"))
            printf ("      逾期 late     提醒 %s%s%s\n", R ("reminded_at"),
                    gf_db_get (r, i, "escalated_at") ? "，升级至二级网格 " : "",
                    gf_db_get (r, i, "escalated_at") ? R ("escalated_at") : "");
#undef R
    }
    if (r)
        PQclear (r);
}

int gridctl_case_show (gf_config_t *config, int argc, char **argv)
{
    char *end = NULL;
    if (argc != 1 || strtoll (argv[0], &end, 10) <= 0 || *end) {
        fprintf (stderr, "usage: gridctl case show ID\n");
        return 2;
    }
    gf_db_t *db = gridctl_db_new (config);
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
        if (gf_db_get (c, 0, "rejected_reason"))
            printf ("  不予办理 rejected %s %s\n", F ("rejected_reason"), F ("rejected_name"));
        printf ("  来源 source     %s %s\n", F ("source"), F ("source_ref"));
        printf ("  反映 reported   %s   登记 received %s\n", F ("reported"), F ("received"));
        printf ("  地址 address    %s\n", F ("address"));
        printf ("  内容 text       %s\n", F ("description"));
#undef F
        s_show_referrals (db, params);
        s_show_attachments (db, params);
        PGresult *t = gf_db_exec (db, SQL_TIMELINE, 1, params);
        if (t) {
            printf ("  时间线 timeline\n");
            for (int r = 0; r < PQntuples (t); r++) {
                const char *seq = gf_db_get (t, r, "seq");
                printf ("    %s  seq %-8s %-24s %-12s %s %s\n", gf_db_get (t, r, "at"),
                        seq ? seq : "(pending)", gf_db_get (t, r, "type"),
                        gf_db_get (t, r, "grid") ? gf_db_get (t, r, "grid") : "",
                        gf_db_get (t, r, "who"), gf_db_get (t, r, "detail"));
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

/*  gridctl case ACTION ID --actor P [...]: one staff action through the
    intake.  Without --version the current version is read first (an
    interactive user acts on what they see now). */
static const char *SQL_VERSION = "SELECT version FROM cases WHERE id = $1";

int gridctl_case_act (gf_config_t *config, const char *action, int argc, char **argv)
{
    char *end = NULL;
    if (argc < 1 || strtoll (argv[0], &end, 10) <= 0 || *end) {
        fprintf (stderr, "usage: gridctl case %s ID --actor PERSON [options]\n", action);
        return 2;
    }
    gf_action_t a = {.case_id = strtoll (argv[0], NULL, 10), .satisfied = -1, .urgent = -1};
    a.action = (char *)action;
    char *request_id = NULL;
    const char *keys[] = {"--actor",       "--note",     "--department", "--grid",
                          "--tier",        "--groups",   "--request-id", "--contact",
                          "--received-at", "--deadline", "--category",   "--reason"};
    char *received_at = NULL, *due = NULL;
    char **fields[] = {&a.actor,    &a.note,    &a.department, &a.grid, &a.tier,     &a.groups,
                       &request_id, &a.contact, &received_at,  &due,    &a.category, &a.reason};
    for (int i = 1; i < argc; i++) {
        bool known = false;
        for (size_t k = 0; !known && k < sizeof keys / sizeof keys[0]; k++)
            if (streq (argv[i], keys[k]) && i + 1 < argc) {
                *fields[k] = argv[++i];
                known = true;
            }
        if (!known && i + 1 < argc) {
            const char *value = argv[i + 1];
            int yes = streq (value, "yes") ? 1 : streq (value, "no") ? 0 : -1;
            if (streq (argv[i], "--version"))
                known = (a.version = strtoll (argv[++i], NULL, 10)) > 0;
            else if (streq (argv[i], "--into"))
                known = (a.into = strtoll (argv[++i], NULL, 10)) > 0;
            else if (streq (argv[i], "--satisfied") && yes >= 0) {
                a.satisfied = yes;
                known = ++i;
            } else if (streq (argv[i], "--urgent") && yes >= 0) {
                a.urgent = yes;
                known = ++i;
            }
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
    if ((received_at && gf_clock_parse (received_at, &a.received_at) != 0) ||
        (due && gf_clock_parse (due, &a.deadline) != 0)) {
        fprintf (stderr, "error: --received-at/--deadline: a time like 2026-09-21T09:00+08:00\n");
        return 2;
    }
    if (a.version == 0) {
        gf_db_t *db = gridctl_db_new (config);
        const char *params[] = {argv[0]};
        PGresult *res =
            gf_db_connect (db, 10000) == 0 ? gf_db_exec (db, SQL_VERSION, 1, params) : NULL;
        if (res && PQntuples (res) == 1)
            a.version = gf_db_get_ll (res, 0, "version");
        if (res)
            PQclear (res);
        gf_db_destroy (&db);
        if (a.version == 0) {
            fprintf (stderr, "error: unknown_case: no case %s\n", argv[0]);
            return 1;
        }
    }
    char id[64];
    gridctl_request_id (id, sizeof id);
    a.id = request_id ? request_id : id;
    a.at = gf_clock_now_ms ();

    zframe_t *body = gf_action_encode (&a);
    gf_reply_t reply = {0};
    if (gridctl_request (config, &body, a.id, &reply, 5000) != 0)
        return 1;
    int rc = 0;
    if (reply.ok)
        printf ("case %" PRId64 ": %s (version %" PRId64 ")%s\n", reply.case_id, reply.state,
                reply.version, reply.duplicate ? " [already done]" : "");
    else {
        fprintf (stderr, "error: %s: %s", gf_code_name (reply.code),
                 reply.message ? reply.message : "");
        if (reply.state)
            fprintf (stderr, " [case is %s, version %" PRId64 "]", reply.state, reply.version);
        fprintf (stderr, "\n");
        rc = 1;
    }
    gf_reply_reset (&reply);
    return rc;
}

/*  gridctl case list: every filter is optional; NULL parameters match all
    (gf_case_list, reports.sql). */
static const char *SQL_LIST = "SELECT * FROM gf_case_list ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

int gridctl_case_list (gf_config_t *config, int argc, char **argv)
{
    const char *grid = NULL, *state = NULL, *tier = NULL, *level = NULL, *priority = NULL,
               *from = NULL, *to = NULL, *supervised = NULL, *limit = "100";
    const char *keys[] = {"--grid",     "--state", "--tier", "--level",
                          "--priority", "--from",  "--to",   "--limit"};
    const char **fields[] = {&grid, &state, &tier, &level, &priority, &from, &to, &limit};
    for (int i = 0; i < argc; i++) {
        bool known = false;
        if (streq (argv[i], "--supervised")) {
            supervised = "true";
            known = true;
        }
        for (size_t k = 0; !known && k < sizeof keys / sizeof keys[0]; k++)
            if (streq (argv[i], keys[k]) && i + 1 < argc) {
                *fields[k] = argv[++i];
                known = true;
            }
        if (!known) {
            fprintf (stderr, "usage: gridctl case list [--grid PREFIX] [--state S] [--tier T] "
                             "[--level N] [--priority urgent|any|GROUP] [--supervised] "
                             "[--from YYYY-MM-DD] [--to YYYY-MM-DD] [--limit N]\n");
            return 2;
        }
    }
    gf_db_t *db = gridctl_db_new (config);
    const char *params[] = {grid, state, tier, level, priority, from, to, supervised, limit};
    PGresult *res = gf_db_connect (db, 10000) == 0 ? gf_db_exec (db, SQL_LIST, 9, params) : NULL;
    int rc = 1;
    if (!res)
        fprintf (stderr, "error: query failed (bad filter value?)\n");
    else {
        printf ("%-8s %-10s %-12s %-8s %-6s %-4s %-16s %-16s %s\n", "案件", "状态", "网格", "类别",
                "台账", "层级", "优先", "登记时间", "摘要");
        for (int r = 0; r < PQntuples (res); r++) {
            const char *groups = gf_db_get (res, r, "groups");
            char prio[64];
            snprintf (prio, sizeof prio, "%s%s%s%s",
                      streq (gf_db_get (res, r, "urgent"), "t") ? "紧急" : "", *groups ? "[" : "",
                      groups, *groups ? "]" : "");
            const char *tier_code = gf_db_get (res, r, "tier");
            printf ("%-8s %-10s %-12s %-8s %-6s L%-3s %-16s %-16s %s%s\n", gf_db_get (res, r, "id"),
                    gf_db_get (res, r, "state_name"), gf_db_get (res, r, "grid"),
                    gf_db_get (res, r, "category"),
                    streq (tier_code, "resolved") ? "已解决"
                    : streq (tier_code, "hard")   ? "难解决"
                                                  : "待解决",
                    gf_db_get (res, r, "level"), prio, gf_db_get (res, r, "received"),
                    streq (gf_db_get (res, r, "supervised"), "t") ? "[督办] " : "",
                    gf_db_get (res, r, "excerpt"));
        }
        printf ("(%d cases)\n", PQntuples (res));
        PQclear (res);
        rc = 0;
    }
    gf_db_destroy (&db);
    return rc;
}
