/*  intake_errors — acceptance 4 against a running intake (cmocka).

    Each bad request must get its specific error code and write nothing;
    the intake must keep serving.  Environment: GF_INTAKE (endpoint) and
    GF_DB (the intake's database, to prove nothing was written). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gf_client.h"
#include "gf_db.h"
#include "gf_proto.h"

static gf_client_t *s_client;
static gf_db_t *s_db;

static const char *SQL_COUNTS =
    "SELECT (SELECT count (*) FROM cases) || '/' || (SELECT count (*) FROM case_events) AS n";

static char *s_counts (void)
{
    PGresult *res = gf_db_exec (s_db, SQL_COUNTS, 0, NULL);
    assert_non_null (res);
    char *n = strdup (gf_db_get (res, 0, "n"));
    PQclear (res);
    return n;
}

/*  Sends raw bytes, expects an error reply with `code`, and checks that the
    database did not change. */
static void s_expect (const void *data, size_t size, gf_code_t code)
{
    char *before = s_counts ();
    zframe_t *body = zframe_new (data, size);
    assert_int_equal (gf_client_send (s_client, body), 0);
    zframe_destroy (&body);
    gf_reply_t reply = {0};
    assert_int_equal (gf_client_recv (s_client, &reply, 5000), 0);
    assert_false (reply.ok);
    assert_string_equal (gf_code_name (reply.code), gf_code_name (code));
    assert_non_null (reply.message);
    assert_true (strlen (reply.message) > 0);
    gf_reply_reset (&reply);
    char *after = s_counts ();
    assert_string_equal (before, after);
    free (before);
    free (after);
}

/*  A test that stores a valid case sets the router (and, after it, the
    notifier) to work: waits until the case is routed or found unroutable
    and the counts have stayed the same for a second, so that the next
    "wrote nothing" comparison sees only what the intake did. */
static void s_settle (int64_t case_id)
{
    char id[24];
    snprintf (id, sizeof id, "%" PRId64, case_id);
    const char *params[] = {id};
    bool routed = false;
    for (int i = 0; i < 100 && !routed; i++) {
        PGresult *res = gf_db_exec (s_db,
                                    "SELECT count (*) AS n FROM case_events WHERE case_id = $1 "
                                    "AND type IN ('case.routed', 'case.unroutable')",
                                    1, params);
        assert_non_null (res);
        routed = strcmp (gf_db_get (res, 0, "n"), "0") != 0;
        PQclear (res);
        if (!routed)
            zclock_sleep (100);
    }
    assert_true (routed);
    char *last = s_counts ();
    for (int stable = 0, i = 0; stable < 5 && i < 100; i++) {
        zclock_sleep (200);
        char *now = s_counts ();
        stable = streq (now, last) ? stable + 1 : 0;
        free (last);
        last = now;
    }
    free (last);
}

static void s_expect_json (const char *json, gf_code_t code)
{
    zframe_t *body = gf_json_encode (json);
    assert_non_null (body);
    s_expect (zframe_data (body), zframe_size (body), code);
    zframe_destroy (&body);
}

#define VALID_HEAD "\"v\":1,\"type\":\"complaint.submit\",\"id\":\"r1\",\"at\":1"

static void test_malformed_msgpack (void **state)
{
    const unsigned char garbage[] = {0xc1, 0xff, 0x00, 0x12};
    s_expect (garbage, sizeof garbage, GF_E_MALFORMED);
    const unsigned char truncated[] = {0x83, 0xa1, 0x76, 0x01, 0xa4}; /* map of 3, cut */
    s_expect (truncated, sizeof truncated, GF_E_MALFORMED);
}

static void test_missing_required_field (void **state)
{
    s_expect_json ("{" VALID_HEAD ",\"source\":\"hotline\",\"source_ref\":\"x1\"}",
                   GF_E_MISSING_FIELD);
}

static void test_wrong_type (void **state)
{
    s_expect_json ("{" VALID_HEAD ",\"source\":\"hotline\",\"source_ref\":42,"
                   "\"description\":\"路灯不亮\"}",
                   GF_E_WRONG_TYPE);
}

static void test_description_over_4000_characters (void **state)
{
    /* 4,001 Chinese characters (3 bytes each) */
    size_t n = 4001;
    char *text = (char *)malloc (n * 3 + 1);
    for (size_t i = 0; i < n; i++)
        memcpy (text + i * 3, "灯", 3);
    text[n * 3] = 0;
    char *json = zsys_sprintf ("{" VALID_HEAD ",\"source\":\"hotline\",\"source_ref\":\"x2\","
                               "\"description\":\"%s\"}",
                               text);
    s_expect_json (json, GF_E_TOO_LONG);
    free (json);
    free (text);
}

static void test_invalid_utf8 (void **state)
{
    /* {v:1,type:"complaint.submit",id:"r1",source:"hotline",source_ref:"x3",
       description:"\xe8\x00"} built by hand: msgpack fixstr with bad bytes */
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 6);
    const char *kv[] = {"v",  NULL,     "type",    "complaint.submit", "id",
                        "r1", "source", "hotline", "source_ref",       "x3"};
    for (int i = 0; i < 10; i += 2) {
        msgpack_pack_str_with_body (&pk, kv[i], strlen (kv[i]));
        if (kv[i + 1])
            msgpack_pack_str_with_body (&pk, kv[i + 1], strlen (kv[i + 1]));
        else
            msgpack_pack_int (&pk, 1);
    }
    msgpack_pack_str_with_body (&pk, "description", 11);
    msgpack_pack_str_with_body (&pk, "\xe8\xb7\x28\xc0\xaf", 5);
    s_expect (sbuf.data, sbuf.size, GF_E_INVALID_UTF8);
    /* the reply still names the request, so a pipelining client can match it */
    zframe_t *body = zframe_new (sbuf.data, sbuf.size);
    assert_int_equal (gf_client_send (s_client, body), 0);
    zframe_destroy (&body);
    gf_reply_t reply = {0};
    assert_int_equal (gf_client_recv (s_client, &reply, 5000), 0);
    assert_non_null (reply.id);
    assert_string_equal (reply.id, "r1");
    gf_reply_reset (&reply);
    msgpack_sbuffer_destroy (&sbuf);
}

static void test_body_over_64_kib (void **state)
{
    size_t size = GF_MAX_BODY + 1;
    char *body = (char *)calloc (1, size);
    body[0] = (char)0x81; /* the content does not matter: size is checked first */
    s_expect (body, size, GF_E_TOO_LARGE);
    free (body);
}

static void test_unknown_grid_code (void **state)
{
    s_expect_json ("{" VALID_HEAD ",\"source\":\"hotline\",\"source_ref\":\"x4\","
                   "\"description\":\"路灯不亮\",\"grid\":\"QNL.99.999\"}",
                   GF_E_UNKNOWN_GRID);
}

static void test_unknown_category (void **state)
{
    s_expect_json ("{" VALID_HEAD ",\"source\":\"hotline\",\"source_ref\":\"x5\","
                   "\"description\":\"路灯不亮\",\"category\":\"no_such_category\"}",
                   GF_E_UNKNOWN_CATEGORY);
}

static void test_unknown_source (void **state)
{
    s_expect_json ("{" VALID_HEAD ",\"source\":\"fax\",\"source_ref\":\"x6\","
                   "\"description\":\"路灯不亮\"}",
                   GF_E_BAD_VALUE);
}

static void test_patrol_needs_a_known_reporter (void **state)
{
    s_expect_json ("{" VALID_HEAD ",\"source\":\"patrol\",\"source_ref\":\"x7\","
                   "\"description\":\"巡查发现井盖缺失\"}",
                   GF_E_MISSING_FIELD);
    s_expect_json ("{" VALID_HEAD ",\"source\":\"patrol\",\"source_ref\":\"x8\","
                   "\"description\":\"巡查发现井盖缺失\",\"reporter\":\"P-NOBODY\"}",
                   GF_E_UNKNOWN_ACTOR);
}

static void test_unknown_special_group (void **state)
{
    s_expect_json ("{" VALID_HEAD ",\"source\":\"visit\",\"source_ref\":\"x9\","
                   "\"description\":\"走访\",\"reporter\":\"P-QNL.07.063-1\","
                   "\"groups\":[\"vip\"]}",
                   GF_E_BAD_VALUE);
}

static void test_action_on_unknown_case (void **state)
{
    s_expect_json ("{\"v\":1,\"type\":\"case.action\",\"id\":\"a1\",\"case\":987654,"
                   "\"action\":\"sign\",\"actor\":\"P-QNL.07.063-1\",\"version\":1}",
                   GF_E_UNKNOWN_CASE);
    s_expect_json ("{\"v\":1,\"type\":\"case.action\",\"id\":\"a2\",\"case\":\"x\","
                   "\"action\":\"sign\",\"actor\":\"P-QNL.07.063-1\",\"version\":1}",
                   GF_E_WRONG_TYPE);
}

/*  Issue 13: 2^63-1 ms used to pass the codec and fail in the database as
    `internal`; now bad_value before the database, and the last ms of 9999
    is still stored. */
static void test_reported_at_out_of_range (void **state)
{
    s_expect_json ("{" VALID_HEAD ",\"source\":\"hotline\",\"source_ref\":\"t-max\","
                   "\"description\":\"路灯不亮\",\"reported_at\":9223372036854775807}",
                   GF_E_BAD_VALUE);
    s_expect_json ("{" VALID_HEAD ",\"source\":\"hotline\",\"source_ref\":\"t-10000\","
                   "\"description\":\"路灯不亮\",\"reported_at\":253402300800000}",
                   GF_E_BAD_VALUE);
    char id[] = "t-9999", source[] = "hotline", ref[] = "t-9999", text[] = "路灯不亮";
    gf_complaint_t c = {.id = id,
                        .source = source,
                        .source_ref = ref,
                        .description = text,
                        .reported_at = INT64_C (253402300799999)};
    gf_reply_t reply = {0};
    assert_int_equal (gf_client_submit (s_client, &c, &reply, 5000, 1), 0);
    assert_true (reply.ok);
    int64_t case_id = reply.case_id;
    gf_reply_reset (&reply);
    s_settle (case_id);
}

static void test_unknown_message_type (void **state)
{
    s_expect_json ("{\"v\":1,\"type\":\"complaint.delete\",\"id\":\"r9\"}", GF_E_UNKNOWN_TYPE);
}

static void test_intake_keeps_serving_after_bad_input (void **state)
{
    char *before = s_counts ();
    char id1[] = "ok-1", id2[] = "ok-2", source[] = "hotline", ref[] = "after-errors-1",
         text[] = "楼道灯坏了，晚上很黑", grid[] = "QNL.07.063";
    gf_complaint_t c = {
        .id = id1, .source = source, .source_ref = ref, .description = text, .grid = grid};
    gf_reply_t reply = {0};
    assert_int_equal (gf_client_submit (s_client, &c, &reply, 5000, 1), 0);
    assert_true (reply.ok);
    assert_false (reply.duplicate);
    assert_true (reply.case_id > 0);
    int64_t case_id = reply.case_id;
    gf_reply_reset (&reply);
    /* and is idempotent: the same (source, source_ref) returns the same case */
    c.id = id2;
    assert_int_equal (gf_client_submit (s_client, &c, &reply, 5000, 1), 0);
    assert_true (reply.ok);
    assert_true (reply.duplicate);
    assert_int_equal (reply.case_id, case_id);
    gf_reply_reset (&reply);
    char *after = s_counts ();
    assert_string_not_equal (before, after);
    free (before);
    free (after);
}

/*  Twins sent back to back usually land in one batch: exactly one is
    stored, both answers carry the same case id, the second is a duplicate. */
static void test_twin_requests_store_one_case (void **state)
{
    char id1[] = "twin-1", id2[] = "twin-2", source[] = "hotline", ref[] = "twin-ref",
         text[] = "同一通电话重复推送";
    gf_complaint_t c = {.id = id1, .source = source, .source_ref = ref, .description = text};
    zframe_t *first = gf_complaint_encode (&c);
    c.id = id2;
    zframe_t *second = gf_complaint_encode (&c);
    assert_int_equal (gf_client_send (s_client, first), 0);
    assert_int_equal (gf_client_send (s_client, second), 0);
    zframe_destroy (&first);
    zframe_destroy (&second);
    gf_reply_t a = {0}, b = {0};
    assert_int_equal (gf_client_recv (s_client, &a, 5000), 0);
    assert_int_equal (gf_client_recv (s_client, &b, 5000), 0);
    assert_true (a.ok && b.ok);
    assert_int_equal (a.case_id, b.case_id);
    assert_true (a.duplicate != b.duplicate);
    gf_reply_reset (&a);
    gf_reply_reset (&b);
    PGresult *res = gf_db_exec (
        s_db, "SELECT count (*) AS n FROM cases WHERE source_ref = 'twin-ref'", 0, NULL);
    assert_non_null (res);
    assert_string_equal (gf_db_get (res, 0, "n"), "1");
    PQclear (res);
}

int main (void)
{
    zsys_init ();
    zsys_set_logstream (stderr);
    const char *endpoint = getenv ("GF_INTAKE");
    const char *db = getenv ("GF_DB");
    if (!endpoint || !db) {
        fprintf (stderr, "GF_INTAKE and GF_DB must be set\n");
        return 2;
    }
    s_client = gf_client_new (endpoint);
    s_db = gf_db_new (db, "intake_errors");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_malformed_msgpack),
        cmocka_unit_test (test_missing_required_field),
        cmocka_unit_test (test_wrong_type),
        cmocka_unit_test (test_description_over_4000_characters),
        cmocka_unit_test (test_invalid_utf8),
        cmocka_unit_test (test_body_over_64_kib),
        cmocka_unit_test (test_unknown_grid_code),
        cmocka_unit_test (test_unknown_category),
        cmocka_unit_test (test_unknown_source),
        cmocka_unit_test (test_unknown_message_type),
        cmocka_unit_test (test_reported_at_out_of_range),
        cmocka_unit_test (test_patrol_needs_a_known_reporter),
        cmocka_unit_test (test_unknown_special_group),
        cmocka_unit_test (test_action_on_unknown_case),
        cmocka_unit_test (test_intake_keeps_serving_after_bad_input),
        cmocka_unit_test (test_twin_requests_store_one_case),
    };
    int failed = cmocka_run_group_tests_name ("intake_errors", tests, NULL, NULL);
    gf_db_destroy (&s_db);
    gf_client_destroy (&s_client);
    return failed ? 1 : 0;
}
