/*  gf_relay_replay — pages of past events for late or reconnecting
    subscribers (the replay half of the zguide Clone pattern).

    Request: replay.request {from, prefix, limit[, to]}.  Answer, on the
    same connection: up to `limit` messages [topic, event body] with
    from < seq (<= to) and topic starting with prefix, in seq order, then
    ["replay.end", replay.end {last, more, count, head}].  `last` is where
    the next page starts; more=false means the caller has everything up to
    `last`; `count` is the number of events sent before it, so the caller
    can tell a page that lost messages on the way.

    A probe (probe: true, `to` set) sends no event: its replay.end carries
    `count` = the events in (from, to] matching the prefix and last = to.
    A filtered subscriber compares it with what it received live to detect
    a gap exactly (docs/streams.md).

    Runs on its own connection and thread so replay never delays
    publishing.
*/
#include "gf_relay.h"
#include "gf_clock.h"
#include "gf_config.h"
#include "gf_db.h"
#include "gf_proto.h"
#include "gf_service.h"

static const char *SQL_HEAD = "SELECT coalesce (max (seq), 0) AS head FROM case_events";
static const char *SQL_PAGE =
    "SELECT seq, id, type, topic, case_id, grid,"
    "       (extract (epoch FROM at) * 1000)::bigint AS at_ms, payload::text AS payload"
    "  FROM case_events"
    " WHERE seq > $1 AND starts_with (topic, $2) AND ($4::bigint = 0 OR seq <= $4::bigint)"
    " ORDER BY seq LIMIT $3";
static const char *SQL_COUNT = "SELECT count (*) AS n FROM case_events"
                               " WHERE seq > $1 AND seq <= $2 AND starts_with (topic, $3)";

static void s_send_end (zsock_t *router, zmsg_t *envelope, const char *id, uint64_t last, bool more,
                        uint64_t head, gf_code_t code, const char *message)
{
    zmsg_t *msg = zmsg_dup (envelope);
    zmsg_addstr (msg, GF_TYPE_REPLAY_END);
    zframe_t *body = gf_replay_end_encode (id, last, more, head, code, message);
    zmsg_append (msg, &body);
    if (zmsg_send (&msg, router) != 0)
        zmsg_destroy (&msg);
}

static void s_send_end_count (zsock_t *router, zmsg_t *envelope, const char *id, uint64_t last,
                              bool more, uint64_t count, uint64_t head)
{
    zmsg_t *msg = zmsg_dup (envelope);
    zmsg_addstr (msg, GF_TYPE_REPLAY_END);
    zframe_t *body = gf_replay_end_encode_count (id, last, more, count, head);
    zmsg_append (msg, &body);
    if (zmsg_send (&msg, router) != 0)
        zmsg_destroy (&msg);
}

static void s_serve (zsock_t *router, gf_db_t *db, zmsg_t *msg)
{
    zframe_t *body = zmsg_last (msg);
    if (!body || zmsg_size (msg) < 2)
        return;
    zmsg_remove (msg, body);
    gf_error_t err = {GF_OK, ""};
    gf_replay_req_t req = {0};
    gf_msg_t *decoded = gf_msg_decode (zframe_data (body), zframe_size (body), &err);
    zframe_destroy (&body);
    if (!decoded || gf_replay_req_from_msg (decoded, &req, &err) != 0) {
        s_send_end (router, msg, decoded ? gf_msg_id (decoded) : NULL, 0, false, 0, err.code,
                    err.message);
        gf_msg_destroy (&decoded);
        return;
    }
    gf_msg_destroy (&decoded);

    char from[24], limit[24], to[24];
    snprintf (from, sizeof from, "%" PRIu64, req.from);
    snprintf (limit, sizeof limit, "%" PRIu64, req.limit);
    snprintf (to, sizeof to, "%" PRIu64, req.to);
    PGresult *head_res = gf_db_exec (db, SQL_HEAD, 0, NULL);
    if (req.probe) {
        const char *cparams[] = {from, to, req.prefix};
        PGresult *n = head_res && req.to > 0 ? gf_db_exec (db, SQL_COUNT, 3, cparams) : NULL;
        uint64_t head = head_res ? (uint64_t)gf_db_get_ll (head_res, 0, "head") : 0;
        if (n)
            s_send_end_count (router, msg, req.id, req.to, false,
                              (uint64_t)gf_db_get_ll (n, 0, "n"), head);
        else if (head_res && req.to == 0)
            s_send_end (router, msg, req.id, req.from, false, head, GF_E_MISSING_FIELD,
                        "a probe needs field 'to'");
        else
            s_send_end (router, msg, req.id, req.from, true, 0, GF_E_UNAVAILABLE,
                        "event log unavailable, retry later");
        if (n)
            PQclear (n);
        if (head_res)
            PQclear (head_res);
        gf_replay_req_reset (&req);
        return;
    }
    const char *params[] = {from, req.prefix, limit, to};
    PGresult *rows = head_res ? gf_db_exec (db, SQL_PAGE, 4, params) : NULL;
    if (!rows) {
        s_send_end (router, msg, req.id, req.from, true, 0, GF_E_UNAVAILABLE,
                    "event log unavailable, retry later");
    } else {
        uint64_t head = (uint64_t)gf_db_get_ll (head_res, 0, "head");
        uint64_t last = req.from, sent = 0;
        int count = PQntuples (rows);
        for (int r = 0; r < count; r++) {
            last = (uint64_t)gf_db_get_ll (rows, r, "seq");
            zmsg_t *out = zmsg_dup (msg);
            zmsg_addstr (out, gf_db_get (rows, r, "topic"));
            zframe_t *event =
                gf_event_encode (last, gf_db_get (rows, r, "type"), gf_db_get_ll (rows, r, "id"),
                                 gf_db_get_ll (rows, r, "at_ms"), gf_db_get_ll (rows, r, "case_id"),
                                 gf_db_get (rows, r, "grid"), gf_db_get (rows, r, "payload"));
            if (!event) {
                /* Not for payloads our own SQL writes; skip, do not crash. */
                zsys_error ("relay: cannot encode event seq %" PRIu64 " for replay", last);
                zmsg_destroy (&out);
                continue;
            }
            zmsg_append (out, &event);
            if (zmsg_send (&out, router) != 0)
                zmsg_destroy (&out);
            else
                sent++;
        }
        bool more = (uint64_t)count == req.limit;
        uint64_t end = req.to > 0 && req.to < head ? req.to : head;
        if (!more && end > last)
            last = end; /* scanned everything up to the head (or `to`) */
        s_send_end_count (router, msg, req.id, last, more, sent, head > last ? head : last);
    }
    if (rows)
        PQclear (rows);
    if (head_res)
        PQclear (head_res);
    gf_replay_req_reset (&req);
}

void gf_relay_replay_actor (zsock_t *pipe, void *args)
{
    gf_config_t *config = (gf_config_t *)args;
    gf_db_t *db = gf_db_new (config->db, "gf-relay-replay");
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    zsock_set_sndhwm (router, 200000);
    if (zsock_bind (router, "%s", config->replay) < 0) {
        zsys_error ("relay: cannot bind %s: %s", config->replay, zmq_strerror (zmq_errno ()));
        zsock_signal (pipe, 1);
        goto done;
    }
    zsock_signal (pipe, 0);
    zmq_pollitem_t items[] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                              {zsock_resolve (router), 0, ZMQ_POLLIN, 0}};
    while (!zsys_interrupted) {
        if (zmq_poll (items, 2, -1) < 0)
            break;
        if ((items[0].revents & ZMQ_POLLIN) && gf_service_pipe_term (pipe))
            break;
        if (items[1].revents & ZMQ_POLLIN) {
            zmsg_t *msg = zmsg_recv (router);
            if (msg)
                s_serve (router, db, msg);
            zmsg_destroy (&msg);
        }
    }
done:
    zsock_destroy (&router);
    gf_db_destroy (&db);
}
