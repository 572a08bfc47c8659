/*  action_burst — case actions sent all at once, for the intake's groups
    (intake/action_group, tests/e2e/test_intake_action_group.sh).

    usage: action_burst ENDPOINT WAIT_MS < ACTIONS
    ACTIONS: one per line, "ID CASE ACTION ACTOR VERSION NOTE" (NOTE "-"
    for none; a callback is satisfied).  Every action is sent before any
    answer is read, on one connection; then each answer is awaited (up to
    WAIT_MS in all) and one line printed per action, in input order:
        ID CODE STATE VERSION      e.g. "s1 ok signed 3",
                                        "p9 conflict signed 3"
        ID none                    no answer
    Exit status 0 when every action was answered. */
#include "gf_client.h"

#define MAX_ACTIONS 256

typedef struct {
    char id[64];
    gf_reply_t reply;
    bool answered;
} s_sent_t;

int main (int argc, char **argv)
{
    if (argc != 3) {
        fprintf (stderr, "usage: action_burst ENDPOINT WAIT_MS < ACTIONS\n");
        return 2;
    }
    zsys_init ();
    zsys_set_logstream (stderr);
    gf_client_t *client = gf_client_new (argv[1]);
    static s_sent_t sent[MAX_ACTIONS];
    size_t n = 0;
    char line[1024];
    while (n < MAX_ACTIONS && fgets (line, sizeof line, stdin)) {
        char id[64], action[32], actor[64], note[512];
        long long case_id, version;
        if (sscanf (line, "%63s %lld %31s %63s %lld %511[^\n]", id, &case_id, action, actor,
                    &version, note) != 6)
            continue;
        gf_action_t a = {0};
        a.id = id;
        a.at = zclock_time ();
        a.case_id = case_id;
        a.action = action;
        a.actor = actor;
        a.version = version;
        a.note = streq (note, "-") ? NULL : note;
        a.satisfied = streq (action, "callback") ? 1 : -1;
        a.urgent = -1;
        zframe_t *body = gf_action_encode (&a);
        if (gf_client_send (client, body) != 0) {
            fprintf (stderr, "action_burst: cannot send %s\n", id);
            return 2;
        }
        zframe_destroy (&body);
        snprintf (sent[n++].id, sizeof sent[0].id, "%s", id);
    }
    int64_t until = zclock_mono () + atoi (argv[2]);
    size_t answered = 0;
    while (answered < n && zclock_mono () < until) {
        gf_reply_t r = {0};
        if (gf_client_recv (client, &r, (int)(until - zclock_mono ())) != 0)
            break;
        for (size_t i = 0; i < n; i++)
            if (!sent[i].answered && r.id && streq (r.id, sent[i].id)) {
                sent[i].reply = r;
                sent[i].answered = true;
                answered++;
                memset (&r, 0, sizeof r);
                break;
            }
        gf_reply_reset (&r);
    }
    for (size_t i = 0; i < n; i++) {
        gf_reply_t *r = &sent[i].reply;
        if (!sent[i].answered)
            printf ("%s none\n", sent[i].id);
        else
            printf ("%s %s %s %" PRId64 "\n", sent[i].id, r->ok ? "ok" : gf_code_name (r->code),
                    r->state ? r->state : "-", r->version);
        gf_reply_reset (r);
    }
    gf_client_destroy (&client);
    return answered == n ? 0 : 1;
}
