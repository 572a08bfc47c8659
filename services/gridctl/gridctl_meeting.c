/*  gridctl meeting show, meeting attend|decide|minutes|close|opinion: a
    meeting as staff record it (issue 14; meeting_records.sql). */
#include "gridctl.h"
#include "gf_client.h"
#include "gf_clock.h"
#include "gf_proto.h"

/*  $1 meeting.  The header, the attendees, the agenda with decisions and
    outcomes (gf_meeting_agenda, meetings.sql), the opinions of a consultation meeting. */
static const char *SQL_HEAD =
    "SELECT m.*, g.name AS grid_name, to_char (m.slot_at AT TIME ZONE 'Asia/Shanghai', "
    "'YYYY-MM-DD HH24:MI') AS slot FROM meetings m JOIN grids g ON g.code = m.grid WHERE m.id = $1";
static const char *SQL_ATTENDEES =
    "SELECT name, role, coalesce (person, '') AS person FROM meeting_attendees "
    " WHERE meeting_id = $1 ORDER BY id";
static const char *SQL_AGENDA = "SELECT * FROM gf_meeting_agenda ($1)";
static const char *SQL_OPINIONS = "SELECT speaker, opinion, coalesce (response, '') AS response "
                                  "  FROM consultation_opinions WHERE meeting_id = $1 ORDER BY id";

#define V(res, r, col) (gf_db_get (res, r, col) ? gf_db_get (res, r, col) : "-")

int gridctl_meeting_show (gf_config_t *config, int argc, char **argv)
{
    char *end = NULL;
    if (argc != 1 || strtoll (argv[0], &end, 10) <= 0 || *end) {
        fprintf (stderr, "usage: gridctl meeting show ID\n");
        return 2;
    }
    gf_db_t *db = gridctl_db_new (config);
    const char *params[] = {argv[0]};
    PGresult *m = gf_db_connect (db, 10000) == 0 ? gf_db_exec (db, SQL_HEAD, 1, params) : NULL;
    int rc = 1;
    if (!m)
        fprintf (stderr, "error: unavailable: cannot read the meeting\n");
    else if (PQntuples (m) == 0)
        fprintf (stderr, "error: unknown_meeting: no meeting %s\n", argv[0]);
    else {
        printf ("会议 meeting %s   %s %s   %s %s   状态 state %s%s   version %s\n", argv[0],
                V (m, 0, "grid"), V (m, 0, "grid_name"), V (m, 0, "kind"), V (m, 0, "slot"),
                V (m, 0, "state"), streq (V (m, 0, "automatic"), "t") ? " (automatic)" : "",
                V (m, 0, "version"));
        if (gf_db_get (m, 0, "topic"))
            printf ("  议题 topic  %s\n", gf_db_get (m, 0, "topic"));
        PGresult *a = gf_db_exec (db, SQL_ATTENDEES, 1, params);
        PGresult *g = gf_db_exec (db, SQL_AGENDA, 1, params);
        PGresult *o = gf_db_exec (db, SQL_OPINIONS, 1, params);
        if (a && g && o) {
            printf ("  参会 attendees (%d)\n", PQntuples (a));
            for (int r = 0; r < PQntuples (a); r++)
                printf ("    %-16s %-18s %s\n", V (a, r, "name"), V (a, r, "role"),
                        V (a, r, "person"));
            printf ("  议程 agenda (%d)\n", PQntuples (g));
            printf ("    %-8s %-9s %-12s %-3s %-12s %-10s %-17s %-6s %s\n", "case", "tier", "state",
                    "L", "reason", "decision", "deadline", "outcome", "detail / carried");
            for (int r = 0; r < PQntuples (g); r++) {
                printf ("    %-8s %-9s %-12s %-3s %-12s %-10s %-17s %-7s %s", V (g, r, "case_id"),
                        V (g, r, "tier"), V (g, r, "state"), V (g, r, "level"), V (g, r, "reason"),
                        V (g, r, "this_kind"), V (g, r, "this_deadline"), V (g, r, "this_outcome"),
                        gf_db_get (g, r, "this_detail") ? V (g, r, "this_detail") : "");
                if (gf_db_get (g, r, "decision"))
                    printf ("  [%s decision %s %s: %s]", V (g, r, "reason"), V (g, r, "decision"),
                            V (g, r, "decision_kind"), V (g, r, "decision_outcome"));
                printf ("\n");
            }
            if (PQntuples (o) > 0)
                printf ("  意见 opinions (%d)\n", PQntuples (o));
            for (int r = 0; r < PQntuples (o); r++)
                printf ("    %s: %s — 答复 %s\n", V (o, r, "speaker"), V (o, r, "opinion"),
                        V (o, r, "response"));
            printf ("  纪要 minutes\n    %s\n", V (m, 0, "minutes"));
            rc = 0;
        } else
            fprintf (stderr, "error: unavailable: cannot read the meeting\n");
        if (a)
            PQclear (a);
        if (g)
            PQclear (g);
        if (o)
            PQclear (o);
    }
    if (m)
        PQclear (m);
    gf_db_destroy (&db);
    return rc;
}

bool gridctl_meeting_is_action (const char *action)
{
    return streq (action, "attend") || streq (action, "decide") || streq (action, "minutes") ||
           streq (action, "close") || streq (action, "opinion");
}

int gridctl_meeting_act (gf_config_t *config, const char *action, int argc, char **argv)
{
    char *end = NULL;
    if (argc < 1 || strtoll (argv[0], &end, 10) <= 0 || *end) {
        fprintf (stderr, "usage: gridctl meeting %s ID --actor PERSON [options]\n", action);
        return 2;
    }
    gf_meeting_action_t a = {.meeting = strtoll (argv[0], NULL, 10)};
    a.action = (char *)action;
    char *request_id = NULL, *deadline = NULL;
    const char *keys[] = {"--actor",   "--person",   "--name",       "--role",       "--decision",
                          "--owner",   "--note",     "--text",       "--department", "--speaker",
                          "--opinion", "--response", "--request-id", "--deadline"};
    char **fields[] = {&a.actor,   &a.person,   &a.name,     &a.role,       &a.decision,
                       &a.owner,   &a.note,     &a.text,     &a.department, &a.speaker,
                       &a.opinion, &a.response, &request_id, &deadline};
    for (int i = 1; i < argc; i++) {
        bool known = false;
        for (size_t k = 0; !known && k < sizeof keys / sizeof keys[0]; k++)
            if (streq (argv[i], keys[k]) && i + 1 < argc) {
                *fields[k] = argv[++i];
                known = true;
            }
        if (!known && i + 1 < argc && streq (argv[i], "--case"))
            known = (a.case_id = strtoll (argv[++i], NULL, 10)) > 0;
        else if (!known && i + 1 < argc && streq (argv[i], "--consultation"))
            known = (a.consultation = strtoll (argv[++i], NULL, 10)) > 0;
        if (!known) {
            fprintf (stderr, "error: bad argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!a.actor) {
        fprintf (stderr, "error: --actor PERSON is required\n");
        return 2;
    }
    if (deadline && gf_clock_parse (deadline, &a.deadline) != 0) {
        fprintf (stderr, "error: bad --deadline '%s' (YYYY-MM-DDTHH:MM:SS[+08:00])\n", deadline);
        return 2;
    }
    char id[64];
    gridctl_request_id (id, sizeof id);
    a.id = request_id ? request_id : id;
    a.at = gf_clock_now_ms ();

    zframe_t *body = gf_meeting_action_encode (&a);
    gf_reply_t reply = {0};
    if (gridctl_request (config, &body, a.id, &reply, 5000) != 0)
        return 1;
    int rc = 0;
    if (reply.ok) {
        printf ("meeting %" PRId64 " %s: ok (meeting %s, version %" PRId64 ")", a.meeting, action,
                reply.state ? reply.state : "-", reply.version);
        if (reply.case_id > 0)
            printf (" case %" PRId64, reply.case_id);
        printf ("%s\n", reply.duplicate ? " [already done]" : "");
    } else {
        fprintf (stderr, "error: %s: %s\n", gf_code_name (reply.code),
                 reply.message ? reply.message : "");
        rc = 1;
    }
    gf_reply_reset (&reply);
    return rc;
}
