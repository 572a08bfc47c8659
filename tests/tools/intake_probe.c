/*  intake_probe — one complaint, sent once, and how long its answer took.
    Sends complaint.submit {source hotline, source_ref REF, a short text,
    grid QNL.07.063} to the intake at ENDPOINT, never resends, and waits up
    to WAIT_MS for the answer.  Prints one line:
        CODE MS DUPLICATE CASE     e.g. "ok 12 new 41", "ok 9 duplicate 41",
                                        "unavailable 3004 - 0"
        none MS                    no answer within WAIT_MS (exit 1)
    usage: intake_probe ENDPOINT REF WAIT_MS */
#include "gf_client.h"

int main (int argc, char **argv)
{
    if (argc != 4) {
        fprintf (stderr, "usage: intake_probe ENDPOINT REF WAIT_MS\n");
        return 2;
    }
    zsys_init ();
    zsys_set_logstream (stderr);
    gf_client_t *client = gf_client_new (argv[1]);
    char *id = zsys_sprintf ("probe-%s-%" PRId64, argv[2], zclock_time ());
    gf_complaint_t c = {.id = id,
                        .source = (char *)"hotline",
                        .source_ref = argv[2],
                        .description = (char *)"故障探测：路灯不亮",
                        .grid = (char *)"QNL.07.063"};
    zframe_t *body = gf_complaint_encode (&c);
    int64_t started = zclock_mono (), deadline = started + atoi (argv[3]);
    int rc = gf_client_send (client, body);
    gf_reply_t reply = {0};
    bool answered = false;
    while (rc == 0 && !answered && zclock_mono () < deadline) {
        int got = gf_client_recv (client, &reply, (int)(deadline - zclock_mono ()));
        if (got < 0)
            break;
        if (got == 0 && reply.id && streq (reply.id, id))
            answered = true;
        else
            gf_reply_reset (&reply);
    }
    int64_t took = zclock_mono () - started;
    if (answered)
        printf ("%s %" PRId64 " %s %" PRId64 "\n", gf_code_name (reply.ok ? GF_OK : reply.code),
                took, reply.ok ? (reply.duplicate ? "duplicate" : "new") : "-", reply.case_id);
    else
        printf ("none %" PRId64 "\n", took);
    gf_reply_reset (&reply);
    zframe_destroy (&body);
    zstr_free (&id);
    gf_client_destroy (&client);
    return answered ? 0 : 1;
}
