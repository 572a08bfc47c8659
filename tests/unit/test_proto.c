/*  test_proto.c — the wire format: strict decoding, every rejection code,
    message round trips, event encoding, JSON rendering, golden vectors.

    Run from the repository root (vectors are read from proto/vectors, or
    from $GF_VECTORS_DIR).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>

#include "gf_proto.h"
#include <jansson.h>
#include "../../proto/vectors/gf_vectors.inc"

//  Helpers ----------------------------------------------------------------

//  A packer writing into a fresh sbuffer, for bodies JSON cannot express.
typedef struct {
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
} s_body_t;

static void s_body_init (s_body_t *b)
{
    msgpack_sbuffer_init (&b->sbuf);
    msgpack_packer_init (&b->pk, &b->sbuf, msgpack_sbuffer_write);
}

static void s_pack_raw_str (s_body_t *b, const char *data, size_t size)
{
    msgpack_pack_str (&b->pk, size);
    msgpack_pack_str_body (&b->pk, data, size);
}

static void s_pack_cstr (s_body_t *b, const char *s)
{
    s_pack_raw_str (b, s, strlen (s));
}

//  Starts {v: 1, type: "test", ...} with room for `extra` more pairs.
static void s_body_start (s_body_t *b, size_t extra)
{
    s_body_init (b);
    msgpack_pack_map (&b->pk, 2 + extra);
    s_pack_cstr (b, "v");
    msgpack_pack_int (&b->pk, 1);
    s_pack_cstr (b, "type");
    s_pack_cstr (b, "test");
}

//  Decodes bytes and returns the code (GF_OK if they decoded).
static gf_code_t s_code_of (const void *data, size_t size)
{
    gf_error_t err = {GF_OK, ""};
    gf_msg_t *msg = gf_msg_decode (data, size, &err);
    if (msg) {
        assert_int_equal (err.code, GF_OK);
        gf_msg_destroy (&msg);
        assert_null (msg);
        return GF_OK;
    }
    assert_int_not_equal (err.code, GF_OK);
    assert_true (strlen (err.message) > 0);
    return err.code;
}

static gf_code_t s_code_of_body (s_body_t *b)
{
    gf_code_t code = s_code_of (b->sbuf.data, b->sbuf.size);
    msgpack_sbuffer_destroy (&b->sbuf);
    return code;
}

static gf_code_t s_code_of_json (const char *json)
{
    zframe_t *frame = gf_json_encode (json);
    assert_non_null (frame);
    gf_code_t code = s_code_of (zframe_data (frame), zframe_size (frame));
    zframe_destroy (&frame);
    return code;
}

static gf_msg_t *s_decode_json (const char *json)
{
    zframe_t *frame = gf_json_encode (json);
    assert_non_null (frame);
    gf_error_t err = {GF_OK, ""};
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    if (!msg)
        fail_msg ("decode failed: %s", err.message);
    zframe_destroy (&frame);
    return msg;
}

static bool s_contains (zframe_t *frame, const char *bytes, size_t size)
{
    for (size_t i = 0; i + size <= zframe_size (frame); i++)
        if (memcmp (zframe_data (frame) + i, bytes, size) == 0)
            return true;
    return false;
}

static char *s_repeat (const char *unit, size_t times)
{
    size_t len = strlen (unit);
    char *s = (char *)malloc (len * times + 1);
    assert_non_null (s);
    for (size_t i = 0; i < times; i++)
        memcpy (s + i * len, unit, len);
    s[len * times] = 0;
    return s;
}

static const char *s_complaint_base = "{\"v\":1,\"type\":\"complaint.submit\",\"id\":\"req-1\","
                                      "\"at\":1710120000000,\"source\":\"hotline\","
                                      "\"source_ref\":\"CALL-1\",\"description\":\"路灯不亮\"}";

//  Decodes the base complaint with `key` set to value (stolen) or removed
//  (value NULL), and returns the code.  A failure must leave c empty.
static gf_code_t s_complaint_code_set (const char *key, json_t *value, gf_error_t *err_out)
{
    json_t *root = json_loads (s_complaint_base, 0, NULL);
    assert_non_null (root);
    if (value)
        json_object_set_new (root, key, value);
    else
        json_object_del (root, key);
    char *text = json_dumps (root, JSON_COMPACT);
    json_decref (root);
    zframe_t *frame = gf_json_encode (text);
    free (text);
    assert_non_null (frame);

    gf_error_t err = {GF_OK, ""};
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    zframe_destroy (&frame);
    if (!msg) {
        if (err_out)
            *err_out = err;
        return err.code;
    }
    gf_complaint_t c;
    memset (&c, 0xA5, sizeof c); //  garbage: from_msg must not rely on it
    int rc = gf_complaint_from_msg (msg, &c, &err);
    gf_msg_destroy (&msg);
    if (err_out)
        *err_out = err;
    if (rc == 0) {
        gf_complaint_reset (&c);
        return GF_OK;
    }
    gf_complaint_t zero;
    memset (&zero, 0, sizeof zero);
    assert_memory_equal (&c, &zero, sizeof c);
    assert_int_not_equal (err.code, GF_OK);
    return err.code;
}

static gf_code_t s_complaint_code (const char *key, const char *value_json)
{
    json_t *value = NULL;
    if (value_json) {
        value = json_loads (value_json, JSON_DECODE_ANY, NULL);
        assert_non_null (value);
    }
    return s_complaint_code_set (key, value, NULL);
}

//  gf_msg_decode: malformed -------------------------------------------------

static void test_decode_rejects_garbage_bytes_as_malformed (void **state)
{
    (void)state;
    assert_int_equal (s_code_of ("\xc1", 1), GF_E_MALFORMED);
    assert_int_equal (s_code_of ("GET / HTTP/1.1\r\n", 16), GF_E_MALFORMED);
    assert_int_equal (s_code_of ("\x81\xa1v\xc1", 4), GF_E_MALFORMED);
}

static void test_decode_rejects_empty_body_as_malformed (void **state)
{
    (void)state;
    assert_int_equal (s_code_of ("", 0), GF_E_MALFORMED);
}

static void test_decode_rejects_truncated_map_as_malformed (void **state)
{
    (void)state;
    zframe_t *frame = gf_relay_hb_encode (1, 2);
    for (size_t cut = 1; cut < zframe_size (frame); cut++)
        assert_int_equal (s_code_of (zframe_data (frame), zframe_size (frame) - cut),
                          GF_E_MALFORMED);
    zframe_destroy (&frame);
    //  A map32 header claiming four billion pairs in five bytes.
    assert_int_equal (s_code_of ("\xdf\xff\xff\xff\xff", 5), GF_E_MALFORMED);
    //  A str32 claiming 4 GiB.
    assert_int_equal (s_code_of ("\x81\xa1v\xdb\xff\xff\xff\xff", 8), GF_E_MALFORMED);
}

static void test_decode_rejects_trailing_bytes_as_malformed (void **state)
{
    (void)state;
    zframe_t *frame = gf_relay_hb_encode (1, 2);
    size_t size = zframe_size (frame);
    byte *data = (byte *)malloc (size + 1);
    memcpy (data, zframe_data (frame), size);
    data[size] = 0xc0; //  a second value (nil) after the map
    assert_int_equal (s_code_of (data, size), GF_OK);
    assert_int_equal (s_code_of (data, size + 1), GF_E_MALFORMED);
    free (data);
    zframe_destroy (&frame);
}

//  too_large ----------------------------------------------------------------

static void test_decode_rejects_body_over_64k_as_too_large (void **state)
{
    (void)state;
    //  Garbage bytes: the size check must come before looking at them.
    size_t size = GF_MAX_BODY + 1;
    char *data = (char *)malloc (size);
    memset (data, 0xc1, size);
    assert_int_equal (s_code_of (data, size), GF_E_TOO_LARGE);
    free (data);
}

static void test_decode_accepts_body_of_exactly_64k (void **state)
{
    (void)state;
    char *chunk = s_repeat ("x", GF_MAX_STRING);
    size_t last = 16000;
    for (int attempt = 0; attempt < 2; attempt++) {
        s_body_t b;
        s_body_start (&b, 4);
        const char *keys[] = {"a", "b", "c", "d"};
        for (int i = 0; i < 4; i++) {
            s_pack_cstr (&b, keys[i]);
            s_pack_raw_str (&b, chunk, i < 3 ? GF_MAX_STRING : last);
        }
        if (attempt == 0) {
            last += GF_MAX_BODY - b.sbuf.size;
            msgpack_sbuffer_destroy (&b.sbuf);
            continue;
        }
        assert_int_equal (b.sbuf.size, GF_MAX_BODY);
        assert_int_equal (s_code_of_body (&b), GF_OK);
    }
    free (chunk);
}

//  too_deep -----------------------------------------------------------------

//  {v:1, type:"test", a: [[...[1]...]]} with the map at level 1 and
//  `arrays` nested arrays below it.
static gf_code_t s_code_of_depth (int arrays, bool truncate)
{
    s_body_t b;
    s_body_start (&b, 1);
    s_pack_cstr (&b, "a");
    for (int i = 0; i < arrays; i++)
        msgpack_pack_array (&b.pk, 1);
    msgpack_pack_int (&b.pk, 1);
    if (truncate)
        b.sbuf.size--;
    return s_code_of_body (&b);
}

static void test_decode_accepts_8_levels_rejects_9_as_too_deep (void **state)
{
    (void)state;
    assert_int_equal (s_code_of_depth (GF_MAX_DEPTH - 1, false), GF_OK);
    assert_int_equal (s_code_of_depth (GF_MAX_DEPTH, false), GF_E_TOO_DEEP);
}

static void test_decode_rejects_1000_levels_as_too_deep (void **state)
{
    (void)state;
    assert_int_equal (s_code_of_depth (1000, false), GF_E_TOO_DEEP);
}

static void test_decode_counts_empty_containers_as_levels (void **state)
{
    (void)state;
    s_body_t b;
    s_body_start (&b, 1);
    s_pack_cstr (&b, "a");
    for (int i = 0; i < GF_MAX_DEPTH - 1; i++)
        msgpack_pack_array (&b.pk, 1);
    msgpack_pack_map (&b.pk, 0); //  level 9
    assert_int_equal (s_code_of_body (&b), GF_E_TOO_DEEP);
}

static void test_decode_depth_returns_after_sibling_containers (void **state)
{
    (void)state;
    //  Many shallow siblings must not add up to depth.
    zframe_t *frame = gf_json_encode ("{\"v\":1,\"type\":\"t\",\"a\":[[1],[2],{\"b\":[3]}],"
                                      "\"c\":[[[[[[[1]]]]]]],\"d\":{\"e\":[]}}");
    assert_int_equal (s_code_of (zframe_data (frame), zframe_size (frame)), GF_OK);
    zframe_destroy (&frame);
}

static void test_decode_reports_malformed_before_too_deep (void **state)
{
    (void)state;
    assert_int_equal (s_code_of_depth (20, true), GF_E_MALFORMED);
}

//  not_a_map ----------------------------------------------------------------

static void test_decode_rejects_array_top_as_not_a_map (void **state)
{
    (void)state;
    assert_int_equal (s_code_of ("\x92\x01\x02", 3), GF_E_NOT_MAP);
    assert_int_equal (s_code_of ("\x01", 1), GF_E_NOT_MAP);
    assert_int_equal (s_code_of ("\xa2hi", 3), GF_E_NOT_MAP);
}

static void test_decode_rejects_int_key_as_not_a_map (void **state)
{
    (void)state;
    s_body_t b;
    s_body_start (&b, 1);
    msgpack_pack_int (&b.pk, 7);
    s_pack_cstr (&b, "seven");
    assert_int_equal (s_code_of_body (&b), GF_E_NOT_MAP);
}

static void test_decode_rejects_int_key_in_nested_map_as_not_a_map (void **state)
{
    (void)state;
    s_body_t b;
    s_body_start (&b, 1);
    s_pack_cstr (&b, "nested");
    msgpack_pack_map (&b.pk, 1);
    msgpack_pack_nil (&b.pk);
    msgpack_pack_int (&b.pk, 1);
    assert_int_equal (s_code_of_body (&b), GF_E_NOT_MAP);
}

static void test_decode_rejects_duplicate_key_as_not_a_map (void **state)
{
    (void)state;
    s_body_t b;
    s_body_start (&b, 1);
    s_pack_cstr (&b, "type"); //  a second `type`: which one is meant?
    s_pack_cstr (&b, "other");
    assert_int_equal (s_code_of_body (&b), GF_E_NOT_MAP);
}

//  too_long (envelope: 16 KiB per string) -----------------------------------

static gf_code_t s_code_of_unknown_str (size_t size)
{
    char *s = s_repeat ("x", size);
    s_body_t b;
    s_body_start (&b, 1);
    s_pack_cstr (&b, "note");
    s_pack_raw_str (&b, s, size);
    free (s);
    return s_code_of_body (&b);
}

static void test_decode_rejects_16k_plus_1_string_in_unknown_key_as_too_long (void **state)
{
    (void)state;
    assert_int_equal (s_code_of_unknown_str (GF_MAX_STRING), GF_OK);
    assert_int_equal (s_code_of_unknown_str (GF_MAX_STRING + 1), GF_E_TOO_LONG);
}

static void test_decode_rejects_16k_plus_1_key_as_too_long (void **state)
{
    (void)state;
    char *key = s_repeat ("k", GF_MAX_STRING + 1);
    s_body_t b;
    s_body_start (&b, 1);
    s_pack_cstr (&b, key);
    msgpack_pack_true (&b.pk);
    free (key);
    assert_int_equal (s_code_of_body (&b), GF_E_TOO_LONG);
}

static void test_decode_rejects_long_string_nested_in_array_as_too_long (void **state)
{
    (void)state;
    char *s = s_repeat ("y", GF_MAX_STRING + 1);
    s_body_t b;
    s_body_start (&b, 1);
    s_pack_cstr (&b, "list");
    msgpack_pack_array (&b.pk, 2);
    s_pack_cstr (&b, "short");
    s_pack_cstr (&b, s);
    free (s);
    gf_error_t err;
    assert_null (gf_msg_decode (b.sbuf.data, b.sbuf.size, &err));
    assert_int_equal (err.code, GF_E_TOO_LONG);
    assert_non_null (strstr (err.message, "'list'"));
    msgpack_sbuffer_destroy (&b.sbuf);
}

static void test_decode_accepts_binary_without_utf8_check (void **state)
{
    (void)state;
    s_body_t b;
    s_body_start (&b, 1);
    s_pack_cstr (&b, "blob");
    msgpack_pack_bin (&b.pk, 4);
    msgpack_pack_bin_body (&b.pk, "\xff\xfe\x00\xc0", 4);
    assert_int_equal (s_code_of_body (&b), GF_OK);
}

static void test_decode_rejects_binary_over_16k_as_too_long (void **state)
{
    (void)state;
    char *s = s_repeat ("z", GF_MAX_STRING + 1);
    s_body_t b;
    s_body_start (&b, 1);
    s_pack_cstr (&b, "blob");
    msgpack_pack_bin (&b.pk, GF_MAX_STRING + 1);
    msgpack_pack_bin_body (&b.pk, s, GF_MAX_STRING + 1);
    free (s);
    assert_int_equal (s_code_of_body (&b), GF_E_TOO_LONG);
}

//  invalid_utf8 -------------------------------------------------------------

static gf_code_t s_code_of_raw_value (const char *bytes, size_t size)
{
    s_body_t b;
    s_body_start (&b, 1);
    s_pack_cstr (&b, "note");
    s_pack_raw_str (&b, bytes, size);
    return s_code_of_body (&b);
}

static void test_decode_rejects_bad_continuation_as_invalid_utf8 (void **state)
{
    (void)state;
    assert_int_equal (s_code_of_raw_value ("\xe8\xb7", 2), GF_E_INVALID_UTF8);     //  cut short
    assert_int_equal (s_code_of_raw_value ("\xe8\x41\xaf", 3), GF_E_INVALID_UTF8); //  'A' inside
    assert_int_equal (s_code_of_raw_value ("a\x80z", 3), GF_E_INVALID_UTF8);       //  lone
}

static void test_decode_rejects_overlong_as_invalid_utf8 (void **state)
{
    (void)state;
    assert_int_equal (s_code_of_raw_value ("\xc0\xaf", 2), GF_E_INVALID_UTF8); //  '/'
    assert_int_equal (s_code_of_raw_value ("\xe0\x80\xaf", 3), GF_E_INVALID_UTF8);
    assert_int_equal (s_code_of_raw_value ("\xf0\x80\x80\xaf", 4), GF_E_INVALID_UTF8);
}

static void test_decode_rejects_surrogate_as_invalid_utf8 (void **state)
{
    (void)state;
    assert_int_equal (s_code_of_raw_value ("\xed\xa0\x80", 3), GF_E_INVALID_UTF8);
    assert_int_equal (s_code_of_raw_value ("\xed\xbf\xbf", 3), GF_E_INVALID_UTF8);
}

static void test_decode_rejects_code_point_above_10ffff_as_invalid_utf8 (void **state)
{
    (void)state;
    assert_int_equal (s_code_of_raw_value ("\xf4\x90\x80\x80", 4), GF_E_INVALID_UTF8);
    assert_int_equal (s_code_of_raw_value ("\xf5\x80\x80\x80", 4), GF_E_INVALID_UTF8);
}

static void test_decode_rejects_invalid_utf8_in_key (void **state)
{
    (void)state;
    s_body_t b;
    s_body_start (&b, 1);
    s_pack_raw_str (&b, "k\xff", 2);
    msgpack_pack_true (&b.pk);
    gf_error_t err;
    assert_null (gf_msg_decode (b.sbuf.data, b.sbuf.size, &err));
    assert_int_equal (err.code, GF_E_INVALID_UTF8);
    //  The message itself must be valid UTF-8: it goes into the reply.
    assert_true (gf_utf8_count (err.message, strlen (err.message)) >= 0);
    msgpack_sbuffer_destroy (&b.sbuf);
}

//  A body with a string not UTF-8 and one too long, and, when dup, a key
//  twice.  One pass finds that a body has faults (proto/gf_msg.c); the
//  code reported is still the first pass's: shape, then length, then UTF-8.
static gf_code_t s_code_of_faults (bool dup)
{
    char *s = s_repeat ("x", GF_MAX_STRING + 1);
    s_body_t b;
    s_body_start (&b, dup ? 3 : 2);
    s_pack_cstr (&b, "bad");
    s_pack_raw_str (&b, "\xff", 1);
    s_pack_cstr (&b, "long");
    s_pack_cstr (&b, s);
    if (dup) {
        s_pack_cstr (&b, "bad");
        msgpack_pack_true (&b.pk);
    }
    free (s);
    return s_code_of_body (&b);
}

static void test_decode_reports_too_long_before_invalid_utf8 (void **state)
{
    (void)state;
    assert_int_equal (s_code_of_faults (false), GF_E_TOO_LONG);
    assert_int_equal (s_code_of_faults (true), GF_E_NOT_MAP);
}

//  Common keys ----------------------------------------------------------------

static void test_decode_rejects_missing_v_as_missing_field (void **state)
{
    (void)state;
    assert_int_equal (s_code_of_json ("{\"type\":\"t\"}"), GF_E_MISSING_FIELD);
    assert_int_equal (s_code_of_json ("{\"v\":null,\"type\":\"t\"}"), GF_E_MISSING_FIELD);
}

static void test_decode_rejects_mistyped_v_as_wrong_type (void **state)
{
    (void)state;
    assert_int_equal (s_code_of_json ("{\"v\":\"1\",\"type\":\"t\"}"), GF_E_WRONG_TYPE);
    assert_int_equal (s_code_of_json ("{\"v\":1.0,\"type\":\"t\"}"), GF_E_WRONG_TYPE);
    assert_int_equal (s_code_of_json ("{\"v\":true,\"type\":\"t\"}"), GF_E_WRONG_TYPE);
}

static void test_decode_rejects_other_version_as_unsupported_version (void **state)
{
    (void)state;
    assert_int_equal (s_code_of_json ("{\"v\":2,\"type\":\"t\"}"), GF_E_UNSUPPORTED_VERSION);
    assert_int_equal (s_code_of_json ("{\"v\":0,\"type\":\"t\"}"), GF_E_UNSUPPORTED_VERSION);
    assert_int_equal (s_code_of_json ("{\"v\":-1,\"type\":\"t\"}"), GF_E_UNSUPPORTED_VERSION);
}

static void test_decode_rejects_missing_type_as_missing_field (void **state)
{
    (void)state;
    assert_int_equal (s_code_of_json ("{\"v\":1}"), GF_E_MISSING_FIELD);
}

static void test_decode_rejects_mistyped_type_as_wrong_type (void **state)
{
    (void)state;
    assert_int_equal (s_code_of_json ("{\"v\":1,\"type\":7}"), GF_E_WRONG_TYPE);
}

static void test_decode_rejects_empty_type_as_bad_value (void **state)
{
    (void)state;
    assert_int_equal (s_code_of_json ("{\"v\":1,\"type\":\"\"}"), GF_E_BAD_VALUE);
}

static void test_decode_limits_type_to_64_chars (void **state)
{
    (void)state;
    char *type = s_repeat ("类", 64);
    char json[512];
    snprintf (json, sizeof json, "{\"v\":1,\"type\":\"%s\"}", type);
    assert_int_equal (s_code_of_json (json), GF_OK);
    snprintf (json, sizeof json, "{\"v\":1,\"type\":\"%sx\"}", type);
    assert_int_equal (s_code_of_json (json), GF_E_TOO_LONG);
    free (type);
}

static void test_decode_checks_id_and_at_types (void **state)
{
    (void)state;
    assert_int_equal (s_code_of_json ("{\"v\":1,\"type\":\"t\",\"id\":5}"), GF_E_WRONG_TYPE);
    assert_int_equal (s_code_of_json ("{\"v\":1,\"type\":\"t\",\"at\":\"now\"}"), GF_E_WRONG_TYPE);
    assert_int_equal (s_code_of_json ("{\"v\":1,\"type\":\"t\",\"at\":1.5}"), GF_E_WRONG_TYPE);
    char *id = s_repeat ("i", GF_MAX_REF + 1);
    char json[512];
    snprintf (json, sizeof json, "{\"v\":1,\"type\":\"t\",\"id\":\"%s\"}", id);
    assert_int_equal (s_code_of_json (json), GF_E_TOO_LONG);
    free (id);
}

static void test_decode_exposes_common_keys (void **state)
{
    (void)state;
    gf_msg_t *msg = s_decode_json ("{\"v\":1,\"type\":\"t.x\",\"id\":\"abc\",\"at\":-5}");
    assert_string_equal (gf_msg_type (msg), "t.x");
    assert_string_equal (gf_msg_id (msg), "abc");
    assert_int_equal (gf_msg_at (msg), -5);
    gf_msg_destroy (&msg);
    msg = s_decode_json ("{\"v\":1,\"type\":\"t\"}");
    assert_null (gf_msg_id (msg));
    assert_int_equal (gf_msg_at (msg), 0);
    gf_msg_destroy (&msg);
    gf_msg_destroy (&msg); //  idempotent
}

static void test_decode_ignores_unknown_keys (void **state)
{
    (void)state;
    assert_int_equal (s_code_of_json ("{\"v\":1,\"type\":\"t\",\"future\":{\"x\":[1,2.5,null]},"
                                      "\"also\":false}"),
                      GF_OK);
    json_t *extra = json_object ();
    json_object_set_new (extra, "nested", json_string ("later"));
    assert_int_equal (s_complaint_code_set ("v2_field", extra, NULL), GF_OK);
}

static void test_decode_fills_err_null_safely (void **state)
{
    (void)state;
    assert_null (gf_msg_decode ("\xc1", 1, NULL));
}

//  Typed getters --------------------------------------------------------------

static void test_get_int_accepts_positive_and_negative_rejects_float (void **state)
{
    (void)state;
    gf_msg_t *msg = s_decode_json ("{\"v\":1,\"type\":\"t\",\"p\":9007199254740993,\"n\":-3,"
                                   "\"f\":1.0,\"z\":null}");
    gf_error_t err;
    int64_t value = 42;
    assert_int_equal (gf_msg_get_int (msg, "p", true, &value, &err), 0);
    assert_int_equal (value, 9007199254740993LL);
    assert_int_equal (gf_msg_get_int (msg, "n", true, &value, &err), 0);
    assert_int_equal (value, -3);
    assert_int_equal (gf_msg_get_int (msg, "f", true, &value, &err), -1);
    assert_int_equal (err.code, GF_E_WRONG_TYPE);
    value = 42;
    assert_int_equal (gf_msg_get_int (msg, "absent", false, &value, &err), 1);
    assert_int_equal (gf_msg_get_int (msg, "z", false, &value, &err), 1); //  nil = absent
    assert_int_equal (value, 42);
    assert_int_equal (gf_msg_get_int (msg, "absent", true, &value, &err), -1);
    assert_int_equal (err.code, GF_E_MISSING_FIELD);
    assert_non_null (strstr (err.message, "'absent'"));
    gf_msg_destroy (&msg);
}

static void test_get_int_rejects_uint64_beyond_int64_as_bad_value (void **state)
{
    (void)state;
    s_body_t b;
    s_body_start (&b, 1);
    s_pack_cstr (&b, "big");
    msgpack_pack_uint64 (&b.pk, UINT64_MAX);
    gf_msg_t *msg = gf_msg_decode (b.sbuf.data, b.sbuf.size, NULL);
    msgpack_sbuffer_destroy (&b.sbuf);
    assert_non_null (msg);
    gf_error_t err;
    int64_t i;
    uint64_t u;
    assert_int_equal (gf_msg_get_int (msg, "big", true, &i, &err), -1);
    assert_int_equal (err.code, GF_E_BAD_VALUE);
    assert_int_equal (gf_msg_get_uint (msg, "big", true, &u, &err), 0);
    assert_true (u == UINT64_MAX);
    gf_msg_destroy (&msg);
}

static void test_get_uint_rejects_negative_as_bad_value (void **state)
{
    (void)state;
    gf_msg_t *msg = s_decode_json ("{\"v\":1,\"type\":\"t\",\"n\":-1,\"s\":\"1\"}");
    gf_error_t err;
    uint64_t value;
    assert_int_equal (gf_msg_get_uint (msg, "n", true, &value, &err), -1);
    assert_int_equal (err.code, GF_E_BAD_VALUE);
    assert_int_equal (gf_msg_get_uint (msg, "s", true, &value, &err), -1);
    assert_int_equal (err.code, GF_E_WRONG_TYPE);
    gf_msg_destroy (&msg);
}

static void test_get_bool_rejects_int (void **state)
{
    (void)state;
    gf_msg_t *msg = s_decode_json ("{\"v\":1,\"type\":\"t\",\"b\":1,\"t\":true}");
    gf_error_t err;
    bool value = false;
    assert_int_equal (gf_msg_get_bool (msg, "b", true, &value, &err), -1);
    assert_int_equal (err.code, GF_E_WRONG_TYPE);
    assert_int_equal (gf_msg_get_bool (msg, "t", true, &value, &err), 0);
    assert_true (value);
    gf_msg_destroy (&msg);
}

static void test_get_str_counts_code_points_not_bytes (void **state)
{
    (void)state;
    gf_msg_t *msg = s_decode_json ("{\"v\":1,\"type\":\"t\",\"s\":\"路灯不亮\"}");
    gf_error_t err;
    char *value = NULL;
    assert_int_equal (gf_msg_get_str (msg, "s", true, 4, &value, &err), 0);
    assert_string_equal (value, "路灯不亮");
    free (value);
    value = NULL;
    assert_int_equal (gf_msg_get_str (msg, "s", true, 3, &value, &err), -1);
    assert_int_equal (err.code, GF_E_TOO_LONG);
    assert_string_equal (err.message, "field 's' is 4 characters, limit 3");
    assert_null (value);
    gf_msg_destroy (&msg);
}

static void test_get_str_rejects_embedded_nul_as_bad_value (void **state)
{
    (void)state;
    s_body_t b;
    s_body_start (&b, 1);
    s_pack_cstr (&b, "s");
    s_pack_raw_str (&b, "a\0b", 3);
    gf_msg_t *msg = gf_msg_decode (b.sbuf.data, b.sbuf.size, NULL);
    msgpack_sbuffer_destroy (&b.sbuf);
    assert_non_null (msg);
    gf_error_t err;
    char *value = NULL;
    assert_int_equal (gf_msg_get_str (msg, "s", true, 0, &value, &err), -1);
    assert_int_equal (err.code, GF_E_BAD_VALUE);
    gf_msg_destroy (&msg);
}

//  complaint.submit -----------------------------------------------------------

static void test_complaint_accepts_minimal (void **state)
{
    (void)state;
    gf_msg_t *msg = s_decode_json (s_complaint_base);
    gf_complaint_t c;
    gf_error_t err;
    assert_int_equal (gf_complaint_from_msg (msg, &c, &err), 0);
    assert_string_equal (c.id, "req-1");
    assert_int_equal (c.at, 1710120000000);
    assert_string_equal (c.source, "hotline");
    assert_string_equal (c.source_ref, "CALL-1");
    assert_string_equal (c.description, "路灯不亮");
    assert_null (c.category);
    assert_null (c.grid);
    assert_null (c.address);
    assert_null (c.name);
    assert_null (c.phone);
    assert_false (c.urgent);
    assert_int_equal (c.reported_at, 0);
    gf_complaint_reset (&c);
    assert_null (c.id);
    gf_msg_destroy (&msg);
}

static void test_complaint_rejects_other_type_as_unknown_type (void **state)
{
    (void)state;
    assert_int_equal (s_complaint_code ("type", "\"complaint.withdraw\""), GF_E_UNKNOWN_TYPE);
}

static void test_complaint_rejects_each_missing_required_field (void **state)
{
    (void)state;
    const char *required[] = {"id", "source", "source_ref", "description"};
    for (size_t i = 0; i < 4; i++) {
        gf_error_t err;
        assert_int_equal (s_complaint_code_set (required[i], NULL, &err), GF_E_MISSING_FIELD);
        assert_non_null (strstr (err.message, required[i]));
        assert_int_equal (s_complaint_code (required[i], "null"), GF_E_MISSING_FIELD);
    }
}

static void test_complaint_rejects_each_mistyped_field (void **state)
{
    (void)state;
    struct {
        const char *key;
        const char *value;
    } cases[] = {
        {"id", "17"},           {"source", "1"},         {"source_ref", "[\"a\"]"},
        {"description", "{}"},  {"category", "3"},       {"grid", "true"},
        {"address", "1.5"},     {"name", "[]"},          {"phone", "13812341234"},
        {"urgent", "1"},        {"urgent", "\"yes\""},   {"reported_at", "\"2024\""},
        {"reported_at", "1.5"}, {"at", "\"yesterday\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gf_error_t err;
        json_t *value = json_loads (cases[i].value, JSON_DECODE_ANY, NULL);
        assert_int_equal (s_complaint_code_set (cases[i].key, value, &err), GF_E_WRONG_TYPE);
        assert_non_null (strstr (err.message, cases[i].key));
    }
}

static void test_complaint_limits_each_field_in_characters (void **state)
{
    (void)state;
    struct {
        const char *key;
        size_t limit;
    } cases[] = {
        {"id", GF_MAX_REF},      {"source_ref", GF_MAX_REF},  {"category", GF_MAX_CODE},
        {"grid", GF_MAX_CODE},   {"address", GF_MAX_ADDRESS}, {"name", GF_MAX_NAME},
        {"phone", GF_MAX_PHONE}, {"source", GF_MAX_SOURCE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *at_limit = s_repeat ("号", cases[i].limit);
        char *over = s_repeat ("号", cases[i].limit + 1);
        //  source at its limit is well-formed but not a known source.
        gf_code_t at_limit_code = streq (cases[i].key, "source") ? GF_E_BAD_VALUE : GF_OK;
        assert_int_equal (s_complaint_code_set (cases[i].key, json_string (at_limit), NULL),
                          at_limit_code);
        gf_error_t err;
        assert_int_equal (s_complaint_code_set (cases[i].key, json_string (over), &err),
                          GF_E_TOO_LONG);
        assert_non_null (strstr (err.message, cases[i].key));
        free (at_limit);
        free (over);
    }
}

static void test_complaint_rejects_4001_chinese_chars_accepts_4000 (void **state)
{
    (void)state;
    char *text = s_repeat ("灯", GF_MAX_DESCRIPTION); //  3 bytes each: 12000 bytes
    assert_int_equal (s_complaint_code_set ("description", json_string (text), NULL), GF_OK);
    free (text);
    text = s_repeat ("灯", GF_MAX_DESCRIPTION + 1);
    gf_error_t err;
    assert_int_equal (s_complaint_code_set ("description", json_string (text), &err),
                      GF_E_TOO_LONG);
    assert_string_equal (err.message, "field 'description' is 4001 characters, limit 4000");
    free (text);
}

static void test_complaint_rejects_unknown_source_as_bad_value (void **state)
{
    (void)state;
    assert_int_equal (s_complaint_code ("source", "\"fax\""), GF_E_BAD_VALUE);
    assert_int_equal (s_complaint_code ("source", "\"Hotline\""), GF_E_BAD_VALUE);
    const char *known[] = {"hotline", "suggestbox", "web", "app"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal (s_complaint_code_set ("source", json_string (known[i]), NULL), GF_OK);
}

static gf_code_t s_decode_complaint_json (const char *json, gf_complaint_t *c)
{
    zframe_t *frame = gf_json_encode (json);
    assert_non_null (frame);
    gf_error_t err = {GF_OK, ""};
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    assert_non_null (msg);
    if (gf_complaint_from_msg (msg, c, &err) == 0)
        err.code = GF_OK;
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
    return err.code;
}

#define COMPLAINT_HEAD "\"v\":1,\"type\":\"complaint.submit\",\"id\":\"r\",\"source_ref\":\"p1\","

static void test_complaint_patrol_and_visit_need_a_reporter (void **state)
{
    (void)state;
    gf_complaint_t c;
    assert_int_equal (s_decode_complaint_json ("{" COMPLAINT_HEAD "\"source\":\"patrol\","
                                               "\"description\":\"楼道堆物\"}",
                                               &c),
                      GF_E_MISSING_FIELD);
    assert_int_equal (s_decode_complaint_json ("{" COMPLAINT_HEAD "\"source\":\"visit\","
                                               "\"description\":\"独居老人\"}",
                                               &c),
                      GF_E_MISSING_FIELD);
    assert_int_equal (s_decode_complaint_json (
                          "{" COMPLAINT_HEAD "\"source\":\"visit\",\"description\":"
                          "\"独居老人需要帮助\",\"reporter\":\"P-QNL.07.063-1\","
                          "\"household\":\"西街村3组12号\",\"groups\":[\"dibao\",\"disabled\"]}",
                          &c),
                      GF_OK);
    assert_string_equal (c.reporter, "P-QNL.07.063-1");
    assert_string_equal (c.household, "西街村3组12号");
    assert_string_equal (c.groups, "dibao,disabled");
    /* and it survives a round trip */
    zframe_t *frame = gf_complaint_encode (&c);
    gf_complaint_t back;
    gf_error_t err;
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    assert_int_equal (gf_complaint_from_msg (msg, &back, &err), 0);
    assert_string_equal (back.groups, "dibao,disabled");
    assert_string_equal (back.reporter, c.reporter);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
    gf_complaint_reset (&back);
    gf_complaint_reset (&c);
}

static void test_complaint_rejects_unknown_or_malformed_groups (void **state)
{
    (void)state;
    gf_complaint_t c;
    assert_int_equal (s_decode_complaint_json ("{" COMPLAINT_HEAD "\"source\":\"hotline\","
                                               "\"description\":\"x\",\"groups\":[\"vip\"]}",
                                               &c),
                      GF_E_BAD_VALUE);
    assert_int_equal (s_decode_complaint_json ("{" COMPLAINT_HEAD "\"source\":\"hotline\","
                                               "\"description\":\"x\",\"groups\":\"dibao\"}",
                                               &c),
                      GF_E_WRONG_TYPE);
    assert_int_equal (s_decode_complaint_json ("{" COMPLAINT_HEAD "\"source\":\"hotline\","
                                               "\"description\":\"x\",\"groups\":[\"dibao,x\"]}",
                                               &c),
                      GF_E_BAD_VALUE);
    assert_int_equal (s_decode_complaint_json ("{" COMPLAINT_HEAD "\"source\":\"hotline\","
                                               "\"description\":\"x\",\"groups\":[1]}",
                                               &c),
                      GF_E_WRONG_TYPE);
}

/*  attachment.add: a body over 64 KiB decodes only with its own limits;
    round trip; the type is read from the bytes. */
static void test_attachment_limits_round_trip_and_sniff (void **state)
{
    (void)state;
    size_t size = 100000;
    unsigned char *bytes = (unsigned char *)calloc (1, size);
    memcpy (bytes, "\xff\xd8\xff\xe0", 4);
    char id[] = "att-1", actor[] = "P-QNL.07.063-1", name[] = "photo.jpg";
    gf_attachment_t a = {.id = id,
                         .case_id = 7,
                         .actor = actor,
                         .filename = name,
                         .public = true,
                         .data = bytes,
                         .size = size};
    zframe_t *frame = gf_attachment_encode (&a);
    gf_error_t err;
    assert_null (gf_msg_decode (zframe_data (frame), zframe_size (frame), &err));
    assert_int_equal (err.code, GF_E_TOO_LARGE);
    char *type = gf_msg_peek_type (zframe_data (frame), zframe_size (frame));
    assert_string_equal (type, GF_TYPE_ATTACHMENT_ADD);
    free (type);
    assert_null (
        gf_msg_decode_limits (zframe_data (frame), zframe_size (frame), 200000, 50000, &err));
    assert_int_equal (err.code, GF_E_TOO_LONG);
    gf_msg_t *msg =
        gf_msg_decode_limits (zframe_data (frame), zframe_size (frame), 200000, 200000, &err);
    assert_non_null (msg);
    gf_attachment_t back;
    assert_int_equal (gf_attachment_from_msg (msg, &back, &err), 0);
    assert_int_equal (back.case_id, 7);
    assert_true (back.public);
    assert_int_equal (back.size, size);
    assert_memory_equal (back.data, bytes, size);
    assert_string_equal (gf_attachment_sniff (back.data, back.size), "image/jpeg");
    gf_attachment_reset (&back);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
    free (bytes);
    assert_string_equal (gf_attachment_sniff ("\x89PNG\r\n\x1a\n", 8), "image/png");
    assert_string_equal (gf_attachment_sniff ("RIFF\0\0\0\0WEBPVP8 ", 16), "image/webp");
    assert_string_equal (gf_attachment_sniff ("%PDF-1.7", 8), "application/pdf");
    assert_null (gf_attachment_sniff ("GIF89a", 6));
    assert_null (gf_attachment_sniff ("\xff\xd8", 2));
    /* a path in the filename is refused */
    char bad_name[] = "../etc/passwd";
    unsigned char pdf[] = "%PDF-";
    gf_attachment_t b = {
        .id = id, .case_id = 7, .actor = actor, .filename = bad_name, .data = pdf, .size = 5};
    frame = gf_attachment_encode (&b);
    msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    assert_non_null (msg);
    assert_int_equal (gf_attachment_from_msg (msg, &back, &err), -1);
    assert_int_equal (err.code, GF_E_BAD_VALUE);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
}

static void test_action_round_trip_and_rejections (void **state)
{
    (void)state;
    char id[] = "a1", action[] = "callback", actor[] = "P-QNL.07.063-1", note[] = "居民满意";
    gf_action_t a = {.id = id,
                     .at = 5,
                     .case_id = 42,
                     .action = action,
                     .actor = actor,
                     .version = 3,
                     .note = note,
                     .satisfied = 1,
                     .urgent = -1};
    zframe_t *frame = gf_action_encode (&a);
    gf_error_t err;
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    assert_non_null (msg);
    gf_action_t back;
    assert_int_equal (gf_action_from_msg (msg, &back, &err), 0);
    assert_int_equal (back.case_id, 42);
    assert_int_equal (back.version, 3);
    assert_int_equal (back.satisfied, 1);
    assert_int_equal (back.urgent, -1);
    assert_int_equal (back.into, 0);
    assert_string_equal (back.note, "居民满意");
    assert_null (back.department);
    assert_null (back.category);
    assert_null (back.reason);
    gf_action_reset (&back);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);

    /* classify's category and reject's reason travel too */
    char category[] = "water", reason[] = "out_of_jurisdiction";
    a.category = category;
    a.reason = reason;
    frame = gf_action_encode (&a);
    msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    assert_non_null (msg);
    assert_int_equal (gf_action_from_msg (msg, &back, &err), 0);
    assert_string_equal (back.category, "water");
    assert_string_equal (back.reason, "out_of_jurisdiction");
    gf_action_reset (&back);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);

    const char *bad[][2] = {
        {"{\"v\":1,\"type\":\"case.action\",\"id\":\"a\",\"action\":\"sign\",\"actor\":\"p\","
         "\"version\":1}",
         "missing_field"},
        {"{\"v\":1,\"type\":\"case.action\",\"id\":\"a\",\"case\":\"7\",\"action\":\"sign\","
         "\"actor\":\"p\",\"version\":1}",
         "wrong_type"},
        {"{\"v\":1,\"type\":\"case.action\",\"id\":\"a\",\"case\":7,\"action\":\"sign\",\"actor\":"
         "\"p\",\"version\":0}",
         "bad_value"},
        {"{\"v\":1,\"type\":\"case.action\",\"id\":\"a\",\"case\":7,\"action\":\"sign\",\"actor\":"
         "\"p\",\"version\":1,\"satisfied\":\"yes\"}",
         "wrong_type"},
        {"{\"v\":1,\"type\":\"case.action\",\"id\":\"a\",\"case\":7,\"action\":\"reject\","
         "\"actor\":\"p\",\"version\":1,\"reason\":3}",
         "wrong_type"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        frame = gf_json_encode (bad[i][0]);
        msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
        assert_non_null (msg);
        assert_int_equal (gf_action_from_msg (msg, &back, &err), -1);
        assert_string_equal (gf_code_name (err.code), bad[i][1]);
        assert_null (back.action);
        gf_msg_destroy (&msg);
        zframe_destroy (&frame);
    }
}

static void test_reply_carries_state_and_version (void **state)
{
    (void)state;
    char id[] = "r", st[] = "signed", msgtext[] = "case changed";
    gf_reply_t r = {.id = id,
                    .ok = false,
                    .code = GF_E_CONFLICT,
                    .message = msgtext,
                    .state = st,
                    .version = 4};
    zframe_t *frame = gf_reply_encode (&r);
    gf_reply_t back;
    gf_error_t err;
    assert_int_equal (gf_reply_decode (zframe_data (frame), zframe_size (frame), &back, &err), 0);
    assert_int_equal (back.code, GF_E_CONFLICT);
    assert_string_equal (back.state, "signed");
    assert_int_equal (back.version, 4);
    gf_reply_reset (&back);
    zframe_destroy (&frame);
}

static void test_complaint_rejects_empty_description_as_bad_value (void **state)
{
    (void)state;
    assert_int_equal (s_complaint_code ("description", "\"\""), GF_E_BAD_VALUE);
}

static void test_complaint_rejects_blank_description_as_bad_value (void **state)
{
    (void)state;
    assert_int_equal (s_complaint_code ("description", "\" \\t\\r\\n\""), GF_E_BAD_VALUE);
    //  U+3000 ideographic space, U+00A0, U+200B.
    assert_int_equal (s_complaint_code ("description", "\"\\u3000\\u00a0\\u200b\""),
                      GF_E_BAD_VALUE);
    assert_int_equal (s_complaint_code ("description", "\"\\u3000x\""), GF_OK);
}

static void test_complaint_rejects_empty_required_strings_as_bad_value (void **state)
{
    (void)state;
    assert_int_equal (s_complaint_code ("id", "\"\""), GF_E_BAD_VALUE);
    assert_int_equal (s_complaint_code ("source", "\"\""), GF_E_BAD_VALUE);
    assert_int_equal (s_complaint_code ("source_ref", "\"\""), GF_E_BAD_VALUE);
}

static void test_complaint_rejects_negative_reported_at_as_bad_value (void **state)
{
    (void)state;
    assert_int_equal (s_complaint_code ("reported_at", "-1"), GF_E_BAD_VALUE);
    assert_int_equal (s_complaint_code ("reported_at", "0"), GF_OK);
}

/*  Issue 13: 2^63-1 ms passed the codec and failed in the database as
    `internal`; the codec now refuses anything after 9999-12-31. */
static void test_complaint_rejects_reported_at_after_year_9999_as_bad_value (void **state)
{
    (void)state;
    assert_int_equal (s_complaint_code ("reported_at", "9223372036854775807"), GF_E_BAD_VALUE);
    assert_int_equal (s_complaint_code ("reported_at", "253402300800000"), GF_E_BAD_VALUE);
    assert_int_equal (s_complaint_code ("reported_at", "253402300799999"), GF_OK);
    assert_int_equal (GF_MAX_TIME_MS, INT64_C (253402300799999));
}

static void test_complaint_treats_null_optionals_as_absent (void **state)
{
    (void)state;
    const char *optional[] = {"category", "grid",   "address",    "name",
                              "phone",    "urgent", "reported_at"};
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++)
        assert_int_equal (s_complaint_code (optional[i], "null"), GF_OK);
}

static void test_complaint_round_trips_all_fields (void **state)
{
    (void)state;
    zframe_t *frame = s_vec_complaint_submit_full ();
    gf_error_t err;
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    assert_non_null (msg);
    assert_string_equal (gf_msg_type (msg), GF_TYPE_COMPLAINT_SUBMIT);
    gf_complaint_t c;
    assert_int_equal (gf_complaint_from_msg (msg, &c, &err), 0);
    assert_string_equal (c.id, "hotline-20240311-0007");
    assert_int_equal (c.at, GF_VEC_AT);
    assert_string_equal (c.source, "hotline");
    assert_string_equal (c.source_ref, "CALL-20240311-0007");
    assert_string_equal (c.description, "小区东门路灯不亮已经一周，晚上出行很不安全。");
    assert_string_equal (c.category, "municipal.lighting");
    assert_string_equal (c.grid, "QNL.07.063");
    assert_string_equal (c.address, "青年路7号院东门");
    assert_string_equal (c.name, "张三");
    assert_string_equal (c.phone, "13812341234");
    assert_true (c.urgent);
    assert_int_equal (c.reported_at, GF_VEC_AT - 1000000);

    //  Encoding what was decoded gives the same bytes.
    zframe_t *again = gf_complaint_encode (&c);
    assert_true (zframe_eq (frame, again));
    zframe_destroy (&again);
    gf_complaint_reset (&c);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
}

static void test_complaint_encode_omits_null_fields (void **state)
{
    (void)state;
    gf_complaint_t c = {0};
    c.source = (char *)"app";
    zframe_t *frame = gf_complaint_encode (&c);
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), NULL);
    assert_non_null (msg);
    char *json = gf_msg_to_json (msg);
    assert_string_equal (json, "{\"v\":1,\"type\":\"complaint.submit\",\"at\":0,"
                               "\"source\":\"app\",\"urgent\":false}");
    free (json);
    gf_error_t err;
    assert_int_equal (gf_complaint_from_msg (msg, &c, &err), -1);
    assert_int_equal (err.code, GF_E_MISSING_FIELD);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
}

//  reply ----------------------------------------------------------------------

static void test_reply_round_trips_ok_and_duplicate (void **state)
{
    (void)state;
    bool duplicates[] = {false, true};
    for (int i = 0; i < 2; i++) {
        gf_reply_t r = {0};
        r.id = (char *)"req-9";
        r.at = 77;
        r.ok = true;
        r.case_id = 123456789012LL;
        r.duplicate = duplicates[i];
        zframe_t *frame = gf_reply_encode (&r);
        gf_reply_t back;
        gf_error_t err;
        assert_int_equal (gf_reply_decode (zframe_data (frame), zframe_size (frame), &back, &err),
                          0);
        assert_string_equal (back.id, "req-9");
        assert_int_equal (back.at, 77);
        assert_true (back.ok);
        assert_int_equal (back.case_id, 123456789012LL);
        assert_int_equal (back.duplicate, duplicates[i]);
        assert_int_equal (back.code, GF_OK);
        assert_null (back.message);
        gf_reply_reset (&back);
        zframe_destroy (&frame);
    }
}

static void test_reply_round_trips_error_with_nil_id (void **state)
{
    (void)state;
    gf_reply_t r = {0};
    r.code = GF_E_MALFORMED;
    r.message = (char *)"body is truncated";
    zframe_t *frame = gf_reply_encode (&r);
    gf_reply_t back;
    gf_error_t err;
    assert_int_equal (gf_reply_decode (zframe_data (frame), zframe_size (frame), &back, &err), 0);
    assert_null (back.id);
    assert_false (back.ok);
    assert_int_equal (back.code, GF_E_MALFORMED);
    assert_string_equal (back.message, "body is truncated");
    gf_reply_reset (&back);
    zframe_destroy (&frame);
}

static void test_reply_encode_cuts_message_to_512_chars (void **state)
{
    (void)state;
    char *long_text = s_repeat ("错", 600);
    gf_reply_t r = {0};
    r.id = (char *)"x";
    r.code = GF_E_INTERNAL;
    r.message = long_text;
    zframe_t *frame = gf_reply_encode (&r);
    gf_reply_t back;
    assert_int_equal (gf_reply_decode (zframe_data (frame), zframe_size (frame), &back, NULL), 0);
    assert_int_equal (gf_utf8_count (back.message, strlen (back.message)), GF_MAX_MESSAGE);
    gf_reply_reset (&back);
    zframe_destroy (&frame);
    free (long_text);
}

static void test_reply_decode_rejects_bad_replies (void **state)
{
    (void)state;
    struct {
        const char *json;
        gf_code_t code;
    } cases[] = {
        {"{\"v\":1,\"type\":\"complaint.submit\",\"ok\":true,\"case\":1}", GF_E_UNKNOWN_TYPE},
        {"{\"v\":1,\"type\":\"reply\",\"case\":1}", GF_E_MISSING_FIELD},
        {"{\"v\":1,\"type\":\"reply\",\"ok\":true}", GF_E_MISSING_FIELD},
        {"{\"v\":1,\"type\":\"reply\",\"ok\":\"true\",\"case\":1}", GF_E_WRONG_TYPE},
        {"{\"v\":1,\"type\":\"reply\",\"ok\":false}", GF_E_MISSING_FIELD},
        {"{\"v\":1,\"type\":\"reply\",\"ok\":false,\"code\":\"ok\"}", GF_E_BAD_VALUE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zframe_t *frame = gf_json_encode (cases[i].json);
        gf_reply_t r;
        memset (&r, 0xA5, sizeof r);
        gf_error_t err;
        assert_int_equal (gf_reply_decode (zframe_data (frame), zframe_size (frame), &r, &err), -1);
        assert_int_equal (err.code, cases[i].code);
        assert_null (r.id);
        assert_null (r.message);
        zframe_destroy (&frame);
    }
}

static void test_reply_decode_maps_unknown_code_to_internal (void **state)
{
    (void)state;
    zframe_t *frame =
        gf_json_encode ("{\"v\":1,\"type\":\"reply\",\"ok\":false,\"code\":\"from_the_future\"}");
    gf_reply_t r;
    assert_int_equal (gf_reply_decode (zframe_data (frame), zframe_size (frame), &r, NULL), 0);
    assert_int_equal (r.code, GF_E_INTERNAL);
    assert_null (r.message);
    gf_reply_reset (&r);
    zframe_destroy (&frame);
}

//  Events -----------------------------------------------------------------------

static char *s_event_json (zframe_t *frame)
{
    assert_non_null (frame);
    gf_error_t err;
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    if (!msg)
        fail_msg ("event does not decode: %s", err.message);
    char *json = gf_msg_to_json (msg);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
    return json;
}

static void test_event_encode_puts_common_keys_first_and_keeps_nested_payload (void **state)
{
    (void)state;
    char *json = s_event_json (gf_event_encode (
        42, "case.received", 7, 1000, 1001, "QNL.07.063",
        "{\"b\":{\"list\":[1,-2,2.5,\"三\",[true,false,null]],\"o\":{}},\"a\":\"x\"}"));
    assert_string_equal (json, "{\"v\":1,\"type\":\"case.received\",\"id\":\"7\",\"at\":1000,"
                               "\"seq\":42,\"case\":1001,\"grid\":\"QNL.07.063\","
                               "\"b\":{\"list\":[1,-2,2.5,\"三\",[true,false,null]],\"o\":{}},"
                               "\"a\":\"x\"}");
    free (json);
}

static void test_event_encode_drops_payload_keys_that_clash (void **state)
{
    (void)state;
    char *json = s_event_json (gf_event_encode (
        1, "case.routed", 2, 3, 4, "G.1",
        "{\"v\":9,\"type\":\"evil\",\"id\":\"x\",\"at\":0,\"seq\":0,\"case\":0,\"grid\":\"G.2\","
        "\"via\":\"grid\"}"));
    assert_string_equal (json, "{\"v\":1,\"type\":\"case.routed\",\"id\":\"2\",\"at\":3,\"seq\":1,"
                               "\"case\":4,\"grid\":\"G.1\",\"via\":\"grid\"}");
    free (json);
}

static void test_event_encode_keeps_integers_and_makes_reals_float64 (void **state)
{
    (void)state;
    zframe_t *frame =
        gf_event_encode (1, "t", 1, 0, 0, NULL, "{\"i\":5,\"r\":5.0,\"big\":9007199254740993}");
    assert_non_null (frame);
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), NULL);
    int64_t i;
    assert_int_equal (gf_msg_get_int (msg, "i", true, &i, NULL), 0);
    assert_int_equal (gf_msg_get_int (msg, "big", true, &i, NULL), 0);
    assert_int_equal (i, 9007199254740993LL);
    gf_error_t err;
    assert_int_equal (gf_msg_get_int (msg, "r", true, &i, &err), -1);
    assert_int_equal (err.code, GF_E_WRONG_TYPE);
    //  A float64 is marker 0xcb followed by 5.0 big-endian.
    assert_true (s_contains (frame, "\xa1r\xcb\x40\x14\x00\x00\x00\x00\x00\x00", 11));
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
}

static void test_event_encode_with_nil_grid_and_no_payload (void **state)
{
    (void)state;
    char *json = s_event_json (gf_event_encode (9, "case.unroutable", 1, 2, 3, NULL, NULL));
    assert_string_equal (json, "{\"v\":1,\"type\":\"case.unroutable\",\"id\":\"1\",\"at\":2,"
                               "\"seq\":9,\"case\":3,\"grid\":null}");
    free (json);
}

static void test_event_encode_rejects_bad_payloads (void **state)
{
    (void)state;
    assert_null (gf_event_encode (1, "t", 1, 0, 0, NULL, "{not json"));
    assert_null (gf_event_encode (1, "t", 1, 0, 0, NULL, "[1,2]"));
    assert_null (gf_event_encode (1, "t", 1, 0, 0, NULL, "{\"a\":1,\"a\":2}"));
    //  Top map is level 1: seven more levels fit, eight do not.
    zframe_t *frame = gf_event_encode (1, "t", 1, 0, 0, NULL, "{\"a\":[[[[[[[1]]]]]]]}");
    assert_non_null (frame);
    zframe_destroy (&frame);
    assert_null (gf_event_encode (1, "t", 1, 0, 0, NULL, "{\"a\":[[[[[[[[1]]]]]]]]}"));
    //  A payload string over 16 KiB would be rejected by every subscriber.
    char *big = s_repeat ("x", GF_MAX_STRING + 1);
    char *json = (char *)malloc (strlen (big) + 16);
    sprintf (json, "{\"a\":\"%s\"}", big);
    assert_null (gf_event_encode (1, "t", 1, 0, 0, NULL, json));
    free (json);
    free (big);
}

//  gf_event_pack reads a flat payload itself and leaves every other one to
//  jansson (proto/gf_event.c).  Both must give the same bytes: each payload
//  below is encoded as it is, and again with a nested value under the
//  common key "v" added, which sends it to jansson and is then dropped.
static void s_event_same_both_ways (const char *payload)
{
    size_t len = strlen (payload);
    char *nested = (char *)malloc (len + 16);
    assert_non_null (nested);
    const char *close = strrchr (payload, '}');
    assert_non_null (close);
    int head = (int)(close - payload);
    bool empty = strspn (payload + 1, " ") == (size_t)(head - 1);
    sprintf (nested, "%.*s%s\"v\": [0]}", head, payload, empty ? "" : ", ");
    zframe_t *flat = gf_event_encode (5, "case.signed", 77, -1000, 12, "QNL.01.002", payload);
    zframe_t *tree = gf_event_encode (5, "case.signed", 77, -1000, 12, "QNL.01.002", nested);
    if (!flat || !tree)
        fail_msg ("payload %s: not encoded (%s, %s)", payload, flat ? "flat" : "-",
                  tree ? "tree" : "-");
    if (zframe_size (flat) != zframe_size (tree) ||
        memcmp (zframe_data (flat), zframe_data (tree), zframe_size (flat)) != 0)
        fail_msg ("payload %s: the two paths differ", payload);
    zframe_destroy (&flat);
    zframe_destroy (&tree);
    free (nested);
}

static void test_event_encode_flat_payload_same_as_jansson (void **state)
{
    (void)state;
    const char *payloads[] = {
        //  As PostgreSQL's jsonb output writes them.
        "{\"l2\": \"QNL.01\", \"to\": \"signed\", \"from\": \"routed\", \"note\": null, \"actor\": "
        "\"P-QNL.01.002-1\", \"action\": \"sign\", \"version\": 3}",
        "{\"source\": \"hotline\", \"urgent\": false, \"category\": null, \"description\": "
        "\"小区路灯不亮已经三天了，晚上出行很不方便，请尽快派人维修。\", \"address_masked\": "
        "\"西街村**\"}",
        "{\"satisfied\": true, \"case\": 39900, \"grid\": \"QNL.01.003\", \"via\": \"grid\"}",
        //  Spacing, numbers, empty strings, the member limit.
        "{\"a\":1,\"b\":-1,\"c\":0,\"d\":-0,\"e\":\"\"}",
        "  { \"a\" :\t\"x\" ,\n\"b\":\r\n999999999999999999 }  ",
        "{\"min\": -999999999999999999, \"i7\": 127, \"i8\": 128, \"n\": -33, \"u16\": 65536}",
        "{ }",
        "{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,"
        "\"k10\":10,\"k11\":11,\"k12\":12,\"k13\":13,\"k14\":14,\"k15\":15,\"k16\":16}",
        //  Not flat: jansson reads them (on both sides).
        "{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,"
        "\"k10\":10,\"k11\":11,\"k12\":12,\"k13\":13,\"k14\":14,\"k15\":15,\"k16\":16,\"k17\":17}",
        "{\"big\": 9007199254740993123, \"r\": 2.5, \"e\": 1e3, \"E\": -2E-2}",
        "{\"note\": \"第一行\\n第二行 \\\"引\\\" \\u4e09 \\\\\", \"o\": {\"x\": [1, 2]}}",
    };
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++)
        s_event_same_both_ways (payloads[i]);
    //  What jansson refuses stays refused, flat or not.
    const char *bad[] = {"{\"a\":01}",       "{\"a\":1} x",
                         "{\"a\":1,}",       "{\"a\":1 \"b\":2}",
                         "{\"a\":\"\xff\"}", "{\"\xc3\":1}",
                         "{\"a\":\"x\ty\"}", "{\"a\":tru}",
                         "{\"a\":-}",        "{\"a\":1,\"b\":2,\"a\":3}",
                         "{\"a\":1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (gf_event_encode (1, "t", 1, 0, 0, NULL, bad[i]))
            fail_msg ("payload %s was encoded", bad[i]);
}

//  The encoder checks the wire limits itself (it no longer decodes what it
//  built): at each limit, what it returns must decode, and one step past
//  the limit it must refuse.
static void s_event_at_limit (const char *type, const char *grid, const char *payload, bool fits)
{
    zframe_t *frame = gf_event_encode (1, type, 1, 0, 0, grid, payload);
    if (!fits) {
        assert_null (frame);
        return;
    }
    assert_non_null (frame);
    gf_error_t err;
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    if (!msg)
        fail_msg ("an encoded event does not decode: %s", err.message);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
}

static char *s_object_of (const char *key, const char *value)
{
    char *json = (char *)malloc (strlen (key) + strlen (value) + 16);
    sprintf (json, "{\"%s\":\"%s\"}", key, value);
    return json;
}

static void test_event_encode_agrees_with_the_decoder_at_each_limit (void **state)
{
    (void)state;
    char *at = s_repeat ("x", GF_MAX_STRING), *over = s_repeat ("x", GF_MAX_STRING + 1);
    char *json;
    //  Payload strings, keys, and keys inside nested objects.
    s_event_at_limit ("t", NULL, json = s_object_of ("a", at), true), free (json);
    s_event_at_limit ("t", NULL, json = s_object_of (at, "a"), true), free (json);
    s_event_at_limit ("t", NULL, json = s_object_of (over, "a"), false), free (json);
    json = (char *)malloc (strlen (over) + 32);
    sprintf (json, "{\"a\":[{\"%s\":1}]}", over);
    s_event_at_limit ("t", NULL, json, false), free (json);
    //  The grid: the string limit and strict UTF-8 (surrogates are not).
    s_event_at_limit ("t", at, NULL, true);
    s_event_at_limit ("t", over, NULL, false);
    s_event_at_limit ("t", "QNL.\xed\xa0\x80", NULL, false);
    s_event_at_limit ("t", "青年路", NULL, true);
    //  The type: 1..GF_MAX_CODE characters (code points, not bytes).
    char *type = s_repeat ("界", GF_MAX_CODE);
    s_event_at_limit (type, NULL, NULL, true), free (type);
    type = s_repeat ("界", GF_MAX_CODE + 1);
    s_event_at_limit (type, NULL, NULL, false), free (type);
    s_event_at_limit ("", NULL, NULL, false);
    s_event_at_limit ("case.\xc0\xae", NULL, NULL, false);
    //  The body: three strings at the limit fit in 64 KiB, four do not.
    size_t cap = 6 * (GF_MAX_STRING + 16);
    json = (char *)malloc (cap);
    for (int n = 4; n <= 5; n++) {
        size_t len = (size_t)sprintf (json, "{");
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf (json + len, cap - len, "%s\"k%d\":\"%s\"", i ? "," : "", i,
                                     i ? at : "y");
        snprintf (json + len, cap - len, "}");
        s_event_at_limit ("t", NULL, json, n == 4);
    }
    free (json);
    free (at);
    free (over);
}

static void test_event_pack_reuses_a_buffer_and_gives_the_same_bytes (void **state)
{
    (void)state;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    //  A longer event first, so that stale bytes would show.
    assert_int_equal (gf_event_pack (&sbuf, 7, "case.received", 70, 5, 6, "QNL.07.063",
                                     "{\"description\":\"路灯不亮\",\"n\":[1,2]}"),
                      0);
    assert_int_equal (gf_event_pack (&sbuf, 8, "case.routed", 71, 9, 6, "QNL.07", "{}"), 0);
    zframe_t *frame = gf_event_encode (8, "case.routed", 71, 9, 6, "QNL.07", "{}");
    assert_non_null (frame);
    assert_int_equal (sbuf.size, zframe_size (frame));
    assert_memory_equal (sbuf.data, zframe_data (frame), sbuf.size);
    assert_int_equal (gf_event_pack (&sbuf, 9, "t", 1, 0, 0, NULL, "{not json"), -1);
    zframe_destroy (&frame);
    msgpack_sbuffer_destroy (&sbuf);
}

//  Relay control messages -----------------------------------------------------

static void test_replay_request_round_trips (void **state)
{
    (void)state;
    zframe_t *frame = s_vec_replay_request ();
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), NULL);
    assert_non_null (msg);
    gf_replay_req_t r;
    gf_error_t err;
    assert_int_equal (gf_replay_req_from_msg (msg, &r, &err), 0);
    assert_string_equal (r.id, "rp-1");
    assert_true (r.from == 100);
    assert_string_equal (r.prefix, "case.routed/QNL.07");
    assert_true (r.limit == 500);
    zframe_t *again = gf_replay_req_encode (&r);
    assert_true (zframe_eq (frame, again));
    zframe_destroy (&again);
    gf_replay_req_reset (&r);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
}

static void test_replay_request_batch_flag_round_trips (void **state)
{
    (void)state;
    char id[] = "b1", prefix[] = "";
    gf_replay_req_t r = {.id = id, .from = 7, .prefix = prefix, .limit = 5000, .batch = true};
    zframe_t *frame = gf_replay_req_encode (&r);
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), NULL);
    assert_non_null (msg);
    gf_replay_req_t back;
    gf_error_t err;
    assert_int_equal (gf_replay_req_from_msg (msg, &back, &err), 0);
    assert_true (back.batch);
    assert_false (back.probe);
    gf_replay_req_reset (&back);
    gf_msg_destroy (&msg);
    //  Without it the bytes are the plain request's (the golden vector's
    //  shape): an older relay reads it as before.
    r.batch = false;
    zframe_t *plain = gf_replay_req_encode (&r);
    assert_int_equal (zframe_size (frame), zframe_size (plain) + strlen ("batch") + 2);
    zframe_destroy (&plain);
    zframe_destroy (&frame);
}

//  A replay.batch of three events: a short topic and body, a topic over 31
//  bytes (str 8) and a body over 255 bytes (bin 16).
static void s_batch_three (msgpack_sbuffer *batch, char **long_topic, char **long_body)
{
    *long_topic = s_repeat ("t", 40);
    *long_body = s_repeat ("b", 300);
    msgpack_sbuffer_init (batch);
    gf_replay_batch_add (batch, "case.routed/QNL.07", "\x81\xa1v\x01", 4);
    gf_replay_batch_add (batch, *long_topic, "x", 1);
    gf_replay_batch_add (batch, "notify/P-1", *long_body, 300);
}

static void test_replay_batch_round_trips (void **state)
{
    (void)state;
    msgpack_sbuffer batch;
    char *long_topic, *long_body;
    s_batch_three (&batch, &long_topic, &long_body);
    size_t pos = 0, tsize, bsize;
    const char *topic;
    const void *body;
    assert_int_equal (
        gf_replay_batch_next (batch.data, batch.size, &pos, &topic, &tsize, &body, &bsize), 1);
    assert_int_equal (tsize, strlen ("case.routed/QNL.07"));
    assert_memory_equal (topic, "case.routed/QNL.07", tsize);
    assert_int_equal (bsize, 4);
    assert_memory_equal (body, "\x81\xa1v\x01", 4);
    assert_int_equal (
        gf_replay_batch_next (batch.data, batch.size, &pos, &topic, &tsize, &body, &bsize), 1);
    assert_int_equal (tsize, 40);
    assert_memory_equal (topic, long_topic, 40);
    assert_int_equal (bsize, 1);
    assert_int_equal (
        gf_replay_batch_next (batch.data, batch.size, &pos, &topic, &tsize, &body, &bsize), 1);
    assert_int_equal (bsize, 300);
    assert_memory_equal (body, long_body, 300);
    assert_int_equal (pos, batch.size);
    assert_int_equal (
        gf_replay_batch_next (batch.data, batch.size, &pos, &topic, &tsize, &body, &bsize), 0);
    msgpack_sbuffer_destroy (&batch);
    free (long_topic);
    free (long_body);
}

static void test_replay_batch_refuses_truncated_and_wrong_types (void **state)
{
    (void)state;
    msgpack_sbuffer batch;
    char *long_topic, *long_body;
    s_batch_three (&batch, &long_topic, &long_body);
    //  Cut at every length: the pairs wholly inside come out, then the cut
    //  is malformed, unless it falls between two pairs.
    size_t ends[3], pos = 0, tsize, bsize;
    const char *topic;
    const void *body;
    for (int i = 0; i < 3; i++) {
        gf_replay_batch_next (batch.data, batch.size, &pos, &topic, &tsize, &body, &bsize);
        ends[i] = pos;
    }
    for (size_t cut = 0; cut < batch.size; cut++) {
        int whole = 0, rc;
        pos = 0;
        while ((rc = gf_replay_batch_next (batch.data, cut, &pos, &topic, &tsize, &body, &bsize)) ==
               1) {
            assert_true (pos <= cut);
            whole++;
        }
        bool boundary = cut == 0 || cut == ends[0] || cut == ends[1];
        if (rc != (boundary ? 0 : -1))
            fail_msg ("cut at %zu of %zu: got %d after %d pairs", cut, batch.size, rc, whole);
        assert_int_equal (whole, cut >= ends[1] ? 2 : cut >= ends[0] ? 1 : 0);
    }
    //  A bin where the topic should be, a str where the body should be, an
    //  integer.
    pos = 0;
    assert_int_equal (
        gf_replay_batch_next ("\xc4\x01x\xc4\x01y", 6, &pos, &topic, &tsize, &body, &bsize), -1);
    pos = 0;
    assert_int_equal (gf_replay_batch_next ("\xa1x\xa1y", 4, &pos, &topic, &tsize, &body, &bsize),
                      -1);
    pos = 0;
    assert_int_equal (gf_replay_batch_next ("\x05", 1, &pos, &topic, &tsize, &body, &bsize), -1);
    msgpack_sbuffer_destroy (&batch);
    free (long_topic);
    free (long_body);
}

static void test_replay_probe_round_trips (void **state)
{
    (void)state;
    zframe_t *frame = s_vec_replay_request_probe ();
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), NULL);
    assert_non_null (msg);
    gf_replay_req_t r;
    gf_error_t err;
    assert_int_equal (gf_replay_req_from_msg (msg, &r, &err), 0);
    assert_true (r.from == 1200);
    assert_true (r.to == 1234);
    assert_true (r.probe);
    zframe_t *again = gf_replay_req_encode (&r);
    assert_true (zframe_eq (frame, again));
    zframe_destroy (&again);
    gf_replay_req_reset (&r);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
    //  A plain request leaves both out, so old relays see the old bytes.
    frame = s_vec_replay_request ();
    msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), NULL);
    assert_int_equal (gf_replay_req_from_msg (msg, &r, &err), 0);
    assert_true (r.to == 0);
    assert_false (r.probe);
    gf_replay_req_reset (&r);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
    char *json = s_event_json (gf_replay_end_encode_count ("p-1", 9, false, 2, 12));
    assert_string_equal (json, "{\"v\":1,\"type\":\"replay.end\",\"id\":\"p-1\",\"ok\":true,"
                               "\"last\":9,\"more\":false,\"count\":2,\"head\":12}");
    free (json);
}

static gf_code_t s_replay_code (const char *json)
{
    zframe_t *frame = gf_json_encode (json);
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), NULL);
    zframe_destroy (&frame);
    assert_non_null (msg);
    gf_replay_req_t r;
    gf_error_t err = {GF_OK, ""};
    int rc = gf_replay_req_from_msg (msg, &r, &err);
    gf_msg_destroy (&msg);
    if (rc == 0) {
        gf_replay_req_reset (&r);
        return GF_OK;
    }
    assert_null (r.id);
    assert_null (r.prefix);
    return err.code;
}

static void test_replay_request_checks_fields (void **state)
{
    (void)state;
    assert_int_equal (s_replay_code ("{\"v\":1,\"type\":\"replay.request\",\"id\":\"a\","
                                     "\"from\":0,\"limit\":1}"),
                      GF_OK); //  prefix defaults to ""
    assert_int_equal (s_replay_code ("{\"v\":1,\"type\":\"replay.request\",\"id\":\"a\","
                                     "\"from\":0,\"limit\":0}"),
                      GF_E_BAD_VALUE);
    assert_int_equal (s_replay_code ("{\"v\":1,\"type\":\"replay.request\",\"id\":\"a\","
                                     "\"from\":0,\"limit\":10001}"),
                      GF_E_BAD_VALUE);
    assert_int_equal (s_replay_code ("{\"v\":1,\"type\":\"replay.request\",\"id\":\"a\","
                                     "\"from\":-1,\"limit\":10}"),
                      GF_E_BAD_VALUE);
    assert_int_equal (s_replay_code ("{\"v\":1,\"type\":\"replay.request\",\"id\":\"a\","
                                     "\"limit\":10}"),
                      GF_E_MISSING_FIELD);
    assert_int_equal (s_replay_code ("{\"v\":1,\"type\":\"replay.request\",\"from\":1,"
                                     "\"limit\":10}"),
                      GF_E_MISSING_FIELD);
    assert_int_equal (s_replay_code ("{\"v\":1,\"type\":\"replay.request\",\"id\":\"a\","
                                     "\"from\":1,\"prefix\":3,\"limit\":10}"),
                      GF_E_WRONG_TYPE);
    assert_int_equal (s_replay_code ("{\"v\":1,\"type\":\"replay.request\",\"id\":\"a\","
                                     "\"from\":5,\"limit\":1,\"to\":4}"),
                      GF_E_BAD_VALUE); //  `to` below `from`
    assert_int_equal (s_replay_code ("{\"v\":1,\"type\":\"replay.request\",\"id\":\"a\","
                                     "\"from\":5,\"limit\":1,\"to\":-1}"),
                      GF_E_BAD_VALUE);
    assert_int_equal (s_replay_code ("{\"v\":1,\"type\":\"replay.request\",\"id\":\"a\","
                                     "\"from\":5,\"limit\":1,\"to\":9,\"probe\":1}"),
                      GF_E_WRONG_TYPE);
    assert_int_equal (s_replay_code ("{\"v\":1,\"type\":\"replay.request\",\"id\":\"a\","
                                     "\"from\":5,\"limit\":1,\"to\":9,\"probe\":true}"),
                      GF_OK);
    assert_int_equal (s_replay_code ("{\"v\":1,\"type\":\"relay.hb\",\"id\":\"a\","
                                     "\"from\":1,\"limit\":10}"),
                      GF_E_UNKNOWN_TYPE);
}

static void test_replay_end_encodes_page_and_error (void **state)
{
    (void)state;
    char *json = s_event_json (gf_replay_end_encode ("rp-1", 600, true, 1234, GF_OK, NULL));
    assert_string_equal (json, "{\"v\":1,\"type\":\"replay.end\",\"id\":\"rp-1\",\"ok\":true,"
                               "\"last\":600,\"more\":true,\"head\":1234}");
    free (json);
    json = s_event_json (gf_replay_end_encode ("rp-2", 0, false, 5, GF_E_BAD_VALUE, "no"));
    assert_string_equal (json, "{\"v\":1,\"type\":\"replay.end\",\"id\":\"rp-2\",\"ok\":false,"
                               "\"code\":\"bad_value\",\"message\":\"no\",\"head\":5}");
    free (json);
}

static void test_relay_hb_encodes_exact_bytes (void **state)
{
    (void)state;
    //  {"v":1,"type":"relay.hb","at":5,"seq":1234}, spelled out in SPEC.md.
    const byte expected[] = {0x84, 0xa1, 'v',  0x01, 0xa4, 't', 'y',  'p',  'e',  0xa8,
                             'r',  'e',  'l',  'a',  'y',  '.', 'h',  'b',  0xa2, 'a',
                             't',  0x05, 0xa3, 's',  'e',  'q', 0xcd, 0x04, 0xd2};
    zframe_t *frame = gf_relay_hb_encode (5, 1234);
    assert_int_equal (zframe_size (frame), sizeof expected);
    assert_memory_equal (zframe_data (frame), expected, sizeof expected);
    zframe_destroy (&frame);
}

//  JSON rendering -------------------------------------------------------------

static void test_to_json_renders_binary_as_base64_and_keeps_order (void **state)
{
    (void)state;
    s_body_t b;
    s_body_start (&b, 4);
    s_pack_cstr (&b, "z");
    msgpack_pack_bin (&b.pk, 5);
    msgpack_pack_bin_body (&b.pk, "hello", 5);
    s_pack_cstr (&b, "a");
    msgpack_pack_float (&b.pk, 0.5f);
    s_pack_cstr (&b, "n");
    msgpack_pack_nil (&b.pk);
    s_pack_cstr (&b, "u");
    msgpack_pack_uint64 (&b.pk, 18446744073709551615ULL);
    gf_msg_t *msg = gf_msg_decode (b.sbuf.data, b.sbuf.size, NULL);
    msgpack_sbuffer_destroy (&b.sbuf);
    assert_non_null (msg);
    char *json = gf_msg_to_json (msg);
    assert_string_equal (json, "{\"v\":1,\"type\":\"test\",\"z\":\"aGVsbG8=\",\"a\":0.5,"
                               "\"n\":null,\"u\":1.8446744073709552e19}");
    free (json);
    gf_msg_destroy (&msg);
}

//  UTF-8, codes, errors -------------------------------------------------------

static void test_utf8_count_edge_cases (void **state)
{
    (void)state;
    assert_int_equal (gf_utf8_count (NULL, 0), 0);
    assert_int_equal (gf_utf8_count ("", 0), 0);
    assert_int_equal (gf_utf8_count ("abc", 3), 3);
    assert_int_equal (gf_utf8_count ("a\0b", 3), 3);             //  NUL is a code point
    assert_int_equal (gf_utf8_count ("\xc2\x80", 2), 1);         //  U+0080, smallest 2-byte
    assert_int_equal (gf_utf8_count ("\xe0\xa0\x80", 3), 1);     //  U+0800, smallest 3-byte
    assert_int_equal (gf_utf8_count ("\xed\x9f\xbf", 3), 1);     //  U+D7FF, below surrogates
    assert_int_equal (gf_utf8_count ("\xee\x80\x80", 3), 1);     //  U+E000, above them
    assert_int_equal (gf_utf8_count ("\xef\xbf\xbf", 3), 1);     //  U+FFFF
    assert_int_equal (gf_utf8_count ("\xf0\x90\x80\x80", 4), 1); //  U+10000
    assert_int_equal (gf_utf8_count ("\xf4\x8f\xbf\xbf", 4), 1); //  U+10FFFF
    assert_int_equal (gf_utf8_count ("路灯😀", 10), 3);
    assert_int_equal (gf_utf8_count ("\xc1\xbf", 2), -1);         //  overlong 2-byte
    assert_int_equal (gf_utf8_count ("\xe0\x9f\xbf", 3), -1);     //  overlong 3-byte
    assert_int_equal (gf_utf8_count ("\xf0\x8f\xbf\xbf", 4), -1); //  overlong 4-byte
    assert_int_equal (gf_utf8_count ("\xed\xa0\x80", 3), -1);     //  U+D800
    assert_int_equal (gf_utf8_count ("\xf4\x90\x80\x80", 4), -1); //  U+110000
    assert_int_equal (gf_utf8_count ("\xf8\x88\x80\x80\x80", 5), -1);
    assert_int_equal (gf_utf8_count ("\x80", 1), -1);
    assert_int_equal (gf_utf8_count ("\xe8\xb7", 2), -1);     //  cut short at the end
    assert_int_equal (gf_utf8_count ("\xe8\xb7\xafx", 3), 1); //  size bounds the scan
}

static void test_code_names_round_trip (void **state)
{
    (void)state;
    for (int code = 0; code < GF_CODE_COUNT; code++)
        assert_int_equal (gf_code_from_name (gf_code_name ((gf_code_t)code)), code);
    assert_string_equal (gf_code_name (GF_E_NOT_MAP), "not_a_map");
    assert_string_equal (gf_code_name (GF_E_TOO_LONG), "too_long");
    assert_string_equal (gf_code_name (GF_CODE_COUNT), "internal");
    assert_int_equal (gf_code_from_name ("nonsense"), GF_E_INTERNAL);
    assert_int_equal (gf_code_from_name (NULL), GF_E_INTERNAL);
}

/*  Issue 13: failures named right.  The server's own conditions are
    `unavailable` (the sender resends), values it refuses `bad_value`, the
    rest `internal`. */
static void test_code_from_sqlstate_names_failures_right (void **state)
{
    (void)state;
    struct {
        const char *sqlstate;
        gf_code_t code;
    } cases[] = {
        {NULL, GF_E_UNAVAILABLE},    /* no answer from the server           */
        {"", GF_E_UNAVAILABLE},      /* the same                            */
        {"08006", GF_E_UNAVAILABLE}, /* connection_failure                  */
        {"08P01", GF_E_UNAVAILABLE}, /* protocol_violation                  */
        {"53100", GF_E_UNAVAILABLE}, /* disk_full                           */
        {"53200", GF_E_UNAVAILABLE}, /* out_of_memory                       */
        {"53300", GF_E_UNAVAILABLE}, /* too_many_connections                */
        {"57014", GF_E_UNAVAILABLE}, /* query_canceled (statement_timeout)  */
        {"57P01", GF_E_UNAVAILABLE}, /* admin_shutdown                      */
        {"57P03", GF_E_UNAVAILABLE}, /* cannot_connect_now                  */
        {"58030", GF_E_UNAVAILABLE}, /* io_error                            */
        {"25006", GF_E_UNAVAILABLE}, /* read_only_sql_transaction           */
        {"25P03", GF_E_UNAVAILABLE}, /* idle_in_transaction_session_timeout */
        {"40001", GF_E_UNAVAILABLE}, /* serialization_failure               */
        {"40P01", GF_E_UNAVAILABLE}, /* deadlock_detected                   */
        {"55P03", GF_E_UNAVAILABLE}, /* lock_not_available (lock_timeout)   */
        {"23505", GF_E_UNAVAILABLE}, /* unique_violation: a concurrent twin */
        {"42501", GF_E_UNAVAILABLE}, /* insufficient_privilege              */
        {"22008", GF_E_BAD_VALUE},   /* datetime_field_overflow             */
        {"22003", GF_E_BAD_VALUE},   /* numeric_value_out_of_range          */
        {"22021", GF_E_BAD_VALUE},   /* character_not_in_repertoire         */
        {"22P02", GF_E_BAD_VALUE},   /* invalid_text_representation         */
        {"23502", GF_E_BAD_VALUE},   /* not_null_violation                  */
        {"23514", GF_E_BAD_VALUE},   /* check_violation                     */
        {"54000", GF_E_BAD_VALUE},   /* program_limit_exceeded              */
        {"23503", GF_E_INTERNAL},    /* foreign_key_violation: our bug      */
        {"25P02", GF_E_UNAVAILABLE}, /* in_failed_sql_transaction           */
        {"25001", GF_E_INTERNAL},    /* active_sql_transaction              */
        {"40002", GF_E_INTERNAL},    /* transaction_integrity_constraint    */
        {"42601", GF_E_INTERNAL},    /* syntax_error                        */
        {"42883", GF_E_INTERNAL},    /* undefined_function                  */
        {"P0001", GF_E_INTERNAL},    /* raise_exception                     */
        {"P0002", GF_E_INTERNAL},    /* no_data_found (gf_intake_store)     */
        {"XX000", GF_E_INTERNAL},    /* internal_error                      */
        {"55000", GF_E_INTERNAL},    /* object_not_in_prerequisite_state    */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gf_code_t got = gf_code_from_sqlstate (cases[i].sqlstate);
        if (got != cases[i].code)
            fail_msg ("SQLSTATE %s: expected %s, got %s",
                      cases[i].sqlstate ? cases[i].sqlstate : "(null)",
                      gf_code_name (cases[i].code), gf_code_name (got));
    }
}

static void test_error_set_truncates_on_a_utf8_boundary (void **state)
{
    (void)state;
    char *text = s_repeat ("错", 200); //  600 bytes into 256
    gf_error_t err;
    assert_int_equal (gf_error_set (&err, GF_E_BAD_VALUE, "x%s", text), -1);
    assert_int_equal (err.code, GF_E_BAD_VALUE);
    assert_true (strlen (err.message) < sizeof err.message);
    assert_true (gf_utf8_count (err.message, strlen (err.message)) > 0);
    assert_int_equal (strlen (err.message), 1 + 3 * 84); //  255 bytes: x + 84 whole chars
    free (text);
    assert_int_equal (gf_error_set (NULL, GF_E_INTERNAL, "ignored"), -1);
}

//  Golden vectors -------------------------------------------------------------

static char *s_read_file (const char *name, const char *ext)
{
    const char *dir = getenv ("GF_VECTORS_DIR");
    char path[1024];
    snprintf (path, sizeof path, "%s/%s.%s", dir ? dir : "proto/vectors", name, ext);
    FILE *file = fopen (path, "rb");
    if (!file)
        fail_msg ("cannot open %s (run from the repository root or set GF_VECTORS_DIR)", path);
    fseek (file, 0, SEEK_END);
    long size = ftell (file);
    fseek (file, 0, SEEK_SET);
    char *text = (char *)malloc ((size_t)size + 1);
    size_t got = fread (text, 1, (size_t)size, file);
    text[got] = 0;
    fclose (file);
    return text;
}

static void test_golden_vectors_encode_byte_for_byte (void **state)
{
    (void)state;
    for (size_t i = 0; i < GF_VECTOR_COUNT; i++) {
        zframe_t *frame = gf_vectors[i].make ();
        assert_non_null (frame);
        char *hex = zframe_strhex (frame);
        for (char *c = hex; *c; c++)
            *c = (char)tolower ((unsigned char)*c);
        char *expected = s_read_file (gf_vectors[i].name, "hex");
        expected[strcspn (expected, "\r\n")] = 0;
        if (!streq (hex, expected))
            fail_msg ("vector %s differs:\n  got      %s\n  expected %s", gf_vectors[i].name, hex,
                      expected);
        free (expected);
        free (hex);
        zframe_destroy (&frame);
    }
}

static void test_golden_vectors_decode_to_their_json (void **state)
{
    (void)state;
    for (size_t i = 0; i < GF_VECTOR_COUNT; i++) {
        char *hex = s_read_file (gf_vectors[i].name, "hex");
        hex[strcspn (hex, "\r\n")] = 0;
        size_t size = strlen (hex) / 2;
        byte *data = (byte *)malloc (size + 1);
        for (size_t j = 0; j < size; j++) {
            unsigned int value;
            assert_int_equal (sscanf (hex + 2 * j, "%2x", &value), 1);
            data[j] = (byte)value;
        }
        gf_error_t err;
        gf_msg_t *msg = gf_msg_decode (data, size, &err);
        if (!msg)
            fail_msg ("vector %s does not decode: %s", gf_vectors[i].name, err.message);
        char *json = gf_msg_to_json (msg);
        char *expected_text = s_read_file (gf_vectors[i].name, "json");
        json_t *got = json_loads (json, 0, NULL);
        json_t *expected = json_loads (expected_text, 0, NULL);
        assert_non_null (expected);
        if (!json_equal (got, expected))
            fail_msg ("vector %s: JSON differs: %s", gf_vectors[i].name, json);
        json_decref (got);
        json_decref (expected);
        free (expected_text);
        free (json);
        gf_msg_destroy (&msg);
        free (data);
        free (hex);
    }
}

static void test_golden_vectors_decode_as_their_messages (void **state)
{
    (void)state;
    //  Requests through their typed decoders, replies through gf_reply_decode.
    zframe_t *frame = s_vec_complaint_submit_min ();
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), NULL);
    gf_complaint_t c;
    assert_int_equal (gf_complaint_from_msg (msg, &c, NULL), 0);
    gf_complaint_reset (&c);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);

    zframe_t *(*replies[]) (void) = {s_vec_reply_ok, s_vec_reply_duplicate, s_vec_reply_error};
    for (size_t i = 0; i < 3; i++) {
        frame = replies[i]();
        gf_reply_t r;
        assert_int_equal (gf_reply_decode (zframe_data (frame), zframe_size (frame), &r, NULL), 0);
        assert_string_equal (r.id, i == 2 ? "req-0002" : "req-0001");
        assert_int_equal (r.duplicate, i == 1);
        assert_int_equal (r.code, i == 2 ? GF_E_TOO_LONG : GF_OK);
        gf_reply_reset (&r);
        zframe_destroy (&frame);
    }
}

static void test_golden_vector_meeting_action_decodes (void **state)
{
    (void)state;
    //  meeting_action_decide: every key it carries survives; others absent.
    zframe_t *frame = s_vec_meeting_action_decide ();
    gf_error_t err = {GF_OK, ""};
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    assert_non_null (msg);
    gf_meeting_action_t a;
    assert_int_equal (gf_meeting_action_from_msg (msg, &a, &err), 0);
    assert_string_equal (a.id, "mtg-0001");
    assert_int_equal (a.meeting, 42);
    assert_string_equal (a.action, "decide");
    assert_string_equal (a.actor, "P-QNL.07-1");
    assert_int_equal (a.case_id, 1001);
    assert_string_equal (a.decision, "refer");
    assert_int_equal (a.deadline, GF_VEC_AT + 604800000);
    assert_string_equal (a.department, "ZJZ");
    assert_null (a.owner);
    assert_null (a.text);
    assert_int_equal (a.consultation, 0);
    gf_meeting_action_reset (&a);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
    //  A case.action decoder refuses it, and the meeting decoder a case.action.
    frame = s_vec_case_action_sign ();
    msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    assert_int_equal (gf_meeting_action_from_msg (msg, &a, &err), -1);
    assert_int_equal (err.code, GF_E_UNKNOWN_TYPE);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
}

/*  Decodes frame as a field log; returns the decoder's result, err set. */
static int s_fieldlog_of (zframe_t *frame, gf_fieldlog_t *f, gf_error_t *err)
{
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), err);
    assert_non_null (msg);
    int rc = gf_fieldlog_from_msg (msg, f, err);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
    return rc;
}

static void test_golden_vectors_field_logs_decode (void **state)
{
    (void)state;
    gf_error_t err = {GF_OK, ""};
    gf_fieldlog_t f;
    //  patrol_logged: lists survive as comma-joined text; no visit keys.
    assert_int_equal (s_fieldlog_of (s_vec_patrol_logged (), &f, &err), 0);
    assert_string_equal (f.type, GF_TYPE_PATROL_LOGGED);
    assert_string_equal (f.id, "pt-0001");
    assert_string_equal (f.grid, "QNL.07.063");
    assert_string_equal (f.places, "青年路,菜市场");
    assert_string_equal (f.members, "P-QNL.07.063-2");
    assert_int_equal (f.done_at, GF_VEC_AT - 4800000);
    assert_null (f.household);
    assert_int_equal (f.follow_up_urgent, -1);
    gf_fieldlog_reset (&f);
    //  Nothing found: findings present and empty.
    assert_int_equal (s_fieldlog_of (s_vec_patrol_logged_nothing (), &f, &err), 0);
    assert_string_equal (f.findings, "");
    gf_fieldlog_reset (&f);
    //  visit_logged_follow_up: the household, things done, the follow-up.
    assert_int_equal (s_fieldlog_of (s_vec_visit_logged_follow_up (), &f, &err), 0);
    assert_string_equal (f.household, "HH-0001");
    assert_string_equal (f.things_done, "代缴水费,联系维修");
    assert_string_equal (f.follow_up_category, "property");
    assert_int_equal (f.follow_up_urgent, 0);
    assert_null (f.grid);
    gf_fieldlog_reset (&f);
    assert_int_equal (s_fieldlog_of (s_vec_selfcheck_logged (), &f, &err), 0);
    assert_string_equal (f.items,
                         "safety=ok,disputes=issue,sanitation=ok,special_households=ok,ledger=ok");
    gf_fieldlog_reset (&f);
    //  What each type needs and refuses.
    assert_int_equal (s_fieldlog_of (gf_json_encode ("{\"v\":1,\"type\":\"visit.logged\","
                                                     "\"id\":\"x\",\"actor\":\"P\","
                                                     "\"done_at\":1}"),
                                     &f, &err),
                      -1);
    assert_int_equal (err.code, GF_E_MISSING_FIELD);
    assert_int_equal (s_fieldlog_of (gf_json_encode ("{\"v\":1,\"type\":\"visit.logged\","
                                                     "\"id\":\"x\",\"actor\":\"P\","
                                                     "\"done_at\":1,\"household\":\"H\","
                                                     "\"grid\":\"QNL\"}"),
                                     &f, &err),
                      -1);
    assert_int_equal (err.code, GF_E_BAD_VALUE);
    assert_int_equal (s_fieldlog_of (gf_json_encode ("{\"v\":1,\"type\":\"selfcheck.logged\","
                                                     "\"id\":\"x\",\"actor\":\"P\","
                                                     "\"done_at\":1,\"grid\":\"Q\"}"),
                                     &f, &err),
                      -1);
    assert_int_equal (err.code, GF_E_MISSING_FIELD);
    assert_int_equal (s_fieldlog_of (gf_json_encode ("{\"v\":1,\"type\":\"patrol.logged\","
                                                     "\"id\":\"x\",\"actor\":\"P\","
                                                     "\"done_at\":0,\"grid\":\"Q\"}"),
                                     &f, &err),
                      -1);
    assert_int_equal (err.code, GF_E_BAD_VALUE);
    //  A meeting.action is not a field log.
    assert_int_equal (s_fieldlog_of (s_vec_meeting_action_decide (), &f, &err), -1);
    assert_int_equal (err.code, GF_E_UNKNOWN_TYPE);
    //  The reply vector carries the new code by its name.
    zframe_t *frame = s_vec_reply_unknown_household ();
    gf_reply_t r;
    assert_int_equal (gf_reply_decode (zframe_data (frame), zframe_size (frame), &r, NULL), 0);
    assert_int_equal (r.code, GF_E_UNKNOWN_HOUSEHOLD);
    assert_string_equal (gf_code_name (r.code), "unknown_household");
    gf_reply_reset (&r);
    zframe_destroy (&frame);
}

static void test_golden_vector_household_decodes (void **state)
{
    (void)state;
    //  household_register and household_group_add: their keys survive.
    zframe_t *frame = s_vec_household_register ();
    gf_error_t err = {GF_OK, ""};
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    assert_non_null (msg);
    gf_household_msg_t h;
    assert_int_equal (gf_household_msg_from_msg (msg, &h, &err), 0);
    assert_string_equal (h.type, GF_TYPE_HOUSEHOLD_REGISTER);
    assert_string_equal (h.household, "hh-0a1b2c3d");
    assert_string_equal (h.grid, "QNL.07.063");
    assert_string_equal (h.head_name, "欧阳测试");
    assert_int_equal (h.version, 0);
    assert_null (h.group);
    gf_household_msg_reset (&h);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
    frame = s_vec_household_group_add ();
    msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    assert_int_equal (gf_household_msg_from_msg (msg, &h, &err), 0);
    assert_string_equal (h.type, GF_TYPE_HOUSEHOLD_GROUP);
    assert_string_equal (h.group, "bereaved");
    assert_string_equal (h.op, "add");
    assert_string_equal (h.from, "2024-03-01");
    assert_null (h.address);
    gf_household_msg_reset (&h);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
    //  The household decoder refuses a meeting.action.
    frame = s_vec_meeting_action_decide ();
    msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    assert_int_equal (gf_household_msg_from_msg (msg, &h, &err), -1);
    assert_int_equal (err.code, GF_E_UNKNOWN_TYPE);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
}

static void test_golden_vector_programme_action_decodes (void **state)
{
    (void)state;
    //  programme_action_thing_done: every key it carries survives; others
    //  absent (score -1: absent).
    zframe_t *frame = s_vec_programme_action_thing_done ();
    gf_error_t err = {GF_OK, ""};
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    assert_non_null (msg);
    gf_programme_action_t a;
    assert_int_equal (gf_programme_action_from_msg (msg, &a, &err), 0);
    assert_string_equal (a.id, "prog-0001");
    assert_string_equal (a.action, "thing.done");
    assert_string_equal (a.household, "H-QNL.07.063-0012");
    assert_string_equal (a.kind, "repair");
    assert_string_equal (a.date, "2024-03-11");
    assert_int_equal (a.link, 7);
    assert_int_equal (a.visit, 301);
    assert_int_equal (a.score, -1);
    assert_null (a.person);
    assert_int_equal (a.case_id, 0);
    gf_programme_action_reset (&a);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
    //  rating_score: a score of 0 is present.
    frame = s_vec_programme_action_rating_score ();
    msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    assert_int_equal (gf_programme_action_from_msg (msg, &a, &err), 0);
    assert_int_equal (a.score, 0);
    assert_int_equal (a.round, 3);
    assert_string_equal (a.criterion, "hygiene");
    gf_programme_action_reset (&a);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
    //  A meeting.action is not a programme.action.
    frame = s_vec_meeting_action_decide ();
    msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    assert_int_equal (gf_programme_action_from_msg (msg, &a, &err), -1);
    assert_int_equal (err.code, GF_E_UNKNOWN_TYPE);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
}

/*  Decodes frame with the envelope decoder (asserting it decodes). */
static gf_msg_t *s_msg_of (zframe_t *frame)
{
    gf_error_t err = {GF_OK, ""};
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    if (!msg)
        fail_msg ("does not decode: %s", err.message);
    zframe_destroy (&frame);
    return msg;
}

static void test_golden_vectors_issue_14_requests_decode (void **state)
{
    (void)state;
    gf_error_t err = {GF_OK, ""};
    //  meeting.action attend, minutes, close, opinion: their keys only.
    gf_meeting_action_t m;
    gf_msg_t *msg = s_msg_of (s_vec_meeting_action_attend ());
    assert_int_equal (gf_meeting_action_from_msg (msg, &m, &err), 0);
    assert_string_equal (m.action, "attend");
    assert_string_equal (m.person, "P-QNL.07.063-1");
    assert_null (m.role);
    assert_int_equal (m.case_id, 0);
    gf_meeting_action_reset (&m);
    gf_msg_destroy (&msg);
    msg = s_msg_of (s_vec_meeting_action_minutes ());
    assert_int_equal (gf_meeting_action_from_msg (msg, &m, &err), 0);
    assert_string_equal (m.text, "本周研判一件：东门路面塌陷，转住建站限期修复。");
    gf_meeting_action_reset (&m);
    gf_msg_destroy (&msg);
    msg = s_msg_of (s_vec_meeting_action_close ());
    assert_int_equal (gf_meeting_action_from_msg (msg, &m, &err), 0);
    assert_string_equal (m.action, "close");
    assert_int_equal (m.meeting, 42);
    assert_null (m.person);
    assert_null (m.text);
    gf_meeting_action_reset (&m);
    gf_msg_destroy (&msg);
    msg = s_msg_of (s_vec_meeting_action_opinion ());
    assert_int_equal (gf_meeting_action_from_msg (msg, &m, &err), 0);
    assert_int_equal (m.meeting, 43);
    assert_string_equal (m.speaker, "王测试");
    assert_string_equal (m.response, "已请住建站现场评估，两周内答复");
    gf_meeting_action_reset (&m);
    gf_msg_destroy (&msg);
    //  case.action receipt, reject, unreject.
    gf_action_t a;
    msg = s_msg_of (s_vec_case_action_receipt ());
    assert_int_equal (gf_action_from_msg (msg, &a, &err), 0);
    assert_string_equal (a.action, "receipt");
    assert_string_equal (a.contact, "李志强");
    assert_int_equal (a.received_at, GF_VEC_AT + 261900000);
    assert_int_equal (a.satisfied, -1);
    assert_null (a.reason);
    gf_action_reset (&a);
    gf_msg_destroy (&msg);
    msg = s_msg_of (s_vec_case_action_reject ());
    assert_int_equal (gf_action_from_msg (msg, &a, &err), 0);
    assert_string_equal (a.reason, "duplicate");
    assert_int_equal (a.case_id, 1004);
    assert_null (a.contact);
    gf_action_reset (&a);
    gf_msg_destroy (&msg);
    msg = s_msg_of (s_vec_case_action_unreject ());
    assert_int_equal (gf_action_from_msg (msg, &a, &err), 0);
    assert_string_equal (a.action, "unreject");
    assert_non_null (a.note);
    gf_action_reset (&a);
    gf_msg_destroy (&msg);
    //  attachment.add: the bytes survive and are a PNG.
    gf_attachment_t att;
    msg = s_msg_of (s_vec_attachment_add ());
    assert_int_equal (gf_attachment_from_msg (msg, &att, &err), 0);
    assert_int_equal (att.case_id, 1001);
    assert_string_equal (att.filename, "现场照片.png");
    assert_string_equal (att.action, "act-0001");
    assert_false (att.public);
    assert_int_equal (att.size, sizeof s_vec_png);
    assert_memory_equal (att.data, s_vec_png, sizeof s_vec_png);
    assert_string_equal (gf_attachment_sniff (att.data, att.size), "image/png");
    gf_attachment_reset (&att);
    gf_msg_destroy (&msg);
    //  The new code by its name.
    zframe_t *frame = s_vec_reply_unknown_department ();
    gf_reply_t r;
    assert_int_equal (gf_reply_decode (zframe_data (frame), zframe_size (frame), &r, NULL), 0);
    assert_int_equal (r.code, GF_E_UNKNOWN_DEPARTMENT);
    assert_string_equal (gf_code_name (r.code), "unknown_department");
    gf_reply_reset (&r);
    zframe_destroy (&frame);
}

static void test_golden_vectors_issue_15_requests_decode (void **state)
{
    (void)state;
    gf_error_t err = {GF_OK, ""};
    //  household.group end: to, no from or source.
    gf_household_msg_t h;
    gf_msg_t *msg = s_msg_of (s_vec_household_group_end ());
    assert_int_equal (gf_household_msg_from_msg (msg, &h, &err), 0);
    assert_string_equal (h.op, "end");
    assert_string_equal (h.group, "dibao");
    assert_string_equal (h.to, "2024-03-10");
    assert_null (h.from);
    assert_null (h.source);
    gf_household_msg_reset (&h);
    gf_msg_destroy (&msg);
    //  Every programme.action: its action, and one key it needs each.
    struct {
        zframe_t *(*make) (void);
        const char *action;
        const char *key; //  a string key it carries, or NULL
        const char *value;
        int64_t pair, round, qty, target, case_id;
    } progs[] = {
        {s_vec_programme_action_link_open, "link.open", "person", "P-QNL.07.063-2", 0, 0, 0, 0, 0},
        {s_vec_programme_action_link_close, "link.close", "date", "2024-04-10", 0, 0, 0, 0, 0},
        {s_vec_programme_action_pair_open, "pair.open", "goal", "协助申请临时救助，每月上门一次", 0,
         0, 0, 0, 0},
        {s_vec_programme_action_pair_review, "pair.review", "note", "已递交临时救助申请材料", 3, 0,
         0, 0, 0},
        {s_vec_programme_action_pair_close, "pair.close", "outcome", "achieved", 3, 0, 0, 0, 0},
        {s_vec_programme_action_relief_record, "relief.record", "kind", "sent_home", 0, 0, 1, 0, 0},
        {s_vec_programme_action_rating_open, "rating.open", "name", "2024-Q1", 0, 0, 0, 0, 0},
        {s_vec_programme_action_rating_publish, "rating.publish", NULL, NULL, 0, 3, 0, 0, 0},
        {s_vec_programme_action_campaign_open, "campaign.open", "campaign", "111-2024", 0, 0, 0, 0,
         0},
        {s_vec_programme_action_campaign_target, "campaign.target", "grid", "QNL.07", 0, 0, 0, 120,
         0},
        {s_vec_programme_action_campaign_item, "campaign.item", "person", "P-QNL.07.063-2", 0, 0, 3,
         0, 0},
        {s_vec_programme_action_case_helper, "case.helper", "team", "mediators", 0, 0, 0, 0, 1006},
    };
    for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
        gf_programme_action_t a;
        msg = s_msg_of (progs[i].make ());
        assert_int_equal (gf_programme_action_from_msg (msg, &a, &err), 0);
        assert_string_equal (a.action, progs[i].action);
        if (progs[i].key) {
            char **strs[GF_PROGRAMME_STR_KEYS];
            gf_programme_action_fields (&a, strs, NULL);
            const char *got = NULL;
            for (size_t k = 0; k < GF_PROGRAMME_STR_KEYS; k++)
                if (streq (gf_programme_str_keys[k], progs[i].key))
                    got = *strs[k];
            assert_non_null (got);
            assert_string_equal (got, progs[i].value);
        }
        assert_int_equal (a.pair, progs[i].pair);
        assert_int_equal (a.round, progs[i].round);
        assert_int_equal (a.qty, progs[i].qty);
        assert_int_equal (a.target, progs[i].target);
        assert_int_equal (a.case_id, progs[i].case_id);
        assert_int_equal (a.score, -1);
        gf_programme_action_reset (&a);
        gf_msg_destroy (&msg);
    }
}

/*  The event types migration file path inserts into event_types, appended
    to types (a comma-separated list, grown). */
static void s_migration_event_types (const char *path, char **types)
{
    FILE *file = fopen (path, "r");
    assert_non_null (file);
    char line[1024];
    bool inside = false;
    while (fgets (line, sizeof line, file)) {
        if (strstr (line, "INSERT INTO event_types"))
            inside = true;
        else if (inside) {
            const char *open = strstr (line, "('");
            const char *close = open ? strchr (open + 2, '\'') : NULL;
            if (close) {
                size_t len = strlen (*types);
                *types = (char *)realloc (*types, len + (size_t)(close - open) + 2);
                snprintf (*types + len, (size_t)(close - open) + 2, "%s%.*s", len ? "," : "",
                          (int)(close - open - 2), open + 2);
            }
        }
        if (inside && strchr (line, ';'))
            inside = false;
    }
    fclose (file);
}

static void test_golden_vectors_cover_the_new_event_types (void **state)
{
    (void)state;
    //  Every event type the migrations of issue 14 on (023 and later) add
    //  has its vector event_<type with '_' for '.'>, of that type.  A type
    //  that only names a notification's kind travels as notification.created
    //  with that kind (its vector named in the table below).
    static const char *kinds[][2] = {
        {"triage.reminder", "event_notification_triage_reminder"},
    };
    const char *vdir = getenv ("GF_VECTORS_DIR");
    char dir[1024];
    snprintf (dir, sizeof dir, "%s%s", vdir ? vdir : "proto/vectors",
              "/../../deploy/sql/migrations");
    DIR *handle = opendir (dir);
    assert_non_null (handle);
    char *types = strdup ("");
    struct dirent *entry;
    while ((entry = readdir (handle)))
        if (strlen (entry->d_name) > 4 && atoi (entry->d_name) >= 23 &&
            streq (entry->d_name + strlen (entry->d_name) - 4, ".sql")) {
            char path[2048];
            snprintf (path, sizeof path, "%s/%s", dir, entry->d_name);
            s_migration_event_types (path, &types);
        }
    closedir (handle);
    size_t count = 0;
    for (char *type = strtok (types, ","); type; type = strtok (NULL, ",")) {
        char name[128];
        const char *kind = NULL;
        snprintf (name, sizeof name, "event_%s", type);
        for (char *c = name; *c; c++)
            if (*c == '.')
                *c = '_';
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
            if (streq (kinds[k][0], type)) {
                snprintf (name, sizeof name, "%s", kinds[k][1]);
                kind = type;
            }
        size_t i = 0;
        while (i < GF_VECTOR_COUNT && !streq (gf_vectors[i].name, name))
            i++;
        if (i == GF_VECTOR_COUNT)
            fail_msg ("event type %s has no golden vector %s", type, name);
        gf_msg_t *msg = s_msg_of (gf_vectors[i].make ());
        assert_string_equal (gf_msg_type (msg), kind ? "notification.created" : type);
        if (kind) {
            char *got = NULL;
            assert_int_equal (gf_msg_get_str (msg, "kind", true, 0, &got, NULL), 0);
            assert_string_equal (got, kind);
            free (got);
        }
        gf_msg_destroy (&msg);
        count++;
    }
    free (types);
    //  024..032 add 33 event types (issue 14: 13, issue 15: 20).
    assert_true (count >= 33);
}

static void test_golden_vectors_events_carry_no_personal_data (void **state)
{
    (void)state;
    //  Every event vector: no key of the register or of a person (a count
    //  such as patrol.logged's members is fine), and none of the invented
    //  names and numbers the request vectors carry.
    static const char *keys[] = {"phone",   "address", "head_name", "members",
                                 "speaker", "goal",    "filename"};
    static const char *planted[] = {"欧阳",     "19700001234", "13812345678", "王测试",
                                    "现场照片", "张三",        "13812341234"};
    size_t events = 0;
    for (size_t i = 0; i < GF_VECTOR_COUNT; i++) {
        if (strncmp (gf_vectors[i].name, "event_", 6) != 0)
            continue;
        gf_msg_t *msg = s_msg_of (gf_vectors[i].make ());
        char *json = gf_msg_to_json (msg);
        json_t *object = json_loads (json, 0, NULL);
        assert_non_null (object);
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            if (json_object_get (object, keys[k]) &&
                !json_is_integer (json_object_get (object, keys[k])))
                fail_msg ("%s carries '%s'", gf_vectors[i].name, keys[k]);
        for (size_t k = 0; k < sizeof planted / sizeof planted[0]; k++)
            if (strstr (json, planted[k]))
                fail_msg ("%s carries '%s'", gf_vectors[i].name, planted[k]);
        json_decref (object);
        free (json);
        gf_msg_destroy (&msg);
        events++;
    }
    assert_true (events >= 38);
}

static void test_golden_vectors_case_events_carry_the_sql_payloads (void **state)
{
    (void)state;
    //  The payloads as the SQL builds them, keys in the order the relay
    //  reads them (jsonb: shorter keys first, then bytewise), the common
    //  keys (case, grid) dropped: gf_case_stream via gf_intake_store
    //  (intake.sql, privacy.sql), routing.sql, gf_notify_many.
    static const struct {
        const char *name;
        const char *keys;
    } want[] = {
        {"event_case_received", "source,urgent,category,reporter,source_ref,description,"
                                "reported_at,address_masked"},
        {"event_case_routed", "l2,via"},
        {"event_notification_created", "kind,role,text,recipient,notification"},
    };
    static const char *common[] = {"v", "type", "id", "at", "seq", "case", "grid"};
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        size_t i = 0;
        while (i < GF_VECTOR_COUNT && !streq (gf_vectors[i].name, want[w].name))
            i++;
        assert_true (i < GF_VECTOR_COUNT);
        gf_msg_t *msg = s_msg_of (gf_vectors[i].make ());
        char *json = gf_msg_to_json (msg);
        json_t *object = json_loads (json, JSON_PRESERVE_ORDER, NULL);
        assert_non_null (object);
        char keys[512] = "";
        size_t k = 0;
        for (void *it = json_object_iter (object); it; it = json_object_iter_next (object, it), k++)
            if (k < sizeof common / sizeof common[0])
                assert_string_equal (json_object_iter_key (it), common[k]);
            else
                snprintf (keys + strlen (keys), sizeof keys - strlen (keys), "%s%s",
                          *keys ? "," : "", json_object_iter_key (it));
        assert_string_equal (keys, want[w].keys);
        json_decref (object);
        free (json);
        gf_msg_destroy (&msg);
    }
    gf_msg_t *msg = s_msg_of (s_vec_event_case_received ());
    char *text = NULL;
    assert_int_equal (gf_msg_get_str (msg, "description", true, 0, &text, NULL), 0);
    assert_non_null (strstr (text, "[电话]"));
    free (text);
    assert_int_equal (gf_msg_get_str (msg, "address_masked", true, 0, &text, NULL), 0);
    assert_string_equal (text, "青年路**");
    free (text);
    gf_msg_destroy (&msg);
    msg = s_msg_of (s_vec_event_notification_created ());
    assert_int_equal (gf_msg_get_str (msg, "role", true, 0, &text, NULL), 0);
    assert_string_equal (text, "leader");
    free (text);
    assert_int_equal (gf_msg_get_str (msg, "kind", true, 0, &text, NULL), 0);
    assert_string_equal (text, "case.routed");
    free (text);
    gf_msg_destroy (&msg);
}

static void test_golden_vectors_every_file_has_an_input (void **state)
{
    (void)state;
    //  A .hex/.json pair without an entry in gf_vectors.inc would never be
    //  checked: every file in the directory must name a vector.
    const char *dir = getenv ("GF_VECTORS_DIR");
    DIR *handle = opendir (dir ? dir : "proto/vectors");
    assert_non_null (handle);
    size_t files = 0;
    struct dirent *entry;
    while ((entry = readdir (handle))) {
        const char *dot = strrchr (entry->d_name, '.');
        if (!dot || (!streq (dot, ".hex") && !streq (dot, ".json")))
            continue;
        bool known = false;
        for (size_t i = 0; i < GF_VECTOR_COUNT && !known; i++)
            known = strlen (gf_vectors[i].name) == (size_t)(dot - entry->d_name) &&
                    strncmp (gf_vectors[i].name, entry->d_name, (size_t)(dot - entry->d_name)) == 0;
        if (!known)
            fail_msg ("%s has no input in gf_vectors.inc", entry->d_name);
        files++;
    }
    closedir (handle);
    assert_int_equal (files, 2 * GF_VECTOR_COUNT);
}

static void test_golden_vectors_lifecycle_decode_as_their_messages (void **state)
{
    (void)state;
    //  complaint_submit_patrol: reporter, household and groups survive.
    zframe_t *frame = s_vec_complaint_submit_patrol ();
    gf_error_t err = {GF_OK, ""};
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    assert_non_null (msg);
    gf_complaint_t c;
    assert_int_equal (gf_complaint_from_msg (msg, &c, &err), 0);
    assert_string_equal (c.source, "patrol");
    assert_string_equal (c.reporter, "P-0731");
    assert_string_equal (c.household, "H-QNL.07.063-0312");
    assert_string_equal (c.groups, "dibao,disabled");
    assert_false (c.urgent);
    gf_complaint_reset (&c);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);

    //  case_action_sign: only the always-required keys; optionals absent.
    frame = s_vec_case_action_sign ();
    msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    assert_non_null (msg);
    gf_action_t a;
    assert_int_equal (gf_action_from_msg (msg, &a, &err), 0);
    assert_string_equal (a.id, "act-0001");
    assert_int_equal (a.case_id, 1001);
    assert_string_equal (a.action, "sign");
    assert_string_equal (a.actor, "P-0731");
    assert_int_equal (a.version, 2);
    assert_null (a.note);
    assert_null (a.department);
    assert_null (a.grid);
    assert_null (a.tier);
    assert_null (a.groups);
    assert_int_equal (a.into, 0);
    assert_int_equal (a.satisfied, -1);
    assert_int_equal (a.urgent, -1);
    gf_action_reset (&a);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);

    //  case_action_callback: Chinese note, satisfied false (not absent).
    frame = s_vec_case_action_callback ();
    msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    assert_non_null (msg);
    assert_int_equal (gf_action_from_msg (msg, &a, &err), 0);
    assert_string_equal (a.action, "callback");
    assert_int_equal (a.version, 5);
    assert_string_equal (a.note, "电话回访：路灯已修好，但居民反映亮度仍然不够，不满意。");
    assert_int_equal (a.satisfied, 0);
    assert_int_equal (a.urgent, -1);
    gf_action_reset (&a);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);

    //  reply_conflict: a failure that still carries the case's state.
    frame = s_vec_reply_conflict ();
    gf_reply_t r;
    assert_int_equal (gf_reply_decode (zframe_data (frame), zframe_size (frame), &r, &err), 0);
    assert_false (r.ok);
    assert_int_equal (r.code, GF_E_CONFLICT);
    assert_string_equal (r.id, "act-0006");
    assert_string_equal (r.state, "called_back");
    assert_int_equal (r.version, 6);
    assert_non_null (strstr (r.message, "version 6"));
    gf_reply_reset (&r);
    zframe_destroy (&frame);

    //  event_case_signed: common keys first, nil note, payload as stored.
    frame = s_vec_event_case_signed ();
    msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), &err);
    assert_non_null (msg);
    assert_string_equal (gf_msg_type (msg), "case.signed");
    assert_string_equal (gf_msg_id (msg), "6");
    char *text = NULL;
    assert_int_equal (gf_msg_get_str (msg, "grid", true, GF_MAX_CODE, &text, &err), 0);
    assert_string_equal (text, "QNL.07.063");
    free (text);
    assert_int_equal (gf_msg_get_str (msg, "note", false, GF_MAX_DESCRIPTION, &text, &err), 1);
    int64_t version = 0;
    assert_int_equal (gf_msg_get_int (msg, "version", true, &version, &err), 0);
    assert_int_equal (version, 3);
    const char *keys[] = {"from", "to", "actor", "action"};
    const char *want[] = {"routed", "signed", "P-0731", "sign"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal (gf_msg_get_str (msg, keys[i], true, GF_MAX_REF, &text, &err), 0);
        assert_string_equal (text, want[i]);
        free (text);
    }
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_decode_rejects_garbage_bytes_as_malformed),
        cmocka_unit_test (test_decode_rejects_empty_body_as_malformed),
        cmocka_unit_test (test_decode_rejects_truncated_map_as_malformed),
        cmocka_unit_test (test_decode_rejects_trailing_bytes_as_malformed),
        cmocka_unit_test (test_decode_rejects_body_over_64k_as_too_large),
        cmocka_unit_test (test_decode_accepts_body_of_exactly_64k),
        cmocka_unit_test (test_decode_accepts_8_levels_rejects_9_as_too_deep),
        cmocka_unit_test (test_decode_rejects_1000_levels_as_too_deep),
        cmocka_unit_test (test_decode_counts_empty_containers_as_levels),
        cmocka_unit_test (test_decode_depth_returns_after_sibling_containers),
        cmocka_unit_test (test_decode_reports_malformed_before_too_deep),
        cmocka_unit_test (test_decode_rejects_array_top_as_not_a_map),
        cmocka_unit_test (test_decode_rejects_int_key_as_not_a_map),
        cmocka_unit_test (test_decode_rejects_int_key_in_nested_map_as_not_a_map),
        cmocka_unit_test (test_decode_rejects_duplicate_key_as_not_a_map),
        cmocka_unit_test (test_decode_rejects_16k_plus_1_string_in_unknown_key_as_too_long),
        cmocka_unit_test (test_decode_rejects_16k_plus_1_key_as_too_long),
        cmocka_unit_test (test_decode_rejects_long_string_nested_in_array_as_too_long),
        cmocka_unit_test (test_decode_accepts_binary_without_utf8_check),
        cmocka_unit_test (test_decode_rejects_binary_over_16k_as_too_long),
        cmocka_unit_test (test_decode_rejects_bad_continuation_as_invalid_utf8),
        cmocka_unit_test (test_decode_rejects_overlong_as_invalid_utf8),
        cmocka_unit_test (test_decode_rejects_surrogate_as_invalid_utf8),
        cmocka_unit_test (test_decode_rejects_code_point_above_10ffff_as_invalid_utf8),
        cmocka_unit_test (test_decode_rejects_invalid_utf8_in_key),
        cmocka_unit_test (test_decode_reports_too_long_before_invalid_utf8),
        cmocka_unit_test (test_decode_rejects_missing_v_as_missing_field),
        cmocka_unit_test (test_decode_rejects_mistyped_v_as_wrong_type),
        cmocka_unit_test (test_decode_rejects_other_version_as_unsupported_version),
        cmocka_unit_test (test_decode_rejects_missing_type_as_missing_field),
        cmocka_unit_test (test_decode_rejects_mistyped_type_as_wrong_type),
        cmocka_unit_test (test_decode_rejects_empty_type_as_bad_value),
        cmocka_unit_test (test_decode_limits_type_to_64_chars),
        cmocka_unit_test (test_decode_checks_id_and_at_types),
        cmocka_unit_test (test_decode_exposes_common_keys),
        cmocka_unit_test (test_decode_ignores_unknown_keys),
        cmocka_unit_test (test_decode_fills_err_null_safely),
        cmocka_unit_test (test_get_int_accepts_positive_and_negative_rejects_float),
        cmocka_unit_test (test_get_int_rejects_uint64_beyond_int64_as_bad_value),
        cmocka_unit_test (test_get_uint_rejects_negative_as_bad_value),
        cmocka_unit_test (test_get_bool_rejects_int),
        cmocka_unit_test (test_get_str_counts_code_points_not_bytes),
        cmocka_unit_test (test_get_str_rejects_embedded_nul_as_bad_value),
        cmocka_unit_test (test_complaint_accepts_minimal),
        cmocka_unit_test (test_complaint_rejects_other_type_as_unknown_type),
        cmocka_unit_test (test_complaint_rejects_each_missing_required_field),
        cmocka_unit_test (test_complaint_rejects_each_mistyped_field),
        cmocka_unit_test (test_complaint_limits_each_field_in_characters),
        cmocka_unit_test (test_complaint_rejects_4001_chinese_chars_accepts_4000),
        cmocka_unit_test (test_complaint_rejects_unknown_source_as_bad_value),
        cmocka_unit_test (test_complaint_patrol_and_visit_need_a_reporter),
        cmocka_unit_test (test_complaint_rejects_unknown_or_malformed_groups),
        cmocka_unit_test (test_action_round_trip_and_rejections),
        cmocka_unit_test (test_attachment_limits_round_trip_and_sniff),
        cmocka_unit_test (test_reply_carries_state_and_version),
        cmocka_unit_test (test_complaint_rejects_empty_description_as_bad_value),
        cmocka_unit_test (test_complaint_rejects_blank_description_as_bad_value),
        cmocka_unit_test (test_complaint_rejects_empty_required_strings_as_bad_value),
        cmocka_unit_test (test_complaint_rejects_negative_reported_at_as_bad_value),
        cmocka_unit_test (test_complaint_rejects_reported_at_after_year_9999_as_bad_value),
        cmocka_unit_test (test_complaint_treats_null_optionals_as_absent),
        cmocka_unit_test (test_complaint_round_trips_all_fields),
        cmocka_unit_test (test_complaint_encode_omits_null_fields),
        cmocka_unit_test (test_reply_round_trips_ok_and_duplicate),
        cmocka_unit_test (test_reply_round_trips_error_with_nil_id),
        cmocka_unit_test (test_reply_encode_cuts_message_to_512_chars),
        cmocka_unit_test (test_reply_decode_rejects_bad_replies),
        cmocka_unit_test (test_reply_decode_maps_unknown_code_to_internal),
        cmocka_unit_test (test_event_encode_puts_common_keys_first_and_keeps_nested_payload),
        cmocka_unit_test (test_event_encode_drops_payload_keys_that_clash),
        cmocka_unit_test (test_event_encode_keeps_integers_and_makes_reals_float64),
        cmocka_unit_test (test_event_encode_with_nil_grid_and_no_payload),
        cmocka_unit_test (test_event_encode_rejects_bad_payloads),
        cmocka_unit_test (test_event_encode_flat_payload_same_as_jansson),
        cmocka_unit_test (test_event_encode_agrees_with_the_decoder_at_each_limit),
        cmocka_unit_test (test_event_pack_reuses_a_buffer_and_gives_the_same_bytes),
        cmocka_unit_test (test_replay_request_round_trips),
        cmocka_unit_test (test_replay_probe_round_trips),
        cmocka_unit_test (test_replay_request_batch_flag_round_trips),
        cmocka_unit_test (test_replay_batch_round_trips),
        cmocka_unit_test (test_replay_batch_refuses_truncated_and_wrong_types),
        cmocka_unit_test (test_replay_request_checks_fields),
        cmocka_unit_test (test_replay_end_encodes_page_and_error),
        cmocka_unit_test (test_relay_hb_encodes_exact_bytes),
        cmocka_unit_test (test_to_json_renders_binary_as_base64_and_keeps_order),
        cmocka_unit_test (test_utf8_count_edge_cases),
        cmocka_unit_test (test_code_names_round_trip),
        cmocka_unit_test (test_code_from_sqlstate_names_failures_right),
        cmocka_unit_test (test_error_set_truncates_on_a_utf8_boundary),
        cmocka_unit_test (test_golden_vectors_encode_byte_for_byte),
        cmocka_unit_test (test_golden_vectors_decode_to_their_json),
        cmocka_unit_test (test_golden_vectors_decode_as_their_messages),
        cmocka_unit_test (test_golden_vectors_lifecycle_decode_as_their_messages),
        cmocka_unit_test (test_golden_vectors_every_file_has_an_input),
        cmocka_unit_test (test_golden_vector_meeting_action_decodes),
        cmocka_unit_test (test_golden_vectors_field_logs_decode),
        cmocka_unit_test (test_golden_vector_programme_action_decodes),
        cmocka_unit_test (test_golden_vector_household_decodes),
        cmocka_unit_test (test_golden_vectors_issue_14_requests_decode),
        cmocka_unit_test (test_golden_vectors_issue_15_requests_decode),
        cmocka_unit_test (test_golden_vectors_cover_the_new_event_types),
        cmocka_unit_test (test_golden_vectors_events_carry_no_personal_data),
        cmocka_unit_test (test_golden_vectors_case_events_carry_the_sql_payloads),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
