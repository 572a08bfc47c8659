/*  gf_case: the lifecycle's transition function, legal paths and every
    refusal with its code. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gf_case.h"

#define L3_GRID   "QNL.07.063"
#define L3_LEADER "P-QNL.07.063-1"

/*  Runs one action on a case in `state` by an actor of `actor_grid`. */
static int s_run (gf_case_state_t state, int satisfied, const char *actor_grid, int level,
                  const char *action, const char *note, gf_case_step_t *step, gf_error_t *err)
{
    gf_case_view_t view = {.state = state,
                           .grid = L3_GRID,
                           .satisfied = satisfied,
                           .actor_grid = actor_grid,
                           .actor_level = level};
    char actor[] = L3_LEADER;
    gf_action_t a = {.id = (char *)"r",
                     .case_id = 1,
                     .action = (char *)action,
                     .actor = actor,
                     .version = 1,
                     .note = (char *)note,
                     .satisfied = -1,
                     .urgent = -1};
    if (streq (action, "refer"))
        a.department = (char *)"供电所";
    if (streq (action, "callback"))
        a.satisfied = satisfied < 0 ? 1 : satisfied;
    if (streq (action, "assign"))
        a.grid = (char *)"QNL.07.064";
    if (streq (action, "merge"))
        a.into = 2;
    if (streq (action, "classify"))
        a.tier = (char *)"hard";
    return gf_case_transition (&view, &a, step, err);
}

static void test_the_main_path_moves_through_every_state (void **state)
{
    struct {
        gf_case_state_t from;
        int satisfied;
        const char *action;
        gf_case_state_t to;
        const char *event;
    } path[] = {
        {GF_CASE_ROUTED, -1, "sign", GF_CASE_SIGNED, "case.signed"},
        {GF_CASE_SIGNED, -1, "progress", GF_CASE_IN_PROGRESS, "case.progress"},
        {GF_CASE_IN_PROGRESS, -1, "refer", GF_CASE_REFERRED, "case.referred"},
        {GF_CASE_REFERRED, -1, "reply", GF_CASE_REPLIED, "case.department_replied"},
        {GF_CASE_REPLIED, -1, "resolve", GF_CASE_RESOLVED, "case.resolved"},
        {GF_CASE_RESOLVED, 0, "callback", GF_CASE_CALLED_BACK, "case.callback"},
        {GF_CASE_CALLED_BACK, 0, "reopen", GF_CASE_REOPENED, "case.reopened"},
        {GF_CASE_REOPENED, -1, "sign", GF_CASE_SIGNED, "case.signed"},
        {GF_CASE_CALLED_BACK, 1, "close", GF_CASE_CLOSED, "case.closed"},
        {GF_CASE_ROUTED, -1, "return", GF_CASE_REGISTERED, "case.returned"},
        {GF_CASE_IN_PROGRESS, -1, "classify", GF_CASE_IN_PROGRESS, "case.classified"},
    };
    for (size_t i = 0; i < sizeof path / sizeof path[0]; i++) {
        gf_case_step_t step;
        gf_error_t err = {GF_OK, ""};
        int rc = s_run (path[i].from, path[i].satisfied, L3_GRID, 3, path[i].action, "说明", &step,
                        &err);
        if (rc != 0)
            fail_msg ("%s from %s refused: %s", path[i].action, gf_case_state_name (path[i].from),
                      err.message);
        assert_int_equal (step.to, path[i].to);
        assert_string_equal (step.event, path[i].event);
    }
}

static void test_l2_actions_for_l2_staff (void **state)
{
    gf_case_step_t step;
    gf_error_t err;
    assert_int_equal (s_run (GF_CASE_UNROUTABLE, -1, "QNL", 1, "assign", NULL, &step, &err), 0);
    assert_int_equal (step.to, GF_CASE_ROUTED);
    assert_string_equal (step.event, "case.routed");
    assert_int_equal (s_run (GF_CASE_ROUTED, -1, "QNL.07", 2, "merge", NULL, &step, &err), 0);
    assert_int_equal (step.to, GF_CASE_MERGED);
    assert_int_equal (s_run (GF_CASE_SIGNED, -1, "QNL.07", 2, "supervise", NULL, &step, &err), 0);
    assert_int_equal (step.to, GF_CASE_SIGNED);
}

/*  The table of refusals: at least 15 illegal transitions, each with its code. */
static void test_illegal_transitions_are_refused_with_their_code (void **state)
{
    struct {
        gf_case_state_t from;
        int satisfied;
        const char *actor_grid;
        int level;
        const char *action;
        const char *note;
        gf_code_t code;
    } table[] = {
        {GF_CASE_ROUTED, -1, L3_GRID, 3, "resolve", "x", GF_E_ILLEGAL_TRANSITION},
        {GF_CASE_ROUTED, -1, L3_GRID, 3, "progress", "x", GF_E_ILLEGAL_TRANSITION},
        {GF_CASE_ROUTED, -1, L3_GRID, 3, "refer", "x", GF_E_ILLEGAL_TRANSITION},
        {GF_CASE_SIGNED, -1, L3_GRID, 3, "sign", NULL, GF_E_ILLEGAL_TRANSITION},
        {GF_CASE_SIGNED, -1, L3_GRID, 3, "reply", "x", GF_E_ILLEGAL_TRANSITION},
        {GF_CASE_REFERRED, -1, L3_GRID, 3, "resolve", "x", GF_E_ILLEGAL_TRANSITION},
        {GF_CASE_RESOLVED, -1, L3_GRID, 3, "close", NULL, GF_E_ILLEGAL_TRANSITION},
        {GF_CASE_IN_PROGRESS, -1, L3_GRID, 3, "callback", NULL, GF_E_ILLEGAL_TRANSITION},
        {GF_CASE_CALLED_BACK, 0, L3_GRID, 3, "close", NULL, GF_E_ILLEGAL_TRANSITION},
        {GF_CASE_CALLED_BACK, 1, L3_GRID, 3, "reopen", NULL, GF_E_ILLEGAL_TRANSITION},
        {GF_CASE_RESOLVED, -1, L3_GRID, 3, "reopen", NULL, GF_E_ILLEGAL_TRANSITION},
        {GF_CASE_IN_PROGRESS, -1, L3_GRID, 3, "return", "x", GF_E_ILLEGAL_TRANSITION},
        {GF_CASE_MERGED, -1, L3_GRID, 3, "sign", NULL, GF_E_ILLEGAL_TRANSITION},
        {GF_CASE_RESOLVED, -1, "QNL.07", 2, "assign", NULL, GF_E_ILLEGAL_TRANSITION},
        {GF_CASE_CLOSED, 1, L3_GRID, 3, "progress", "x", GF_E_ARCHIVED},
        {GF_CASE_CLOSED, 1, "QNL", 1, "reopen", NULL, GF_E_ARCHIVED},
        {GF_CASE_ROUTED, -1, "QNL.07.064", 3, "sign", NULL, GF_E_FORBIDDEN},
        {GF_CASE_ROUTED, -1, "QNL.01", 2, "sign", NULL, GF_E_FORBIDDEN},
        {GF_CASE_ROUTED, -1, L3_GRID, 3, "assign", NULL, GF_E_FORBIDDEN},
        {GF_CASE_ROUTED, -1, L3_GRID, 3, "supervise", NULL, GF_E_FORBIDDEN},
        {GF_CASE_ROUTED, -1, L3_GRID, 3, "merge", NULL, GF_E_FORBIDDEN},
        {GF_CASE_ROUTED, -1, NULL, 0, "sign", NULL, GF_E_UNKNOWN_ACTOR},
        {GF_CASE_ROUTED, -1, L3_GRID, 3, "delete", NULL, GF_E_BAD_VALUE},
        {GF_CASE_SIGNED, -1, L3_GRID, 3, "resolve", NULL, GF_E_MISSING_FIELD},
        {GF_CASE_ROUTED, -1, L3_GRID, 3, "return", NULL, GF_E_MISSING_FIELD},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        gf_case_step_t step;
        gf_error_t err = {GF_OK, ""};
        int rc = s_run (table[i].from, table[i].satisfied, table[i].actor_grid, table[i].level,
                        table[i].action, table[i].note, &step, &err);
        if (rc != -1 || err.code != table[i].code)
            fail_msg ("row %zu: %s from %s: expected %s, got rc %d %s (%s)", i, table[i].action,
                      gf_case_state_name (table[i].from), gf_code_name (table[i].code), rc,
                      gf_code_name (err.code), err.message);
        assert_true (strlen (err.message) > 0);
    }
}

static void test_assign_target_must_be_in_the_actors_subtree (void **state)
{
    gf_case_view_t view = {.state = GF_CASE_ROUTED,
                           .grid = L3_GRID,
                           .satisfied = -1,
                           .actor_grid = "QNL.07",
                           .actor_level = 2};
    gf_action_t a = {.id = (char *)"r",
                     .case_id = 1,
                     .action = (char *)"assign",
                     .actor = (char *)"P-QNL.07",
                     .version = 1,
                     .satisfied = -1,
                     .urgent = -1,
                     .grid = (char *)"QNL.01.001"};
    gf_case_step_t step;
    gf_error_t err;
    assert_int_equal (gf_case_transition (&view, &a, &step, &err), -1);
    assert_int_equal (err.code, GF_E_FORBIDDEN);
}

static void test_grid_within_respects_segment_boundaries (void **state)
{
    assert_true (gf_case_grid_within ("QNL.07.063", "QNL.07"));
    assert_true (gf_case_grid_within ("QNL.07", "QNL.07"));
    assert_true (gf_case_grid_within ("QNL.07.063", "QNL"));
    assert_false (gf_case_grid_within ("QNL.070.001", "QNL.07"));
    assert_false (gf_case_grid_within ("QNL.07", "QNL.07.063"));
    assert_false (gf_case_grid_within (NULL, "QNL"));
}

static void test_names_round_trip (void **state)
{
    for (int s = 0; s < GF_CASE_STATE_COUNT; s++)
        assert_int_equal (gf_case_state_from_name (gf_case_state_name ((gf_case_state_t)s)), s);
    for (int a = 0; a < GF_ACT_ROUTE; a++)
        assert_int_equal (gf_case_action_from_name (gf_case_action_name ((gf_case_action_t)a)), a);
    /* The services' own steps have names but are no client action. */
    for (int a = GF_ACT_ROUTE; a < GF_ACT_COUNT; a++) {
        assert_non_null (gf_case_action_name ((gf_case_action_t)a));
        assert_int_equal (gf_case_action_from_name (gf_case_action_name ((gf_case_action_t)a)), -1);
    }
    assert_int_equal (gf_case_state_from_name ("archived"), -1);
    assert_null (gf_case_state_name (GF_CASE_STATE_COUNT));
}

static void test_a_client_cannot_ask_for_a_service_step (void **state)
{
    gf_case_step_t step;
    gf_error_t err;
    for (const char **name = (const char *[]){"route", "unroutable", "follow", NULL}; *name;
         name++) {
        assert_int_equal (s_run (GF_CASE_REGISTERED, -1, "QNL", 1, *name, "n", &step, &err), -1);
        assert_int_equal (err.code, GF_E_BAD_VALUE);
    }
}

static void test_the_router_steps_come_from_the_table (void **state)
{
    gf_case_step_t step;
    char from[64];
    assert_int_equal (gf_case_service_step (GF_ACT_ROUTE, from, sizeof from, &step), 0);
    assert_string_equal (from, "{registered}");
    assert_int_equal (step.to, GF_CASE_ROUTED);
    assert_string_equal (step.event, "case.routed");
    assert_int_equal (step.action, GF_ACT_ROUTE);
    assert_int_equal (gf_case_service_step (GF_ACT_UNROUTABLE, from, sizeof from, &step), 0);
    assert_string_equal (from, "{registered}");
    assert_int_equal (step.to, GF_CASE_UNROUTABLE);
    assert_string_equal (step.event, "case.unroutable");
    /* A client action is not a service step; a short buffer is refused. */
    assert_int_equal (gf_case_service_step (GF_ACT_SIGN, from, sizeof from, &step), -1);
    assert_int_equal (gf_case_service_step (GF_ACT_ROUTE, from, 8, &step), -1);
    /* A returned case is registered again: the router takes it back. */
    assert_int_equal (s_run (GF_CASE_SIGNED, -1, L3_GRID, 3, "return", "n", &step, NULL), 0);
    assert_int_equal (step.to, GF_CASE_REGISTERED);
}

static void test_merged_cases_follow_a_resolve_only (void **state)
{
    gf_case_step_t step, follow;
    char from[64];
    assert_int_equal (s_run (GF_CASE_SIGNED, -1, L3_GRID, 3, "resolve", "n", &step, NULL), 0);
    assert_true (gf_case_merged_follow (&step, from, sizeof from, &follow));
    assert_string_equal (from, "{merged}");
    assert_int_equal (follow.to, GF_CASE_RESOLVED);
    assert_string_equal (follow.event, "case.resolved");
    assert_int_equal (s_run (GF_CASE_SIGNED, -1, L3_GRID, 3, "progress", "n", &step, NULL), 0);
    assert_false (gf_case_merged_follow (&step, from, sizeof from, &follow));
    assert_int_equal (s_run (GF_CASE_ROUTED, -1, L3_GRID, 3, "sign", NULL, &step, NULL), 0);
    assert_false (gf_case_merged_follow (&step, from, sizeof from, &follow));
}

static void test_a_merge_target_must_be_in_scope_and_not_merged (void **state)
{
    gf_case_view_t view = {.state = GF_CASE_ROUTED,
                           .grid = L3_GRID,
                           .satisfied = -1,
                           .actor_grid = "QNL.07",
                           .actor_level = 2};
    gf_error_t err = {GF_OK, ""};
    gf_case_target_t ok = {.id = 2, .state = GF_CASE_SIGNED, .grid = "QNL.07.064", .root = "QNL"};
    assert_int_equal (gf_case_merge_check (&view, "QNL", 1, &ok, &err), 0);
    gf_case_target_t self = ok;
    self.id = 1;
    assert_int_equal (gf_case_merge_check (&view, "QNL", 1, &self, &err), -1);
    assert_int_equal (err.code, GF_E_BAD_VALUE);
    gf_case_target_t other_l2 = ok;
    other_l2.grid = "QNL.08.067";
    assert_int_equal (gf_case_merge_check (&view, "QNL", 1, &other_l2, &err), -1);
    assert_int_equal (err.code, GF_E_FORBIDDEN);
    gf_case_target_t other_root = ok;
    other_root.root = "XYZ";
    assert_int_equal (gf_case_merge_check (&view, "QNL", 1, &other_root, &err), -1);
    assert_int_equal (err.code, GF_E_FORBIDDEN);
    gf_case_target_t merged = ok;
    merged.state = GF_CASE_MERGED;
    assert_int_equal (gf_case_merge_check (&view, "QNL", 1, &merged, &err), -1);
    assert_int_equal (err.code, GF_E_ILLEGAL_TRANSITION);
    gf_case_target_t closed = ok;
    closed.state = GF_CASE_CLOSED;
    assert_int_equal (gf_case_merge_check (&view, "QNL", 1, &closed, &err), -1);
    assert_int_equal (err.code, GF_E_ILLEGAL_TRANSITION);
}

static void test_a_merge_repoints_the_cases_merged_into_it (void **state)
{
    gf_case_step_t step;
    assert_int_equal (s_run (GF_CASE_ROUTED, -1, "QNL.07", 2, "merge", NULL, &step, NULL), 0);
    assert_true (gf_case_merged_repoint (&step));
    assert_int_equal (s_run (GF_CASE_SIGNED, -1, L3_GRID, 3, "resolve", "n", &step, NULL), 0);
    assert_false (gf_case_merged_repoint (&step));
}

/*  Sorting (梳理分类): classify names a category; reject needs a reason and
    a note and leaves the case rejected; only L2/L1 reverse it, to the L3
    grid (routed) or, when the case's grid is not an L3 grid, to triage. */
static void test_reject_and_unreject (void **state)
{
    (void)state;
    gf_case_view_t view = {.state = GF_CASE_SIGNED,
                           .grid = L3_GRID,
                           .satisfied = -1,
                           .actor_grid = L3_GRID,
                           .actor_level = 3,
                           .grid_level = 3};
    char actor[] = L3_LEADER;
    gf_action_t a = {.id = (char *)"r",
                     .case_id = 1,
                     .action = (char *)"classify",
                     .actor = actor,
                     .version = 1,
                     .satisfied = -1,
                     .urgent = -1,
                     .category = (char *)"water"};
    gf_case_step_t step;
    gf_error_t err = {GF_OK, ""};
    assert_int_equal (gf_case_transition (&view, &a, &step, &err), 0);
    assert_int_equal (step.to, GF_CASE_SIGNED);
    a.action = (char *)"reject";
    a.category = NULL;
    assert_int_equal (gf_case_transition (&view, &a, &step, &err), -1);
    assert_int_equal (err.code, GF_E_MISSING_FIELD);
    a.reason = (char *)"duplicate";
    assert_int_equal (gf_case_transition (&view, &a, &step, &err), -1);
    assert_int_equal (err.code, GF_E_MISSING_FIELD);
    a.note = (char *)"与 12 号重复";
    assert_int_equal (gf_case_transition (&view, &a, &step, &err), 0);
    assert_int_equal (step.to, GF_CASE_REJECTED);
    assert_string_equal (step.event, "case.rejected");
    gf_case_state_t refused[] = {GF_CASE_REFERRED, GF_CASE_RESOLVED, GF_CASE_MERGED,
                                 GF_CASE_REJECTED, GF_CASE_REGISTERED};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        view.state = refused[i];
        assert_int_equal (gf_case_transition (&view, &a, &step, &err), -1);
        assert_int_equal (err.code, GF_E_ILLEGAL_TRANSITION);
    }
    view.state = GF_CASE_CLOSED;
    assert_int_equal (gf_case_transition (&view, &a, &step, &err), -1);
    assert_int_equal (err.code, GF_E_ARCHIVED);
    view.state = GF_CASE_UNROUTABLE; /* L1 triage sorts out too */
    assert_int_equal (gf_case_transition (&view, &a, &step, &err), 0);

    view.state = GF_CASE_REJECTED;
    a.action = (char *)"unreject";
    assert_int_equal (gf_case_transition (&view, &a, &step, &err), -1);
    assert_int_equal (err.code, GF_E_FORBIDDEN); /* L3 may not reverse itself */
    view.actor_grid = "QNL.07";
    view.actor_level = 2;
    assert_int_equal (gf_case_transition (&view, &a, &step, &err), 0);
    assert_int_equal (step.to, GF_CASE_ROUTED);
    assert_string_equal (step.event, "case.unrejected");
    view.grid = "QNL";
    view.grid_level = 1;
    view.actor_grid = "QNL";
    view.actor_level = 1;
    assert_int_equal (gf_case_transition (&view, &a, &step, &err), 0);
    assert_int_equal (step.to, GF_CASE_UNROUTABLE);
    view.state = GF_CASE_SIGNED;
    assert_int_equal (gf_case_transition (&view, &a, &step, &err), -1);
    assert_int_equal (err.code, GF_E_ILLEGAL_TRANSITION);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_the_main_path_moves_through_every_state),
        cmocka_unit_test (test_l2_actions_for_l2_staff),
        cmocka_unit_test (test_illegal_transitions_are_refused_with_their_code),
        cmocka_unit_test (test_assign_target_must_be_in_the_actors_subtree),
        cmocka_unit_test (test_grid_within_respects_segment_boundaries),
        cmocka_unit_test (test_names_round_trip),
        cmocka_unit_test (test_a_client_cannot_ask_for_a_service_step),
        cmocka_unit_test (test_the_router_steps_come_from_the_table),
        cmocka_unit_test (test_merged_cases_follow_a_resolve_only),
        cmocka_unit_test (test_a_merge_target_must_be_in_scope_and_not_merged),
        cmocka_unit_test (test_a_merge_repoints_the_cases_merged_into_it),
        cmocka_unit_test (test_reject_and_unreject),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
