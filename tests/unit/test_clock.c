/*  gf_clock: parsing and formatting of call-centre times (Asia/Shanghai). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

#include "gf_clock.h"

/* 2026-11-02T08:15:00+08:00 == 2026-11-02T00:15:00Z */
#define T0 INT64_C (1793578500000)

static void test_parse_with_offset (void **state)
{
    int64_t ms = 0;
    assert_int_equal (gf_clock_parse ("2026-11-02T08:15:00+08:00", &ms), 0);
    assert_int_equal (ms, T0);
}

static void test_parse_utc_and_fraction (void **state)
{
    int64_t ms = 0;
    assert_int_equal (gf_clock_parse ("2026-11-02T00:15:00.250Z", &ms), 0);
    assert_int_equal (ms, T0 + 250);
}

static void test_parse_without_zone_is_local_time (void **state)
{
    int64_t ms = 0;
    assert_int_equal (gf_clock_parse ("2026-11-02 08:15:00", &ms), 0);
    assert_int_equal (ms, T0);
}

static void test_parse_rejects_garbage (void **state)
{
    int64_t ms = 42;
    assert_int_equal (gf_clock_parse ("yesterday", &ms), -1);
    assert_int_equal (gf_clock_parse ("2026-13-02T08:15:00Z", &ms), -1);
    assert_int_equal (gf_clock_parse ("2026-11-02T08:15:00+0800x", &ms), -1);
    assert_int_equal (gf_clock_parse ("2026-11-02T08:15:00Zjunk", &ms), -1);
    assert_int_equal (gf_clock_parse (NULL, &ms), -1);
    assert_int_equal (gf_clock_parse ("2026-11-31T08:00:00+08:00", &ms), -1);
    assert_int_equal (gf_clock_parse ("2027-02-29T08:00:00+08:00", &ms), -1);
    assert_int_equal (gf_clock_parse ("2026-11-02T08:15:60+08:00", &ms), -1);
    assert_int_equal (ms, 42);
}

static void test_parse_accepts_leap_days (void **state)
{
    int64_t ms = 0;
    assert_int_equal (gf_clock_parse ("2028-02-29T00:00:00Z", &ms), 0);
    assert_int_equal (gf_clock_parse ("2000-02-29T00:00:00Z", &ms), 0);
    assert_int_equal (gf_clock_parse ("2100-02-29T00:00:00Z", &ms), -1);
}

static void test_format_is_local_time (void **state)
{
    char buf[40];
    gf_clock_format (T0, buf, sizeof buf);
    assert_string_equal (buf, "2026-11-02T08:15:00+08:00");
}

static void test_simulated_offset_moves_the_clock (void **state)
{
    unsetenv ("GF_CLOCK_OFFSET_MS");
    int64_t real = gf_clock_now_ms ();
    setenv ("GF_CLOCK_OFFSET_MS", "86400000", 1);
    int64_t shifted = gf_clock_now_ms ();
    unsetenv ("GF_CLOCK_OFFSET_MS");
    assert_true (shifted - real >= 86400000);
    assert_true (shifted - real < 86400000 + 1000);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse_with_offset),
        cmocka_unit_test (test_parse_utc_and_fraction),
        cmocka_unit_test (test_parse_without_zone_is_local_time),
        cmocka_unit_test (test_parse_rejects_garbage),
        cmocka_unit_test (test_parse_accepts_leap_days),
        cmocka_unit_test (test_format_is_local_time),
        cmocka_unit_test (test_simulated_offset_moves_the_clock),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
