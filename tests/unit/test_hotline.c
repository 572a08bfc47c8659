/*  gf_hotline_parse: call records become complaints, bad records get a
    reason and allocate nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gf_proto.h"
#include "gf_hotline.h"

static void test_full_record (void **state)
{
    gf_complaint_t c;
    gf_error_t err;
    const char *line = "{\"call_id\":\"HL-1\",\"time\":\"2026-11-02T08:15:00+08:00\","
                       "\"caller\":\"王先生\",\"phone\":\"13912345678\",\"text\":\"路灯不亮\","
                       "\"address\":\"西街村3组12号\",\"grid\":\"QNL.01.001\","
                       "\"category\":\"power\",\"urgent\":true}";
    assert_int_equal (gf_hotline_parse (line, 7, &c, &err), 0);
    assert_string_equal (c.id, "7:HL-1");
    assert_string_equal (c.source, "hotline");
    assert_string_equal (c.source_ref, "HL-1");
    assert_string_equal (c.description, "路灯不亮");
    assert_string_equal (c.name, "王先生");
    assert_string_equal (c.phone, "13912345678");
    assert_string_equal (c.address, "西街村3组12号");
    assert_string_equal (c.grid, "QNL.01.001");
    assert_string_equal (c.category, "power");
    assert_true (c.urgent);
    assert_int_equal (c.reported_at, INT64_C (1793578500000));
    gf_complaint_reset (&c);
}

static void test_minimal_record (void **state)
{
    gf_complaint_t c;
    gf_error_t err;
    assert_int_equal (gf_hotline_parse ("{\"call_id\":\"HL-2\",\"text\":\"噪音\"}", 1, &c, &err),
                      0);
    assert_null (c.grid);
    assert_null (c.phone);
    assert_false (c.urgent);
    assert_int_equal (c.reported_at, 0);
    gf_complaint_reset (&c);
}

static void s_rejects (const char *line, gf_code_t code)
{
    gf_complaint_t c;
    gf_error_t err = {GF_OK, ""};
    assert_int_equal (gf_hotline_parse (line, 1, &c, &err), -1);
    assert_int_equal (err.code, code);
    assert_true (strlen (err.message) > 0);
    assert_null (c.source);
    assert_null (c.id);
}

static void test_bad_records_are_rejected_with_a_reason (void **state)
{
    s_rejects ("not json", GF_E_MALFORMED);
    s_rejects ("[1,2]", GF_E_MALFORMED);
    s_rejects ("{\"text\":\"无编号\"}", GF_E_MISSING_FIELD);
    s_rejects ("{\"call_id\":\"HL-3\"}", GF_E_MISSING_FIELD);
    s_rejects ("{\"call_id\":3,\"text\":\"x\"}", GF_E_WRONG_TYPE);
    s_rejects ("{\"call_id\":\"HL-4\",\"text\":\"x\",\"urgent\":\"yes\"}", GF_E_WRONG_TYPE);
    s_rejects ("{\"call_id\":\"HL-5\",\"text\":\"x\",\"time\":\"last night\"}", GF_E_BAD_VALUE);
    s_rejects ("{\"call_id\":\"HL-6\",\"call_id\":\"HL-7\",\"text\":\"x\"}", GF_E_MALFORMED);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_full_record),
        cmocka_unit_test (test_minimal_record),
        cmocka_unit_test (test_bad_records_are_rejected_with_a_reason),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
