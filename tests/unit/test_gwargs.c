/*  gf_gwargs: the gateway's argument parsing, without a server. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gf_gwargs.h"

static void s_free_item (void **item)
{
    free (*item);
    *item = NULL;
}

static void test_filter_lists_and_dates (void **state)
{
    gf_gwargs_filter_t f;
    char *why = gf_gwargs_filter ("1, 22,333", "water,power", "2026-01-31T08:00:00+08:00",
                                  "2026-02-01", "open", &f);
    assert_null (why);
    assert_string_equal (f.ids, "{1,22,333}");
    assert_string_equal (f.codes, "{water,power}");
    assert_string_equal (f.statuses, "{open}");
    assert_string_equal (f.start, "2026-01-31T08:00:00+08:00");
    gf_gwargs_filter_reset (&f);
    assert_null (f.ids);

    why = gf_gwargs_filter ("1,x}", NULL, NULL, NULL, NULL, &f);
    assert_non_null (why);
    assert_non_null (strstr (why, "'x}'"));
    assert_null (f.ids);
    free (why);
    why = gf_gwargs_filter (NULL, "Water", NULL, NULL, NULL, &f);
    assert_non_null (strstr (why, "service_code"));
    free (why);
    why = gf_gwargs_filter (NULL, NULL, "2026-02-30T24:00", NULL, NULL, &f);
    assert_non_null (strstr (why, "start_date"));
    free (why);
    why = gf_gwargs_filter (NULL, NULL, NULL, NULL, "open,closed,open", &f);
    assert_non_null (strstr (why, "status"));
    free (why);
    why = gf_gwargs_filter (",,,", NULL, NULL, NULL, NULL, &f);
    assert_non_null (why);
    free (why);
}

static void test_datetime (void **state)
{
    assert_true (gf_gwargs_is_datetime ("2026-01-31"));
    assert_true (gf_gwargs_is_datetime ("2026-01-31T08:00Z"));
    assert_true (gf_gwargs_is_datetime ("2026-01-31T08:00:00.123-0330"));
    assert_false (gf_gwargs_is_datetime ("2026-1-31"));
    assert_false (gf_gwargs_is_datetime ("2026-01-31T08:00:00+15:00"));
    assert_false (gf_gwargs_is_datetime ("2026-01-31T08:00:00."));
    assert_false (gf_gwargs_is_datetime (""));
    //  Dates the database would refuse are a 400 here (issue 13), not a 503.
    assert_false (gf_gwargs_is_datetime ("2026-02-31"));
    assert_false (gf_gwargs_is_datetime ("2026-04-31T08:00Z"));
    assert_false (gf_gwargs_is_datetime ("2025-02-29"));
    assert_true (gf_gwargs_is_datetime ("2024-02-29"));
    assert_false (gf_gwargs_is_datetime ("1900-02-29"));
    assert_true (gf_gwargs_is_datetime ("2000-02-29"));
}

static void test_sse_arguments_and_match (void **state)
{
    gf_gwargs_sse_t a;
    assert_null (gf_gwargs_sse ("42", "7", "QNL.01", "case.*,notification.created", &a));
    assert_true (a.resume);
    assert_int_equal (a.from, 42); //  the header wins over since=
    assert_int_equal (a.ntypes, 2);
    assert_true (gf_gwargs_sse_match (&a, "case.routed", "QNL.01.003"));
    assert_true (gf_gwargs_sse_match (&a, "notification.created", "QNL.01"));
    assert_false (gf_gwargs_sse_match (&a, "case.routed", "QNL.010"));
    assert_false (gf_gwargs_sse_match (&a, "case.routed", NULL));
    assert_false (gf_gwargs_sse_match (&a, "escalation.raised", "QNL.01"));
    gf_gwargs_sse_reset (&a);
    //  Issue 16: the viewer's subtree, the C twin of gf_in_subtree.
    assert_true (gf_gwargs_in_subtree ("QNL.07", "QNL.07"));
    assert_true (gf_gwargs_in_subtree ("QNL.07.063", "QNL.07"));
    assert_true (gf_gwargs_in_subtree ("QNL.07.063", "QNL"));
    assert_false (gf_gwargs_in_subtree ("QNL.070", "QNL.07"));
    assert_false (gf_gwargs_in_subtree ("QNL", "QNL.07"));
    assert_false (gf_gwargs_in_subtree ("QNL.08.067", "QNL.07"));
    assert_false (gf_gwargs_in_subtree (NULL, "QNL"));
    assert_false (gf_gwargs_in_subtree ("QNL", NULL));
    assert_false (gf_gwargs_in_subtree ("QNL", ""));

    assert_non_null (gf_gwargs_sse ("-1", NULL, NULL, NULL, &a));
    assert_non_null (gf_gwargs_sse (NULL, "18446744073709551616", NULL, NULL, &a));
    assert_non_null (gf_gwargs_sse (NULL, NULL, "qnl", NULL, &a));
    assert_non_null (gf_gwargs_sse (NULL, NULL, "", NULL, &a));
    assert_null (a.grid);
    char many[33 * 3 + 1] = "";
    for (int i = 0; i < 33; i++)
        strcat (many, "x,,");
    assert_non_null (gf_gwargs_sse (NULL, NULL, NULL, many, &a));
    assert_int_equal (a.ntypes, 0);
    assert_null (gf_gwargs_sse (NULL, NULL, NULL, NULL, &a));
    assert_false (a.resume);
    assert_true (gf_gwargs_sse_match (&a, "anything", NULL));

    //  Issue 13: 2^64-1 and anything over a bigint is refused, not wrapped.
    assert_non_null (gf_gwargs_sse (NULL, "18446744073709551615", NULL, NULL, &a));
    assert_non_null (gf_gwargs_sse ("9223372036854775808", NULL, NULL, NULL, &a));
    assert_null (gf_gwargs_sse (NULL, "9223372036854775807", NULL, NULL, &a));
    //  ... and a resume point after the head, or too far behind it, is a 400.
    assert_non_null (gf_gwargs_sse_window (&a, 1000, 0));
    assert_null (gf_gwargs_sse (NULL, "1000", NULL, NULL, &a));
    assert_null (gf_gwargs_sse_window (&a, 1000, 0));
    assert_non_null (gf_gwargs_sse_window (&a, 999, 0));
    assert_null (gf_gwargs_sse (NULL, "0", NULL, NULL, &a));
    assert_null (gf_gwargs_sse_window (&a, 1000, 1000));
    assert_non_null (gf_gwargs_sse_window (&a, 1001, 1000));
    assert_null (gf_gwargs_sse_window (&a, 5000000, 0));
    assert_null (gf_gwargs_sse (NULL, NULL, NULL, NULL, &a));
    assert_null (gf_gwargs_sse_window (&a, 0, 1)); //  live: nothing to check
}

static void test_post_check_and_form (void **state)
{
    zhashx_t *form = zhashx_new ();
    zhashx_set_destructor (form, s_free_item);
    gf_gwargs_form_add (form, "service_code", "wat", 0, 3);
    gf_gwargs_form_add (form, "service_code", "er", 3, 2);
    assert_string_equal (gf_gwargs_form (form, "service_code"), "water");
    assert_non_null (strstr (gf_gwargs_post_check (form, NULL), "location"));
    gf_gwargs_form_add (form, "lat", "39.9", 0, 4);
    assert_non_null (gf_gwargs_post_check (form, NULL)); //  lat without long
    gf_gwargs_form_add (form, "long", "116.4", 0, 5);
    assert_null (gf_gwargs_post_check (form, NULL));
    gf_gwargs_form_add (form, "attribute[urgent]", "yes", 0, 3);
    assert_non_null (strstr (gf_gwargs_post_check (form, NULL), "urgent"));
    gf_gwargs_form_add (form, "attribute[urgent]", "true", 0, 4);
    char token[82];
    memset (token, 'k', 81);
    token[81] = 0;
    assert_non_null (strstr (gf_gwargs_post_check (form, token), "80"));
    token[80] = 0;
    assert_null (gf_gwargs_post_check (form, token));
    gf_gwargs_form_add (form, "service_code", "", 0, 0);
    assert_null (gf_gwargs_form (form, "service_code"));
    assert_non_null (strstr (gf_gwargs_post_check (form, token), "service_code"));
    zhashx_destroy (&form);
}

static void test_days (void **state)
{
    long n = 0;
    assert_true (gf_gwargs_days (NULL, &n));
    assert_int_equal (n, 30);
    assert_true (gf_gwargs_days ("366", &n));
    assert_int_equal (n, 366);
    assert_false (gf_gwargs_days ("0", &n));
    assert_false (gf_gwargs_days ("", &n));
    assert_false (gf_gwargs_days ("7d", &n));
    assert_false (gf_gwargs_days ("99999999999999999999", &n));
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_filter_lists_and_dates),
        cmocka_unit_test (test_datetime),
        cmocka_unit_test (test_sse_arguments_and_match),
        cmocka_unit_test (test_post_check_and_form),
        cmocka_unit_test (test_days),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
