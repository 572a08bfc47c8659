/*  gf_case — the case lifecycle: one state enum and one transition function. */
#include "gf_case.h"

static const char *s_state_names[GF_CASE_STATE_COUNT] = {
    [GF_CASE_REGISTERED] = "registered",   [GF_CASE_ROUTED] = "routed",
    [GF_CASE_UNROUTABLE] = "unroutable",   [GF_CASE_SIGNED] = "signed",
    [GF_CASE_IN_PROGRESS] = "in_progress", [GF_CASE_REFERRED] = "referred",
    [GF_CASE_REPLIED] = "replied",         [GF_CASE_RESOLVED] = "resolved",
    [GF_CASE_CALLED_BACK] = "called_back", [GF_CASE_CLOSED] = "closed",
    [GF_CASE_REOPENED] = "reopened",       [GF_CASE_MERGED] = "merged",
    [GF_CASE_REJECTED] = "rejected",
};

#define BIT(s) (1u << (s))
/*  States in which a case is open to work. */
#define WORKING                                                                                    \
    (BIT (GF_CASE_SIGNED) | BIT (GF_CASE_IN_PROGRESS) | BIT (GF_CASE_REPLIED) |                    \
     BIT (GF_CASE_REOPENED))
/*  Every state but closed, merged and rejected. */
#define OPEN                                                                                       \
    (WORKING | BIT (GF_CASE_REGISTERED) | BIT (GF_CASE_ROUTED) | BIT (GF_CASE_UNROUTABLE) |        \
     BIT (GF_CASE_REFERRED) | BIT (GF_CASE_RESOLVED) | BIT (GF_CASE_CALLED_BACK))
#define SAME GF_CASE_STATE_COUNT /* "to" meaning: the state does not change */

/*  The transition table: one row per action. */
typedef struct {
    const char *name;   /* wire name                                      */
    unsigned from;      /* bit set of states the action is allowed in     */
    gf_case_state_t to; /* state after it, or SAME                        */
    const char *event;  /* event type emitted                             */
    int max_level;      /* deepest actor level allowed (3: any staff)     */
    const char *hint;   /* why it is refused in other states (English)    */
} s_rule_t;

/*  The services' own steps are the actions from GF_ACT_ROUTE on (gf_case.h):
    no client may ask for them. */
#define S_SERVICE(action) ((action) >= GF_ACT_ROUTE)
/*  The action of a case whose merged cases follow it (GF_ACT_FOLLOW). */
#define S_FOLLOWED GF_ACT_RESOLVE

static const s_rule_t s_rules[GF_ACT_COUNT] = {
    [GF_ACT_SIGN] = {"sign", BIT (GF_CASE_ROUTED) | BIT (GF_CASE_REOPENED), GF_CASE_SIGNED,
                     "case.signed", 3, "only a routed or reopened case is signed for"},
    [GF_ACT_PROGRESS] = {"progress", WORKING, GF_CASE_IN_PROGRESS, "case.progress", 3,
                         "sign for the case first"},
    [GF_ACT_REFER] = {"refer", WORKING, GF_CASE_REFERRED, "case.referred", 3,
                      "sign for the case first"},
    [GF_ACT_REPLY] = {"reply", BIT (GF_CASE_REFERRED), GF_CASE_REPLIED, "case.department_replied",
                      3, "the case is not referred to a department"},
    [GF_ACT_RESOLVE] = {"resolve", WORKING, GF_CASE_RESOLVED, "case.resolved", 3,
                        "sign for the case first (or wait for the department's reply)"},
    [GF_ACT_CALLBACK] = {"callback", BIT (GF_CASE_RESOLVED), GF_CASE_CALLED_BACK, "case.callback",
                         3, "only a resolved case is called back"},
    [GF_ACT_CLOSE] = {"close", BIT (GF_CASE_CALLED_BACK), GF_CASE_CLOSED, "case.closed", 3,
                      "a case is closed only after a satisfied callback"},
    [GF_ACT_REOPEN] = {"reopen", BIT (GF_CASE_CALLED_BACK), GF_CASE_REOPENED, "case.reopened", 3,
                       "a case is reopened only after a dissatisfied callback"},
    [GF_ACT_RETURN] = {"return", BIT (GF_CASE_ROUTED) | BIT (GF_CASE_SIGNED), GF_CASE_REGISTERED,
                       "case.returned", 3, "only a routed or signed case can be returned"},
    [GF_ACT_ASSIGN] = {"assign",
                       OPEN & ~(BIT (GF_CASE_RESOLVED) | BIT (GF_CASE_CALLED_BACK) |
                                BIT (GF_CASE_REFERRED)),
                       GF_CASE_ROUTED, "case.routed", 2,
                       "a resolved or referred case cannot be reassigned"},
    [GF_ACT_MERGE] = {"merge",
                      OPEN & ~(BIT (GF_CASE_RESOLVED) | BIT (GF_CASE_CALLED_BACK) |
                               BIT (GF_CASE_REFERRED)),
                      GF_CASE_MERGED, "case.merged", 2,
                      "a resolved or referred case cannot be merged"},
    [GF_ACT_SUPERVISE] = {"supervise", OPEN, SAME, "case.supervised", 2, "the case is not open"},
    [GF_ACT_CLASSIFY] = {"classify", OPEN, SAME, "case.classified", 3, "the case is not open"},
    /* The department's receipt of a referral (referrals.sql
       gf_referral_receipt applies it, not gf_case_act). */
    [GF_ACT_RECEIPT] = {"receipt", BIT (GF_CASE_REFERRED), SAME, "referral.received", 3,
                        "the case is not referred to a department"},
    /* A grid sorts out what it will not handle (梳理分类): before it is
       resolved and while no department has it; L1 triage too. */
    [GF_ACT_REJECT] = {"reject", WORKING | BIT (GF_CASE_ROUTED) | BIT (GF_CASE_UNROUTABLE),
                       GF_CASE_REJECTED, "case.rejected", 3,
                       "only a case not resolved and not with a department can be rejected"},
    /* L2/L1 reverse it: to its grid (routed, s_unreject_to) or to triage. */
    [GF_ACT_UNREJECT] = {"unreject", BIT (GF_CASE_REJECTED), GF_CASE_ROUTED, "case.unrejected", 2,
                         "the case is not rejected"},
    /* A received or returned case (registered) goes to an L3 grid, or to
       L1 triage when none is found. */
    [GF_ACT_ROUTE] = {"route", BIT (GF_CASE_REGISTERED), GF_CASE_ROUTED, "case.routed", 0,
                      "only a registered case is routed"},
    [GF_ACT_UNROUTABLE] = {"unroutable", BIT (GF_CASE_REGISTERED), GF_CASE_UNROUTABLE,
                           "case.unroutable", 0, "only a registered case is routed"},
    /* The cases merged into a case are resolved with it (S_FOLLOWED). */
    [GF_ACT_FOLLOW] = {"follow", BIT (GF_CASE_MERGED), GF_CASE_RESOLVED, "case.resolved", 0,
                       "only a merged case follows another"},
};

const char *gf_case_state_name (gf_case_state_t state)
{
    return (int)state >= 0 && state < GF_CASE_STATE_COUNT ? s_state_names[state] : NULL;
}

const char *gf_case_action_name (gf_case_action_t action)
{
    return (int)action >= 0 && action < GF_ACT_COUNT ? s_rules[action].name : NULL;
}

int gf_case_state_from_name (const char *name)
{
    for (int s = 0; name && s < GF_CASE_STATE_COUNT; s++)
        if (streq (name, s_state_names[s]))
            return s;
    return -1;
}

int gf_case_action_from_name (const char *name)
{
    for (int a = 0; name && a < GF_ACT_COUNT; a++)
        if (!S_SERVICE (a) && streq (name, s_rules[a].name))
            return a;
    return -1;
}

bool gf_case_grid_within (const char *grid, const char *subtree)
{
    size_t len = strlen (subtree);
    return grid && strncmp (grid, subtree, len) == 0 && (grid[len] == 0 || grid[len] == '.');
}

/*  The keys each action needs beyond the common ones. */
static int s_check_keys (gf_case_action_t act, const gf_action_t *a, gf_error_t *err)
{
    switch (act) {
    case GF_ACT_PROGRESS:
    case GF_ACT_REPLY:
    case GF_ACT_RESOLVE:
    case GF_ACT_RETURN:
        if (!a->note || !*a->note)
            return gf_error_set (err, GF_E_MISSING_FIELD, "action '%s' needs a 'note'",
                                 s_rules[act].name);
        return 0;
    case GF_ACT_REFER:
        if (!a->department || !*a->department)
            return gf_error_set (err, GF_E_MISSING_FIELD, "action 'refer' needs a 'department'");
        return 0;
    case GF_ACT_RECEIPT:
        if (!a->contact || !*a->contact)
            return gf_error_set (err, GF_E_MISSING_FIELD,
                                 "action 'receipt' needs a 'contact' (who signed for it)");
        return 0;
    case GF_ACT_CALLBACK:
        if (a->satisfied < 0)
            return gf_error_set (err, GF_E_MISSING_FIELD, "action 'callback' needs 'satisfied'");
        return 0;
    case GF_ACT_ASSIGN:
        if (!a->grid)
            return gf_error_set (err, GF_E_MISSING_FIELD, "action 'assign' needs a 'grid'");
        return 0;
    case GF_ACT_MERGE:
        if (a->into <= 0)
            return gf_error_set (err, GF_E_MISSING_FIELD, "action 'merge' needs 'into'");
        return 0;
    case GF_ACT_REJECT:
        if (!a->reason || !*a->reason)
            return gf_error_set (err, GF_E_MISSING_FIELD, "action 'reject' needs a 'reason'");
        if (!a->note || !*a->note)
            return gf_error_set (err, GF_E_MISSING_FIELD, "action 'reject' needs a 'note'");
        return 0;
    case GF_ACT_UNREJECT:
        if (!a->note || !*a->note)
            return gf_error_set (err, GF_E_MISSING_FIELD, "action 'unreject' needs a 'note'");
        return 0;
    case GF_ACT_CLASSIFY:
        if (!a->tier && a->urgent < 0 && !a->groups && !a->category)
            return gf_error_set (
                err, GF_E_MISSING_FIELD,
                "action 'classify' needs 'tier', 'urgent', 'groups' or 'category'");
        if (a->tier && !streq (a->tier, "pending") && !streq (a->tier, "hard"))
            return gf_error_set (err, GF_E_BAD_VALUE, "tier must be 'pending' or 'hard', not '%s'",
                                 a->tier);
        return 0;
    default:
        return 0;
    }
}

int gf_case_transition (const gf_case_view_t *view, const gf_action_t *a, gf_case_step_t *step,
                        gf_error_t *err)
{
    assert (view && a && step);
    int act = gf_case_action_from_name (a->action);
    if (act < 0)
        return gf_error_set (err, GF_E_BAD_VALUE, "unknown action '%s'", a->action);
    const s_rule_t *rule = &s_rules[act];
    if (!view->actor_grid)
        return gf_error_set (err, GF_E_UNKNOWN_ACTOR, "actor '%s' is not in the directory",
                             a->actor);
    if (view->state == GF_CASE_CLOSED)
        return gf_error_set (err, GF_E_ARCHIVED, "the case is closed and archived");
    if (!gf_case_grid_within (view->grid, view->actor_grid))
        return gf_error_set (err, GF_E_FORBIDDEN, "case grid %s is outside %s's grid %s",
                             view->grid, a->actor, view->actor_grid);
    if (view->actor_level > rule->max_level)
        return gf_error_set (err, GF_E_FORBIDDEN, "action '%s' is for L1/L2 staff; %s is L%d",
                             rule->name, a->actor, view->actor_level);
    if (act == GF_ACT_ASSIGN && a->grid && !gf_case_grid_within (a->grid, view->actor_grid))
        return gf_error_set (err, GF_E_FORBIDDEN, "grid %s is outside %s's grid %s", a->grid,
                             a->actor, view->actor_grid);
    if (!(rule->from & BIT (view->state)))
        return gf_error_set (err, GF_E_ILLEGAL_TRANSITION, "cannot %s a case in state '%s': %s",
                             rule->name, s_state_names[view->state], rule->hint);
    if (act == GF_ACT_CLOSE && view->satisfied != 1)
        return gf_error_set (err, GF_E_ILLEGAL_TRANSITION,
                             "cannot close: the resident was not satisfied; reopen it");
    if (act == GF_ACT_REOPEN && view->satisfied != 0)
        return gf_error_set (err, GF_E_ILLEGAL_TRANSITION,
                             "cannot reopen: the resident was satisfied; close it");
    if (s_check_keys ((gf_case_action_t)act, a, err))
        return -1;
    step->action = (gf_case_action_t)act;
    step->to = rule->to == SAME ? view->state : rule->to;
    /* A rejection reversed: back to the L3 grid that had it, or to L1
       triage when it was rejected there. */
    if (act == GF_ACT_UNREJECT && view->grid_level != 3)
        step->to = GF_CASE_UNROUTABLE;
    step->event = rule->event;
    return 0;
}

int gf_case_service_step (gf_case_action_t action, char *from, size_t from_size,
                          gf_case_step_t *step)
{
    assert (from && step);
    if ((int)action < 0 || action >= GF_ACT_COUNT || !S_SERVICE (action))
        return -1;
    const s_rule_t *rule = &s_rules[action];
    size_t used = 0;
    for (int s = 0; s < GF_CASE_STATE_COUNT; s++) {
        if (!(rule->from & BIT (s)))
            continue;
        int n =
            snprintf (from + used, from_size - used, "%s%s", used ? "," : "{", s_state_names[s]);
        if (n < 0 || (size_t)n >= from_size - used)
            return -1;
        used += (size_t)n;
    }
    if (used == 0 || used + 2 > from_size)
        return -1;
    strcpy (from + used, "}");
    step->action = action;
    step->to = rule->to;
    step->event = rule->event;
    return 0;
}

int gf_case_route_init (gf_case_route_t *self)
{
    assert (self);
    return gf_case_service_step (GF_ACT_ROUTE, self->route_from, sizeof self->route_from,
                                 &self->route) ||
                   gf_case_service_step (GF_ACT_UNROUTABLE, self->triage_from,
                                         sizeof self->triage_from, &self->triage)
               ? -1
               : 0;
}

void gf_case_route_params (const gf_case_route_t *self, const char *ids, const char *params[7])
{
    assert (self && ids && params);
    params[0] = ids;
    params[1] = self->route_from;
    params[2] = gf_case_state_name (self->route.to);
    params[3] = self->route.event;
    params[4] = self->triage_from;
    params[5] = gf_case_state_name (self->triage.to);
    params[6] = self->triage.event;
}

bool gf_case_merged_follow (const gf_case_step_t *step, char *from, size_t from_size,
                            gf_case_step_t *follow)
{
    assert (step);
    return step->action == S_FOLLOWED &&
           gf_case_service_step (GF_ACT_FOLLOW, from, from_size, follow) == 0;
}

int gf_case_merge_check (const gf_case_view_t *view, const char *root, int64_t case_id,
                         const gf_case_target_t *into, gf_error_t *err)
{
    assert (view && root && into);
    if (into->id == case_id)
        return gf_error_set (err, GF_E_BAD_VALUE, "a case cannot be merged into itself");
    if (!into->root || !streq (into->root, root))
        return gf_error_set (err, GF_E_FORBIDDEN, "case %" PRId64 " belongs to another L1 grid",
                             into->id);
    if (!view->actor_grid || !gf_case_grid_within (into->grid, view->actor_grid))
        return gf_error_set (err, GF_E_FORBIDDEN, "case %" PRId64 " is outside the actor's grid %s",
                             into->id, view->actor_grid ? view->actor_grid : "(none)");
    if (into->state == GF_CASE_CLOSED || into->state == GF_CASE_MERGED || (int)into->state < 0)
        return gf_error_set (err, GF_E_ILLEGAL_TRANSITION,
                             "cannot merge into case %" PRId64 ": it is %s", into->id,
                             (int)into->state < 0 ? "unknown" : s_state_names[into->state]);
    return 0;
}

bool gf_case_merged_repoint (const gf_case_step_t *step)
{
    assert (step);
    return step->action == GF_ACT_MERGE;
}
