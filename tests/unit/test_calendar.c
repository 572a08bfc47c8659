/*  gf_calendar: the China working calendar over the real 2025 and 2026
    notices in deploy/calendar (or $GF_CALENDAR_DIR); run from the repo root.

    2026 (State Council notice, deploy/calendar/2026.json):
      元旦   off Jan 1–3, make-up Sunday Jan 4
      春节   off Feb 15 (Sun)–23 (Mon), make-up Saturdays Feb 14 and Feb 28
      劳动节 off May 1–5, make-up Saturday May 9
      中秋/国庆 off Sep 25–27 and Oct 1–7, make-up Sunday Sep 20, Saturday Oct 10
    2025: 国庆节、中秋节 off Oct 1–8, make-up Sunday Sep 28 and Saturday Oct 11;
      春节 make-up Sunday Jan 26, Saturday Feb 8.
    2027 has no notice yet. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <czmq.h>

#include "gf_calendar.h"
#include "gf_clock.h"

static const char *s_data_dir (void)
{
    const char *dir = getenv ("GF_CALENDAR_DIR");
    return dir ? dir : "deploy/calendar";
}

/*  A calendar with the 2025 and 2026 notices, fresh for each test. */
static int s_setup (void **state)
{
    gf_calendar_t *calendar = gf_calendar_new ();
    char path[1024], why[512];
    for (int year = 2025; year <= 2026; year++) {
        snprintf (path, sizeof path, "%s/%d.json", s_data_dir (), year);
        if (gf_calendar_load_json (calendar, path, why, sizeof why) != 0) {
            fprintf (stderr, "cannot load %s\n", why);
            gf_calendar_destroy (&calendar);
            return -1;
        }
    }
    *state = calendar;
    return 0;
}

static int s_teardown (void **state)
{
    gf_calendar_destroy ((gf_calendar_t **)state);
    return 0;
}

/*  A scratch file for the rejection tests; caller frees the path. */
static char *s_write (const char *name, const char *text)
{
    char *path = zsys_sprintf ("%s/gf_calendar_test_%d_%s", P_tmpdir, getpid (), name);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
    return path;
}

/*  Loads `text` as a file; returns load_json's result, the reason in why. */
static int s_load_text (gf_calendar_t *calendar, const char *text, char *why, size_t len)
{
    char *path = s_write ("notice.json", text);
    why[0] = 0;
    int rc = gf_calendar_load_json (calendar, path, why, len);
    unlink (path);
    free (path);
    return rc;
}

static void test_spring_festival_2026_days_off (void **state)
{
    gf_calendar_t *calendar = (gf_calendar_t *)*state;
    for (int d = 15; d <= 23; d++)
        assert_false (gf_calendar_is_workday (calendar, 2026, 2, d));
    assert_true (gf_calendar_is_workday (calendar, 2026, 2, 13)); /* Friday before */
    assert_true (gf_calendar_is_workday (calendar, 2026, 2, 24)); /* Tuesday after */
}

static void test_spring_festival_2026_makeup_saturdays_are_worked (void **state)
{
    gf_calendar_t *calendar = (gf_calendar_t *)*state;
    assert_true (gf_calendar_is_workday (calendar, 2026, 2, 14));
    assert_true (gf_calendar_is_workday (calendar, 2026, 2, 28));
    assert_false (gf_calendar_is_workday (calendar, 2026, 3, 1)); /* the Sunday after: off */
}

static void test_national_day_2025 (void **state)
{
    gf_calendar_t *calendar = (gf_calendar_t *)*state;
    for (int d = 1; d <= 8; d++)
        assert_false (gf_calendar_is_workday (calendar, 2025, 10, d));
    assert_true (gf_calendar_is_workday (calendar, 2025, 9, 28));  /* make-up Sunday */
    assert_true (gf_calendar_is_workday (calendar, 2025, 10, 9));  /* Thursday */
    assert_true (gf_calendar_is_workday (calendar, 2025, 10, 11)); /* make-up Saturday */
    assert_false (gf_calendar_is_workday (calendar, 2025, 10, 12));
}

static void test_makeup_sundays_are_worked (void **state)
{
    gf_calendar_t *calendar = (gf_calendar_t *)*state;
    assert_true (gf_calendar_is_workday (calendar, 2026, 1, 4));
    assert_true (gf_calendar_is_workday (calendar, 2026, 9, 20));
    assert_true (gf_calendar_is_workday (calendar, 2025, 1, 26));
    assert_true (gf_calendar_is_workday (calendar, 2025, 4, 27));
}

static void test_makeup_saturdays_are_worked (void **state)
{
    gf_calendar_t *calendar = (gf_calendar_t *)*state;
    assert_true (gf_calendar_is_workday (calendar, 2026, 5, 9));
    assert_true (gf_calendar_is_workday (calendar, 2026, 10, 10));
    assert_true (gf_calendar_is_workday (calendar, 2025, 2, 8));
}

static void test_plain_weekend_is_off (void **state)
{
    gf_calendar_t *calendar = (gf_calendar_t *)*state;
    assert_false (gf_calendar_is_workday (calendar, 2026, 3, 7));
    assert_false (gf_calendar_is_workday (calendar, 2026, 3, 8));
    assert_false (gf_calendar_is_workday (calendar, 2025, 11, 15));
    assert_false (gf_calendar_is_workday (calendar, 2025, 11, 16));
}

static void test_plain_weekday_is_worked_and_counts_nothing_missing (void **state)
{
    gf_calendar_t *calendar = (gf_calendar_t *)*state;
    assert_true (gf_calendar_is_workday (calendar, 2026, 3, 10));
    assert_true (gf_calendar_is_workday (calendar, 2025, 7, 16));
    assert_true (gf_calendar_is_workday (calendar, 2026, 12, 31));
    assert_int_equal (gf_calendar_missing_lookups (calendar), 0);
}

static void test_a_date_that_does_not_exist_is_refused (void **state)
{
    gf_calendar_t *calendar = (gf_calendar_t *)*state;
    assert_false (gf_calendar_is_workday (calendar, 2026, 2, 30));
    assert_false (gf_calendar_is_workday (calendar, 2026, 13, 1));
    assert_int_equal (gf_calendar_set_day (calendar, 2026, 2, 29, true), -1);
    assert_int_equal (gf_calendar_set_day (calendar, 1800, 1, 1, true), -1);
}

static void test_unannounced_year_uses_the_weekday_rule_and_warns_once (void **state)
{
    gf_calendar_t *calendar = (gf_calendar_t *)*state;
    FILE *log = tmpfile ();
    assert_non_null (log);
    zsys_set_logstream (log);
    assert_false (gf_calendar_has_year (calendar, 2027));
    assert_true (gf_calendar_is_workday (calendar, 2027, 1, 1)); /* a Friday; 元旦 not known */
    assert_false (gf_calendar_is_workday (calendar, 2027, 1, 2));
    assert_true (gf_calendar_is_workday (calendar, 2027, 1, 4));
    assert_int_equal (gf_calendar_missing_lookups (calendar), 3);
    assert_true (gf_calendar_is_workday (calendar, 2026, 1, 5));
    assert_int_equal (gf_calendar_missing_lookups (calendar), 3);
    zsys_set_logstream (stderr);

    fflush (log);
    rewind (log);
    char line[512];
    int warnings = 0;
    while (fgets (line, sizeof line, log))
        if (strstr (line, "2027"))
            warnings++;
    fclose (log);
    assert_int_equal (warnings, 1);
}

static void test_set_day_marks_the_year_announced (void **state)
{
    gf_calendar_t *calendar = gf_calendar_new ();
    assert_int_equal (gf_calendar_set_day (calendar, 2027, 2, 6, true), 0); /* a Saturday */
    assert_int_equal (gf_calendar_set_day (calendar, 2027, 2, 8, false), 0);
    assert_true (gf_calendar_has_year (calendar, 2027));
    assert_true (gf_calendar_is_workday (calendar, 2027, 2, 6));
    assert_false (gf_calendar_is_workday (calendar, 2027, 2, 8));
    assert_true (gf_calendar_is_workday (calendar, 2027, 2, 9));
    assert_false (gf_calendar_has_year (calendar, 2028));
    gf_calendar_set_year_known (calendar, 2028);
    assert_true (gf_calendar_has_year (calendar, 2028));
    assert_false (gf_calendar_is_workday (calendar, 2028, 1, 1)); /* a Saturday */
    assert_int_equal (gf_calendar_missing_lookups (calendar), 0);
    gf_calendar_destroy (&calendar);
    gf_calendar_destroy (&calendar);
    assert_null (calendar);
}

static void test_reloading_a_year_replaces_it (void **state)
{
    gf_calendar_t *calendar = (gf_calendar_t *)*state;
    char why[512];
    assert_int_equal (s_load_text (calendar,
                                   "{\"year\": 2026, \"papers\": [], \"days\": [{\"name\": \"x\", "
                                   "\"date\": \"2026-03-10\", \"isOffDay\": true}]}",
                                   why, sizeof why),
                      0);
    assert_false (gf_calendar_is_workday (calendar, 2026, 3, 10));
    assert_true (gf_calendar_is_workday (calendar, 2026, 2, 16)); /* no longer listed */
    assert_false (gf_calendar_is_workday (calendar, 2026, 2, 14));
    assert_false (gf_calendar_is_workday (calendar, 2025, 10, 1)); /* other years untouched */
}

static void test_rejects_a_date_outside_the_file_year (void **state)
{
    gf_calendar_t *calendar = (gf_calendar_t *)*state;
    char why[512];
    assert_int_equal (s_load_text (calendar,
                                   "{\"year\": 2026, \"days\": [{\"name\": \"春节\", \"date\": "
                                   "\"2026-02-16\", \"isOffDay\": false}, {\"name\": \"国庆节\", "
                                   "\"date\": \"2025-10-01\", \"isOffDay\": true}]}",
                                   why, sizeof why),
                      -1);
    assert_non_null (strstr (why, "2025-10-01 is not in 2026"));
    /* Nothing of the bad file was applied. */
    assert_false (gf_calendar_is_workday (calendar, 2026, 2, 16));
    assert_true (gf_calendar_has_year (calendar, 2026));
}

static void test_rejects_a_missing_or_mistyped_isoffday (void **state)
{
    gf_calendar_t *calendar = gf_calendar_new ();
    char why[512];
    const char *bad[] = {
        "{\"year\": 2027, \"days\": [{\"name\": \"元旦\", \"date\": \"2027-01-01\"}]}",
        "{\"year\": 2027, \"days\": [{\"name\": \"元旦\", \"date\": \"2027-01-01\", "
        "\"isOffDay\": \"true\"}]}",
        "{\"year\": 2027, \"days\": [{\"name\": \"元旦\", \"date\": \"2027-01-01\", "
        "\"isOffDay\": 1}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal (s_load_text (calendar, bad[i], why, sizeof why), -1);
        assert_non_null (strstr (why, "isOffDay"));
    }
    assert_false (gf_calendar_has_year (calendar, 2027));
    gf_calendar_destroy (&calendar);
}

static void test_rejects_garbage (void **state)
{
    gf_calendar_t *calendar = gf_calendar_new ();
    char why[512];
    const char *bad[] = {
        "this is not JSON",
        "[]",
        "{\"year\": \"2027\", \"days\": []}",
        "{\"year\": 2027}",
        "{\"year\": 2027, \"days\": {}}",
        "{\"year\": 2027, \"papers\": [42], \"days\": []}",
        "{\"year\": 2027, \"days\": [\"2027-01-01\"]}",
        "{\"year\": 2027, \"days\": [{\"name\": \"x\", \"date\": \"2027-1-1\", \"isOffDay\": "
        "true}]}",
        "{\"year\": 2027, \"days\": [{\"name\": \"x\", \"date\": \"2027-02-29\", \"isOffDay\": "
        "true}]}",
        "{\"year\": 2027, \"days\": [{\"date\": \"2027-01-01\", \"isOffDay\": true}]}",
        "{\"year\": 2027, \"days\": [{\"name\": \"x\", \"date\": \"2027-01-01\", \"isOffDay\": "
        "true}, {\"name\": \"x\", \"date\": \"2027-01-01\", \"isOffDay\": false}]}",
        "{\"year\": 2027, \"year\": 2028, \"days\": []}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal (s_load_text (calendar, bad[i], why, sizeof why), -1);
        assert_true (strlen (why) > 0);
    }
    assert_int_equal (gf_calendar_load_json (calendar, "/nonexistent/2027.json", why, sizeof why),
                      -1);
    assert_non_null (strstr (why, "/nonexistent/2027.json"));
    assert_false (gf_calendar_has_year (calendar, 2027));
    assert_false (gf_calendar_has_year (calendar, 2028));
    gf_calendar_destroy (&calendar);
}

static void test_a_notice_with_no_exceptions_still_announces_the_year (void **state)
{
    gf_calendar_t *calendar = gf_calendar_new ();
    char why[512];
    assert_int_equal (
        s_load_text (calendar, "{\"year\": 2030, \"papers\": [], \"days\": []}", why, sizeof why),
        0);
    assert_true (gf_calendar_has_year (calendar, 2030));
    assert_true (gf_calendar_is_workday (calendar, 2030, 1, 1));
    assert_int_equal (gf_calendar_missing_lookups (calendar), 0);
    gf_calendar_destroy (&calendar);
}

/*  Every day of 2026 adds up to the notice, and a lookup stays cheap. */
static void test_every_day_of_2026_matches_the_notice_and_lookups_are_fast (void **state)
{
    gf_calendar_t *calendar = (gf_calendar_t *)*state;
    int off = 0, work = 0;
    int64_t start = zclock_usecs ();
    for (int round = 0; round < 100; round++)
        for (int m = 1; m <= 12; m++)
            for (int d = 1; d <= 31; d++) {
                bool workday = gf_calendar_is_workday (calendar, 2026, m, d);
                if (round == 0 && d <= (m == 2                                  ? 28
                                        : m == 4 || m == 6 || m == 9 || m == 11 ? 30
                                                                                : 31))
                    workday ? work++ : off++;
            }
    int64_t elapsed = zclock_usecs () - start;
    /* 2026 has 104 weekend days, 6 of them make-up days, and 33 days off, 14 on weekends. */
    assert_int_equal (off, 104 - 6 + (33 - 14));
    assert_int_equal (work, 365 - off);
    assert_true (elapsed < 2000000); /* 37,200 lookups: milliseconds, even under valgrind */
    assert_int_equal (gf_calendar_missing_lookups (calendar), 0);
}

int main (void)
{
    zsys_set_logstream (stderr);
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (test_spring_festival_2026_days_off),
        T (test_spring_festival_2026_makeup_saturdays_are_worked),
        T (test_national_day_2025),
        T (test_makeup_sundays_are_worked),
        T (test_makeup_saturdays_are_worked),
        T (test_plain_weekend_is_off),
        T (test_plain_weekday_is_worked_and_counts_nothing_missing),
        T (test_a_date_that_does_not_exist_is_refused),
        T (test_unannounced_year_uses_the_weekday_rule_and_warns_once),
        T (test_set_day_marks_the_year_announced),
        T (test_reloading_a_year_replaces_it),
        T (test_rejects_a_date_outside_the_file_year),
        T (test_rejects_a_missing_or_mistyped_isoffday),
        T (test_rejects_garbage),
        T (test_a_notice_with_no_exceptions_still_announces_the_year),
        T (test_every_day_of_2026_matches_the_notice_and_lookups_are_fast),
#undef T
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
