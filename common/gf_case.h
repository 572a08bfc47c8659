/*  gf_case — the case lifecycle: one state enum and one transition function.

    registered → routed → signed → in_progress → [referred → replied] →
    resolved → called_back → closed (archived) | reopened → ...
    plus unroutable (L1 triage), merged (follows another case), return
    (back to the router), assign (L2/L1 reassignment), supervise, classify
    (tier, urgency, groups, category), reject (不予办理: invalid, duplicate,
    out of jurisdiction) and unreject (L2/L1: back to its grid or triage).

    gf_case_transition is pure: it decides from the case as the caller read
    it (under a row lock) and the requested action, and says what the new
    state is and which event to emit, or which error to answer.  The
    caller (the intake) applies it in one transaction with the event.
*/
#ifndef GF_CASE_H_INCLUDED
#define GF_CASE_H_INCLUDED

#include "gf_proto.h"

typedef enum {
    GF_CASE_REGISTERED,  /* received, waiting for the router                 */
    GF_CASE_ROUTED,      /* owned by an L3 grid, waiting to be signed for     */
    GF_CASE_UNROUTABLE,  /* in L1 triage: no grid could be found              */
    GF_CASE_SIGNED,      /* signed for by the grid (签收)                      */
    GF_CASE_IN_PROGRESS, /* being worked on (办理)                             */
    GF_CASE_REFERRED,    /* taken to a department (转办/代访), awaiting reply  */
    GF_CASE_REPLIED,     /* the department replied                            */
    GF_CASE_RESOLVED,    /* 办结: waiting for the callback to the resident     */
    GF_CASE_CALLED_BACK, /* the resident was called back (回访)                */
    GF_CASE_CLOSED,      /* satisfied: closed and archived (归档); final       */
    GF_CASE_REOPENED,    /* not satisfied: to be worked again (重办)           */
    GF_CASE_MERGED,      /* a duplicate merged into another case; follows it  */
    GF_CASE_REJECTED,    /* 不予办理: invalid, duplicate, out of jurisdiction */
    GF_CASE_STATE_COUNT
} gf_case_state_t;

typedef enum {
    GF_ACT_SIGN,      /* 签收                                */
    GF_ACT_PROGRESS,  /* progress note (办理)                 */
    GF_ACT_REFER,     /* to a department (转办/代访)           */
    GF_ACT_REPLY,     /* the department's reply              */
    GF_ACT_RESOLVE,   /* 办结                                */
    GF_ACT_CALLBACK,  /* 回访: satisfied or not               */
    GF_ACT_CLOSE,     /* 归档 after a satisfied callback       */
    GF_ACT_REOPEN,    /* 重办 after a dissatisfied callback    */
    GF_ACT_RETURN,    /* 退单: not this grid's case            */
    GF_ACT_ASSIGN,    /* L2/L1: give the case to an L3 grid   */
    GF_ACT_MERGE,     /* L2/L1: merge into another case       */
    GF_ACT_SUPERVISE, /* L2/L1: 督办                           */
    GF_ACT_CLASSIFY,  /* tier, urgent, groups, category       */
    GF_ACT_RECEIPT,   /* 送达签收: the department received a referral */
    GF_ACT_REJECT,    /* 不予办理, with a reason and a note     */
    GF_ACT_UNREJECT,  /* L2/L1: reverses a rejection          */
    /* The services' own steps, last (gf_case.c tells them by their place):
       no client may ask for them, so they have no wire name
       (gf_case_action_from_name does not know them). */
    GF_ACT_ROUTE,      /* router: the case's L3 grid was found  */
    GF_ACT_UNROUTABLE, /* router: none was: L1 triage          */
    GF_ACT_FOLLOW,     /* a merged case follows its twin's resolve */
    GF_ACT_COUNT
} gf_case_action_t;

/*  Stable names ("in_progress", "sign", "route"); NULL for out-of-range
    values. */
const char *gf_case_state_name (gf_case_state_t state);
const char *gf_case_action_name (gf_case_action_t action);
/*  -1 when the name is unknown (and for the services' own steps: "route"
    is not an action a client can send). */
int gf_case_state_from_name (const char *name);
int gf_case_action_from_name (const char *name);

/*  The case and the actor as read (under lock) by the caller. */
typedef struct {
    gf_case_state_t state;  /* current state                                */
    const char *grid;       /* owner grid code                              */
    int satisfied;          /* last callback: 1 / 0, -1 none                */
    const char *actor_grid; /* the actor's grid code, NULL if unknown actor */
    int actor_level;        /* 1, 2 or 3 (level of the actor's grid)        */
    int grid_level;         /* level of the case's grid (unreject: an L3
                               grid gets it back, else L1 triage); 0 unknown */
} gf_case_view_t;

typedef struct {
    gf_case_action_t action; /* parsed action                               */
    gf_case_state_t to;      /* the state after it                          */
    const char *event;       /* event type to emit (case.signed, ...)       */
} gf_case_step_t;

/*  Decides an action.  Checks, in order: known action (bad_value), known
    actor (unknown_actor), archived case (archived), the actor's subtree
    holds the case and, for assign, the target grid (forbidden), level
    (assign, merge, supervise need an L1/L2 actor: forbidden), the state
    allows the action (illegal_transition), the keys the action needs
    (missing_field / bad_value; whether a category or a reject reason is
    known is the caller's, it reads the vocabularies).  Returns 0 with step
    filled, or -1. */
int gf_case_transition (const gf_case_view_t *view, const gf_action_t *action, gf_case_step_t *step,
                        gf_error_t *err);

/*  A step the services take by themselves (GF_ACT_ROUTE, GF_ACT_UNROUTABLE,
    GF_ACT_FOLLOW) on many cases in one set-based statement: the states it
    is taken in as a PostgreSQL text array literal ("{registered}", for the
    statement's WHERE), the state after it and its event.  Returns 0, or -1
    for an action a client sends (those go through gf_case_transition) or
    when from_size is too small. */
int gf_case_service_step (gf_case_action_t action, char *from, size_t from_size,
                          gf_case_step_t *step);

/*  Routing as the state machine says, for routing.sql gf_route_cases: the
    states the steps route and unroutable are taken in, the state after each
    and its event.  The intake routes what it stores in its own transaction,
    the router what the intake did not (returns, re-routing); both send
    GF_CASE_ROUTE_SQL with the parameters gf_case_route_params fills. */
typedef struct {
    gf_case_step_t route;  /* an L3 grid found                        */
    gf_case_step_t triage; /* none found: L1 triage                   */
    char route_from[64];   /* the states each is taken in ({...})     */
    char triage_from[64];
} gf_case_route_t;

#define GF_CASE_ROUTE_SQL                                                                          \
    "SELECT routed, unroutable FROM gf_route_cases ($1, $2, $3, $4, $5, $6, $7)"

/*  Fills self from the transition table.  Returns 0, or -1 if it lacks
    the steps. */
int gf_case_route_init (gf_case_route_t *self);

/*  The seven parameters of GF_CASE_ROUTE_SQL: ids (a JSON array of case
    ids), then self's steps.  The pointers are into ids and self. */
void gf_case_route_params (const gf_case_route_t *self, const char *ids, const char *params[7]);

/*  Whether the cases merged into a case follow it when it takes step
    (they do when it is resolved); if so, fills follow as
    gf_case_service_step (GF_ACT_FOLLOW, ...) does. */
bool gf_case_merged_follow (const gf_case_step_t *step, char *from, size_t from_size,
                            gf_case_step_t *follow);

/*  The case a merge goes into, as read (under lock) by the caller. */
typedef struct {
    int64_t id;            /* its id                                        */
    gf_case_state_t state; /* its state                                     */
    const char *grid;      /* its owner grid                                */
    const char *root;      /* its L1 grid                                   */
} gf_case_target_t;

/*  Checks the target of a merge gf_case_transition allowed, for the actor
    of view, on the case case_id of L1 grid root: not the case itself
    (bad_value); in the same L1 grid and inside the actor's grid, as the
    merged case is (forbidden); neither closed nor merged (illegal_transition):
    merges are one level deep, so a case that follows another is never a
    target.  Returns 0, or -1 with err set. */
int gf_case_merge_check (const gf_case_view_t *view, const char *root, int64_t case_id,
                         const gf_case_target_t *into, gf_error_t *err);

/*  Whether the cases merged into a case are re-pointed to the case it is
    merged into when it takes step (a merge: merges stay one level deep,
    so C -> A then A -> B leaves C -> B, and C follows B). */
bool gf_case_merged_repoint (const gf_case_step_t *step);

/*  True if grid is the subtree root or inside it (QNL.07 holds QNL.07.063). */
bool gf_case_grid_within (const char *grid, const char *subtree);

#endif
