/*  Regressions for what the libFuzzer targets found (docs/fuzzing.md).
    Each input is also kept in tests/fuzz/regress/ and replayed by the
    bounded fuzz run; these tests pin the behaviour in the ordinary unit
    suite (and under ASan and valgrind, where the old code failed). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gf_clock.h"
#include "gf_proto.h"

//  A heap copy of exactly strlen + 1 bytes, so a read past the end is a
//  heap-buffer-overflow under ASan and an invalid read under valgrind.
static int s_parse_exact (const char *text, int64_t *ms)
{
    char *copy = strdup (text);
    int rc = gf_clock_parse (copy, ms);
    free (copy);
    return rc;
}

//  fuzz_hotline: "+0:00" as the UTC offset made gf_clock_parse step six
//  bytes over a five-byte offset, past the end of the text.
static void test_clock_offset_must_be_hh_mm (void **state)
{
    int64_t ms = 0;
    assert_int_equal (s_parse_exact ("2026-11-02T08:15:00+0:00", &ms), -1);
    assert_int_equal (s_parse_exact ("2026-11-02T08:15:00+08:0", &ms), -1);
    assert_int_equal (s_parse_exact ("2026-11-02T08:15:00+8:0", &ms), -1);
    assert_int_equal (s_parse_exact ("2026-11-02T08:15:00+ 8:00", &ms), -1);
    assert_int_equal (s_parse_exact ("2026-11-02T08:15:00+-1:00", &ms), -1);
    assert_int_equal (s_parse_exact ("2026-11-02T08:15:00+", &ms), -1);
    assert_int_equal (s_parse_exact ("2026-11-02T08:15:00+15:00", &ms), -1);
    //  Still accepted: exactly ±hh:mm.
    assert_int_equal (s_parse_exact ("2026-11-02T08:15:00+08:00", &ms), 0);
    assert_int_equal (ms, INT64_C (1793578500000));
    assert_int_equal (s_parse_exact ("2026-11-02T00:15:00-00:00", &ms), 0);
    assert_int_equal (ms, INT64_C (1793578500000));
}

//  fuzz_msg: gf_msg_peek_id handed the raw body to msgpack-c, which
//  allocates a container's items when it reads the header: a few bytes
//  claiming a map of 2^32 - 1 entries asked for ~128 GB (ASan aborts; a
//  smaller count succeeds and reserves gigabytes per request).
static void test_peek_id_refuses_counts_beyond_the_body (void **state)
{
    //  {"id":"r-1", <map32 of 0xffffffff entries, truncated>
    static const unsigned char hostile[] = {0x82, 0xa2, 'i', 'd',  0xa3, 'r',  '-',
                                            '1',  0xa1, 'x', 0xdf, 0xff, 0xff, 0xff,
                                            0xff, 0xa1, 'k', 0xa1, 'v'};
    assert_null (gf_msg_peek_id (hostile, sizeof hostile));
    //  The body the fuzzer found: a replay.request whose `from` is a map32.
    static const unsigned char found[] = {
        0x86, 0xa1, 0x76, 0x01, 0xa4, 0x74, 0x79, 0x70, 0xb5, 0xae, 0x72, 0x65, 0x70, 0x6c, 0x61,
        0x79, 0x2e, 0x72, 0x65, 0x71, 0x75, 0x65, 0x73, 0x74, 0xa2, 0x69, 0x64, 0xa4, 0x72, 0x70,
        0x2d, 0x31, 0xa4, 0x66, 0x72, 0x6f, 0x6d, 0xdf, 0x64, 0xa6, 0x70, 0x72, 0x65, 0x66, 0x69,
        0x78, 0xb2, 0x63, 0x61, 0x73, 0x65, 0x2e, 0x72, 0x6f, 0x75, 0x74, 0x65, 0x64, 0x2f, 0x51,
        0x4e, 0x4c, 0x2e, 0x30, 0x37, 0xa5, 0x6c, 0x69, 0x6d, 0x69, 0x74, 0xcd, 0x01, 0xf4};
    assert_null (gf_msg_peek_id (found, sizeof found));
    gf_error_t err;
    assert_null (gf_msg_decode (found, sizeof found, &err));
    assert_int_equal (err.code, GF_E_MALFORMED);
}

//  What peek is for still works: a complete map with an id, even one that
//  gf_msg_decode refuses (here: too deep), names the request.
static void test_peek_id_still_names_refused_bodies (void **state)
{
    unsigned char deep[64];
    size_t n = 0;
    deep[n++] = 0x82;
    deep[n++] = 0xa2, deep[n++] = 'i', deep[n++] = 'd';
    deep[n++] = 0xa3, deep[n++] = 'r', deep[n++] = '-', deep[n++] = '2';
    deep[n++] = 0xa1, deep[n++] = 'x';
    for (int i = 0; i < GF_MAX_DEPTH + 1; i++)
        deep[n++] = 0x91; //  [[[[...
    deep[n++] = 0x01;
    gf_error_t err;
    assert_null (gf_msg_decode (deep, n, &err));
    assert_int_equal (err.code, GF_E_TOO_DEEP);
    char *id = gf_msg_peek_id (deep, n);
    assert_non_null (id);
    assert_string_equal (id, "r-2");
    free (id);
    //  Truncated: nothing to name.
    assert_null (gf_msg_peek_id (deep, n - 1));
}

//  fuzz_msg: msgpack-c leaves the pointer of an empty str NULL, and the
//  duplicate-key check passed it to memcmp (size 0, still undefined; UBSan
//  stopped there).  Two empty keys are a duplicate; an empty string value
//  and an empty key render and read as "".
static void test_empty_keys_and_strings (void **state)
{
    const unsigned char twice[] = {0x83, 0xa0, 0x83, 0xa0, 0x00, 0xa0, 0x00,
                                   0xa0, 0x1b, 0x1b, 0x00, 0x00, 0x00};
    gf_error_t err;
    assert_null (gf_msg_decode (twice, sizeof twice, &err));
    assert_int_equal (err.code, GF_E_NOT_MAP);
    assert_string_equal (err.message, "a map has key '' twice");
    //  {v: 1, type: "t", a: "", "": 1}
    const unsigned char empty[] = {0x84, 0xa1, 0x76, 0x01, 0xa4, 0x74, 0x79, 0x70,
                                   0x65, 0xa1, 0x74, 0xa1, 0x61, 0xa0, 0xa0, 0x01};
    gf_msg_t *msg = gf_msg_decode (empty, sizeof empty, &err);
    assert_non_null (msg);
    char *json = gf_msg_to_json (msg);
    assert_string_equal (json, "{\"v\":1,\"type\":\"t\",\"a\":\"\",\"\":1}");
    free (json);
    char *a = NULL;
    assert_int_equal (gf_msg_get_str (msg, "a", true, 10, &a, &err), 0);
    assert_string_equal (a, "");
    free (a);
    gf_msg_destroy (&msg);
}

//  fuzz_event: gf_event_pack's flat reader added up every digit of an
//  integer, and 19 of them overflowed an int64 (UBSan) before it saw that
//  the number was too long for it.  Past 18 digits, jansson reads it: an
//  int64 is kept, a bigger one refuses the payload as before.
static void test_long_integers_in_a_payload (void **state)
{
    zframe_t *frame = gf_event_encode (1, "t", 1, 0, 0, NULL, "{\"c\":9223372036854775807}");
    assert_non_null (frame);
    gf_msg_t *msg = gf_msg_decode (zframe_data (frame), zframe_size (frame), NULL);
    assert_non_null (msg);
    int64_t c = 0;
    assert_int_equal (gf_msg_get_int (msg, "c", true, &c, NULL), 0);
    assert_true (c == INT64_MAX);
    gf_msg_destroy (&msg);
    zframe_destroy (&frame);
    assert_null (gf_event_encode (1, "t", 1, 0, 0, NULL, "{\"c\":99999999999999999999999999}"));
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_clock_offset_must_be_hh_mm),
        cmocka_unit_test (test_peek_id_refuses_counts_beyond_the_body),
        cmocka_unit_test (test_peek_id_still_names_refused_bodies),
        cmocka_unit_test (test_empty_keys_and_strings),
        cmocka_unit_test (test_long_integers_in_a_payload),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
