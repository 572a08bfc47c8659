/*  gridctl status — what an operator looks at first: the services (their
    heartbeats in service_status, and the relay's heartbeat on the bus),
    consumer checkpoints, the leases of the single-active roles, dead
    letters and the next meetings. */
#include "gridctl.h"
#include "gf_auth.h"
#include "gf_db.h"
#include "gf_proto.h"

/*  Instances seen in the last day; "up" while the heartbeat is fresh
    (three periods): gf_service_status, deploy/sql/repeatable/operations.sql. */
static const char *SQL_SERVICES = "SELECT * FROM gf_service_status ()";

static const char *SQL_CONSUMERS =
    "SELECT c.consumer, c.last_seq, h.head, h.head - c.last_seq AS behind,"
    "       round (extract (epoch FROM now () - c.updated_at))::bigint AS idle_s"
    "  FROM consumer_checkpoints c,"
    "       (SELECT coalesce (max (seq), 0) AS head FROM case_events) h"
    " ORDER BY c.consumer";

/*  Each lease (router, notifier, escalator) with its holder, epoch and
    expiry, and every instance that looked at it lately (leases.sql). */
static const char *SQL_LEASES = "SELECT * FROM gf_lease_status ()";

/*  The delivery outbox per channel: dead letters and what waits. */
static const char *SQL_OUTBOX =
    "SELECT p.channel, count (d.id) FILTER (WHERE d.state = 'dead') AS dead,"
    "       count (d.id) FILTER (WHERE d.state = 'pending') AS pending,"
    "       coalesce (round (extract (epoch FROM now () - min (d.created_at)"
    "                 FILTER (WHERE d.state = 'pending' AND d.channel <> 'app'))), 0)::bigint"
    "         AS oldest_s"
    "  FROM delivery_policy p LEFT JOIN deliveries d ON d.channel = p.channel"
    " GROUP BY p.channel ORDER BY p.channel";

static const char *SQL_NEXT_MEETINGS =
    "SELECT * FROM ("
    "  SELECT 'weekly' AS kind, grid,"
    "         to_char (slot AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD Dy HH24:MI') AS at, slot"
    "    FROM gf_weekly_slots (gf_now (), gf_now () + interval '14 days')"
    "  UNION ALL"
    "  SELECT 'monthly', grid, to_char (slot AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD Dy "
    "HH24:MI'),"
    "         slot"
    "    FROM gf_monthly_slots (gf_now (), gf_now () + interval '62 days')"
    ") s ORDER BY slot, kind DESC, grid LIMIT $1::int";

/*  Listens for relay.hb on the bus for up to wait_ms.  Returns the head
    it announced, or -1 when none came. */
static long long s_bus_head (gf_config_t *config, int wait_ms)
{
    zsock_t *sub = zsock_new (ZMQ_SUB);
    long long head = -1;
    if (!sub || gf_auth_stream_client (sub, config) != 0 ||
        zsock_connect (sub, "%s", config->pub) != 0) {
        zsock_destroy (&sub);
        return -1;
    }
    zsock_set_subscribe (sub, GF_TOPIC_RELAY_HB);
    zsock_set_rcvtimeo (sub, wait_ms);
    char *topic = NULL;
    zframe_t *body = NULL;
    if (zsock_recv (sub, "sf", &topic, &body) == 0 && body) {
        gf_error_t err = {GF_OK, ""};
        gf_msg_t *msg = gf_msg_decode (zframe_data (body), zframe_size (body), &err);
        uint64_t seq = 0;
        if (msg && gf_msg_get_uint (msg, "seq", true, &seq, &err) == 0)
            head = (long long)seq;
        gf_msg_destroy (&msg);
    }
    zstr_free (&topic);
    zframe_destroy (&body);
    zsock_destroy (&sub);
    return head;
}

int gridctl_status (gf_config_t *config, int argc, char **argv)
{
    int meetings = 5, wait_ms = 1500;
    for (int i = 0; i < argc; i++) {
        if (streq (argv[i], "--meetings") && i + 1 < argc)
            meetings = atoi (argv[++i]);
        else if (streq (argv[i], "--bus-wait") && i + 1 < argc)
            wait_ms = atoi (argv[++i]);
        else {
            fprintf (stderr, "usage: gridctl status [--meetings N] [--bus-wait MS]\n");
            return 2;
        }
    }
    gf_db_t *db = gridctl_db_new (config);
    if (gf_db_connect (db, 10000) != 0) {
        fprintf (stderr, "error: cannot connect to the database\n");
        gf_db_destroy (&db);
        return 1;
    }
    int rc = 0;
    PGresult *res = gf_db_exec (db, SQL_SERVICES, 0, NULL);
    if (res) {
        printf ("SERVICES (heartbeats in service_status)\n");
        printf ("  %-13s %-22s %-8s %-9s %-14s %5s %7s %7s  %s\n", "service", "instance", "version",
                "state", "uptime", "seen", "errors", "lag", "work");
        for (int r = 0; r < PQntuples (res); r++)
            printf ("  %-13s %-22s %-8s %-9s %-14s %4ss %7s %7s  %s\n",
                    gf_db_get (res, r, "service"), gf_db_get (res, r, "instance"),
                    gf_db_get (res, r, "version"), gf_db_get (res, r, "state"),
                    gf_db_get (res, r, "uptime"), gf_db_get (res, r, "seen_s"),
                    gf_db_get (res, r, "errors"), gf_db_get (res, r, "lag"),
                    gf_db_get (res, r, "work"));
        if (PQntuples (res) == 0)
            printf ("  (no heartbeat in the last day)\n");
        PQclear (res);
    } else
        rc = 1;
    long long bus_head = wait_ms > 0 ? s_bus_head (config, wait_ms) : -1;
    if (bus_head >= 0)
        printf ("BUS\n  relay.hb on %s: head seq %lld\n", config->pub, bus_head);
    else
        printf ("BUS\n  no relay.hb on %s within %d ms: is a relay leading?\n", config->pub,
                wait_ms);

    res = gf_db_exec (db, SQL_CONSUMERS, 0, NULL);
    if (res) {
        printf ("CONSUMERS (checkpoints)\n  %-12s %10s %10s %8s %7s\n", "consumer", "checkpoint",
                "head", "behind", "idle");
        for (int r = 0; r < PQntuples (res); r++)
            printf ("  %-12s %10s %10s %8s %6ss\n", gf_db_get (res, r, "consumer"),
                    gf_db_get (res, r, "last_seq"), gf_db_get (res, r, "head"),
                    gf_db_get (res, r, "behind"), gf_db_get (res, r, "idle_s"));
        PQclear (res);
    } else
        rc = 1;

    res = gf_db_exec (db, SQL_LEASES, 0, NULL);
    if (res) {
        printf ("LEASES (single-active roles; service/lease)\n  %-22s %6s %8s  %-30s %-8s %6s\n",
                "role", "epoch", "expires", "instance", "state", "seen");
        for (int r = 0; r < PQntuples (res); r++) {
            bool first =
                r == 0 || !streq (gf_db_get (res, r, "name"), gf_db_get (res, r - 1, "name"));
            long long expires = gf_db_get_ll (res, r, "expires_ms");
            char expiry[24] = "lapsed";
            if (expires > 0)
                snprintf (expiry, sizeof expiry, "%.1fs", expires / 1000.0);
            bool seen = !PQgetisnull (res, r, PQfnumber (res, "instance"));
            char seen_text[24] = "-";
            if (seen)
                snprintf (seen_text, sizeof seen_text, "%.1fs",
                          gf_db_get_ll (res, r, "seen_ms") / 1000.0);
            const char *state = !seen                                        ? ""
                                : streq (gf_db_get (res, r, "holding"), "t") ? "holder"
                                                                             : "standby";
            printf ("  %-22s %6s %8s  %-30s %-8s %6s\n", first ? gf_db_get (res, r, "name") : "",
                    first ? gf_db_get (res, r, "epoch") : "", first ? expiry : "",
                    seen ? gf_db_get (res, r, "instance") : "(no instance seen)", state, seen_text);
        }
        if (PQntuples (res) == 0)
            printf ("  (none taken yet)\n");
        PQclear (res);
    } else
        rc = 1;

    printf ("DEAD LETTERS (gridctl notify dead | redrive)\n");
    res = gf_db_exec (db, SQL_OUTBOX, 0, NULL);
    if (res) {
        printf ("  %-8s %8s %8s %s\n", "channel", "dead", "pending", "oldest pending (s)");
        for (int r = 0; r < PQntuples (res); r++)
            printf ("  %-8s %8s %8s %s\n", gf_db_get (res, r, "channel"),
                    gf_db_get (res, r, "dead"), gf_db_get (res, r, "pending"),
                    gf_db_get (res, r, "oldest_s"));
        PQclear (res);
    } else
        rc = 1;

    char limit[16];
    snprintf (limit, sizeof limit, "%d", meetings);
    const char *params[] = {limit};
    res = gf_db_exec (db, SQL_NEXT_MEETINGS, 1, params);
    if (res) {
        printf ("NEXT MEETINGS\n");
        for (int r = 0; r < PQntuples (res); r++)
            printf ("  %-8s %-12s %s\n", gf_db_get (res, r, "kind"), gf_db_get (res, r, "grid"),
                    gf_db_get (res, r, "at"));
        if (PQntuples (res) == 0)
            printf ("  (none scheduled: no escalation rules?)\n");
        PQclear (res);
    } else
        rc = 1;
    gf_db_destroy (&db);
    return rc;
}
