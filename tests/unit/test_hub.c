/*  Unit tests of gf_hub, the gateway's event window: readers at their own
    positions, the bound (a reader whose next events left the ring is told
    so, the writer never waits), and stop. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gf_hub.h"

static void s_append (gf_hub_t *hub, uint64_t seq, const char *grid)
{
    char text[64];
    snprintf (text, sizeof text, "id: %llu\n\n", (unsigned long long)seq);
    gf_hub_append (hub, seq, "case.received", grid, text);
}

//  Reads the next event after `after`; returns its seq (0 for none).
static uint64_t s_next (gf_hub_t *hub, uint64_t after, gf_hub_status_t *status)
{
    uint64_t seq = 0;
    char *type = NULL, *grid = NULL, *text = NULL;
    *status = gf_hub_next (hub, after, 0, &seq, &type, &grid, &text);
    if (*status == GF_HUB_EVENT) {
        char want[64];
        snprintf (want, sizeof want, "id: %llu\n\n", (unsigned long long)seq);
        assert_string_equal (text, want);
        assert_string_equal (type, "case.received");
    }
    free (type);
    free (grid);
    free (text);
    return *status == GF_HUB_EVENT ? seq : 0;
}

static void test_readers_in_order (void **state)
{
    gf_hub_t *hub = gf_hub_new (8, 100);
    gf_hub_status_t st;
    assert_int_equal (gf_hub_last (hub), 100);
    assert_int_equal (gf_hub_first (hub), 0);
    assert_true (gf_hub_covers (hub, 100));
    assert_false (gf_hub_covers (hub, 99)); //  before the base: needs a replay
    assert_int_equal (s_next (hub, 100, &st), 0);
    assert_int_equal (st, GF_HUB_TIMEOUT);
    for (uint64_t s = 101; s <= 105; s++)
        s_append (hub, s, "QNL.01");
    s_append (hub, 103, "QNL.01"); //  old: ignored
    assert_int_equal (gf_hub_last (hub), 105);
    assert_int_equal (gf_hub_first (hub), 101);
    //  Two readers at different positions each get the next one.
    assert_int_equal (s_next (hub, 100, &st), 101);
    assert_int_equal (s_next (hub, 103, &st), 104);
    assert_int_equal (s_next (hub, 105, &st), 0);
    assert_int_equal (st, GF_HUB_TIMEOUT);
    gf_hub_destroy (&hub);
    assert_null (hub);
}

static void test_overflow_is_reported (void **state)
{
    gf_hub_t *hub = gf_hub_new (4, 0);
    gf_hub_status_t st;
    for (uint64_t s = 1; s <= 10; s++)
        s_append (hub, s, NULL);
    //  The ring holds 7..10; a reader at 5 lost 6, a reader at 6 did not.
    assert_int_equal (gf_hub_first (hub), 7);
    assert_false (gf_hub_covers (hub, 5));
    assert_int_equal (s_next (hub, 5, &st), 0);
    assert_int_equal (st, GF_HUB_OVERFLOW);
    assert_true (gf_hub_covers (hub, 6));
    assert_int_equal (s_next (hub, 6, &st), 7);
    assert_int_equal (s_next (hub, 9, &st), 10);
    gf_hub_destroy (&hub);
}

//  Gaps in seq (never expected from gf_stream, but harmless): the reader
//  gets the next higher one.
static void test_gaps (void **state)
{
    gf_hub_t *hub = gf_hub_new (16, 0);
    gf_hub_status_t st;
    s_append (hub, 1, NULL);
    s_append (hub, 5, NULL);
    s_append (hub, 9, NULL);
    assert_int_equal (s_next (hub, 1, &st), 5);
    assert_int_equal (s_next (hub, 6, &st), 9);
    gf_hub_destroy (&hub);
}

static void *s_writer (void *arg)
{
    gf_hub_t *hub = arg;
    for (uint64_t s = 1; s <= 2000; s++)
        s_append (hub, s, "QNL");
    return NULL;
}

//  A reader waiting in gf_hub_next is woken by appends and sees every
//  event once, in order, while the writer runs on another thread.
static void test_waiting_reader (void **state)
{
    gf_hub_t *hub = gf_hub_new (4096, 0);
    pthread_t writer;
    pthread_create (&writer, NULL, s_writer, hub);
    uint64_t at = 0;
    while (at < 2000) {
        uint64_t seq = 0;
        char *type = NULL, *grid = NULL, *text = NULL;
        gf_hub_status_t st = gf_hub_next (hub, at, 5000, &seq, &type, &grid, &text);
        assert_int_equal (st, GF_HUB_EVENT);
        assert_int_equal (seq, at + 1);
        assert_string_equal (grid, "QNL");
        at = seq;
        free (type);
        free (grid);
        free (text);
    }
    pthread_join (writer, NULL);
    gf_hub_destroy (&hub);
}

static void test_stop_wakes_readers (void **state)
{
    gf_hub_t *hub = gf_hub_new (4, 0);
    gf_hub_status_t st;
    assert_false (gf_hub_stopped (hub));
    gf_hub_stop (hub);
    assert_true (gf_hub_stopped (hub));
    assert_int_equal (s_next (hub, 0, &st), 0);
    assert_int_equal (st, GF_HUB_STOPPED);
    assert_null (gf_hub_new (0, 0));
    gf_hub_destroy (&hub);
}

//  Head regression: the hub restarts after a lower base; a reader of the
//  old epoch is told (GF_HUB_RESET) even when the new log's events already
//  passed its position, and then reads the new log's events from the base.
static void test_reset (void **state)
{
    gf_hub_t *hub = gf_hub_new (8, 40);
    for (uint64_t s = 41; s <= 60; s++)
        s_append (hub, s, "QNL.01");
    uint64_t base = 1, seen = 1;
    uint64_t epoch = gf_hub_epoch (hub, &base, &seen);
    assert_int_equal (epoch, 0);
    assert_int_equal (base, 0);
    gf_hub_reset (hub, 45);
    assert_int_equal (gf_hub_epoch (hub, &base, &seen), 1);
    assert_int_equal (base, 45);
    assert_int_equal (seen, 60);
    assert_int_equal (gf_hub_last (hub), 45);
    assert_int_equal (gf_hub_first (hub), 0);
    for (uint64_t s = 46; s <= 62; s++) //  reused seqs, then past the old head
        s_append (hub, s, "QNL.01");
    assert_int_equal (gf_hub_last (hub), 62);
    uint64_t seq = 0;
    char *type = NULL, *grid = NULL, *text = NULL;
    assert_int_equal (gf_hub_next_at (hub, epoch, 60, 0, &seq, &type, &grid, &text), GF_HUB_RESET);
    //  In the new epoch, from the base: the ring holds the last 8 (55..62).
    assert_int_equal (gf_hub_next_at (hub, 1, 54, 0, &seq, &type, &grid, &text), GF_HUB_EVENT);
    assert_int_equal (seq, 55);
    free (type);
    free (grid);
    free (text);
    assert_false (gf_hub_covers (hub, 45)); //  46..54 left the ring: a replay
    gf_hub_status_t st;
    assert_int_equal (s_next (hub, 61, &st), 62); //  gf_hub_next ignores epochs
    gf_hub_destroy (&hub);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_readers_in_order),
        cmocka_unit_test (test_overflow_is_reported),
        cmocka_unit_test (test_gaps),
        cmocka_unit_test (test_waiting_reader),
        cmocka_unit_test (test_stop_wakes_readers),
        cmocka_unit_test (test_reset),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
