/*  action_pace — staff actions at a steady pace on one connection, each
    reply timed, as the workbench's gateway sends them
    (bench/escalation_bench.sh: a staff action's reply while a round runs).

    usage: action_pace ENDPOINT INTERVAL_MS MARK START NEXT < CASES
    CASES: one per line, "CASE ACTOR VERSION".  From line START (1-based,
    cycling), while the file MARK exists: one `progress` action by ACTOR on
    CASE at VERSION, its reply awaited (10 s at most), then the next one
    INTERVAL_MS after this one was sent (at once when the reply took
    longer).  Prints one line per action: the reply time in microseconds
    when answered ok, else "failed" (the code on stderr; after a conflict
    the case's next turn uses the version the reply names).  At the end
    writes the next line's number to the file NEXT, so that a later run
    goes on with cases not yet acted on at their old version.
    Exit status 0, or 2 for bad arguments. */
#include "gf_client.h"

#include <unistd.h>

#define MAX_CASES     4096
#define REPLY_WAIT_MS 10000

typedef struct {
    int64_t case_id;
    char actor[64];
    int64_t version;
} s_case_t;

static s_case_t s_cases[MAX_CASES];

int main (int argc, char **argv)
{
    if (argc != 6) {
        fprintf (stderr, "usage: action_pace ENDPOINT INTERVAL_MS MARK START NEXT < CASES\n");
        return 2;
    }
    zsys_init ();
    zsys_set_logstream (stderr);
    int interval = atoi (argv[2]);
    const char *mark = argv[3];
    long start = atol (argv[4]);
    size_t n = 0;
    char line[256];
    while (n < MAX_CASES && fgets (line, sizeof line, stdin))
        if (sscanf (line, "%" SCNd64 " %63s %" SCNd64, &s_cases[n].case_id, s_cases[n].actor,
                    &s_cases[n].version) == 3)
            n++;
    if (n == 0 || interval < 0 || start < 1) {
        fprintf (stderr, "action_pace: no cases, or a bad INTERVAL_MS or START\n");
        return 2;
    }
    gf_client_t *client = gf_client_new (argv[1]);
    long k = start - 1;
    while (!zsys_interrupted && access (mark, F_OK) == 0) {
        s_case_t *c = &s_cases[(size_t)k % n];
        char id[64];
        snprintf (id, sizeof id, "pace.%d.%ld", (int)getpid (), k);
        gf_action_t a = {0};
        a.id = id;
        a.at = zclock_time ();
        a.case_id = c->case_id;
        a.action = (char *)"progress";
        a.actor = c->actor;
        a.version = c->version;
        a.note = (char *)"已联系物业，正在处理";
        a.satisfied = -1;
        a.urgent = -1;
        zframe_t *body = gf_action_encode (&a);
        int64_t sent = zclock_usecs ();
        gf_reply_t r = {0};
        int rc = gf_client_request (client, body, id, &r, REPLY_WAIT_MS, 1); /* no resend */
        zframe_destroy (&body);
        int64_t took = zclock_usecs () - sent;
        if (rc == 0 && r.ok) {
            printf ("%" PRId64 "\n", took);
            c->version = r.version;
        } else {
            if (rc == 0 && r.code == GF_E_CONFLICT && r.version > 0)
                c->version = r.version; /* moved by someone else: its next turn is at this one */
            printf ("failed\n");
            fprintf (stderr, "action_pace: case %" PRId64 ": %s\n", c->case_id,
                     rc != 0 ? "no answer" : gf_code_name (r.code));
        }
        fflush (stdout);
        gf_reply_reset (&r);
        k++;
        int64_t next = sent / 1000 + interval - zclock_usecs () / 1000;
        if (next > 0)
            zclock_sleep ((int)next);
    }
    FILE *f = fopen (argv[5], "w");
    if (f) {
        fprintf (f, "%ld\n", k + 1);
        fclose (f);
    }
    gf_client_destroy (&client);
    return 0;
}
