/*  gf_programme.c — programme.action: staff record the programmes of grid
    work (issue 15): links, things done, help pairs, relief, star ratings,
    campaigns, case helpers.

    {v, type: "programme.action", id, at, action, actor, household?,
     person?, grid?, kind?, note?, goal?, outcome?, criterion?, campaign?,
     team?, subject?, name?, date?, link?, pair?, case?, visit?, round?,
     score?, qty?, target?}
    The codec checks presence of the always-required keys, types and
    limits; what an action needs is checked by the database
    (programmes.sql), which answers missing_field itself.
*/
#include "gf_internal.h"

const char *const gf_programme_str_keys[GF_PROGRAMME_STR_KEYS] = {
    "household", "person",   "grid", "kind",    "note", "goal", "outcome",
    "criterion", "campaign", "team", "subject", "name", "date"};
const char *const gf_programme_int_keys[GF_PROGRAMME_INT_KEYS] = {
    "link", "pair", "case", "visit", "round", "score", "qty", "target"};
/*  Longest value of each string key, in characters. */
static const size_t s_str_max[GF_PROGRAMME_STR_KEYS] = {
    GF_MAX_REF,         GF_MAX_REF,  GF_MAX_CODE, GF_MAX_CODE, GF_MAX_DESCRIPTION,
    GF_MAX_DESCRIPTION, GF_MAX_CODE, GF_MAX_CODE, GF_MAX_CODE, GF_MAX_CODE,
    GF_MAX_REF,         GF_MAX_NAME, GF_MAX_CODE};

void gf_programme_action_fields (gf_programme_action_t *a, char ***strs, int64_t **ints)
{
    assert (a);
    char **s[] = {&a->household, &a->person,  &a->grid,      &a->kind,     &a->note,
                  &a->goal,      &a->outcome, &a->criterion, &a->campaign, &a->team,
                  &a->subject,   &a->name,    &a->date};
    int64_t *n[] = {&a->link,  &a->pair,  &a->case_id, &a->visit,
                    &a->round, &a->score, &a->qty,     &a->target};
    for (size_t i = 0; strs && i < GF_PROGRAMME_STR_KEYS; i++)
        strs[i] = s[i];
    for (size_t i = 0; ints && i < GF_PROGRAMME_INT_KEYS; i++)
        ints[i] = n[i];
}

bool gf_programme_int_present (const gf_programme_action_t *a, size_t i)
{
    int64_t *ints[GF_PROGRAMME_INT_KEYS];
    gf_programme_action_fields ((gf_programme_action_t *)a, NULL, ints);
    //  score 0 is a score; every other integer is a positive id or count
    return streq (gf_programme_int_keys[i], "score") ? *ints[i] >= 0 : *ints[i] > 0;
}

static int s_fill (gf_msg_t *msg, gf_programme_action_t *a, gf_error_t *err)
{
    if (!streq (gf_msg_type (msg), GF_TYPE_PROGRAMME_ACTION))
        return gf_error_set (err, GF_E_UNKNOWN_TYPE, "type '%s' is not %s", gf_msg_type (msg),
                             GF_TYPE_PROGRAMME_ACTION);
    if (gf_msg_get_str (msg, "id", true, GF_MAX_REF, &a->id, err))
        return -1;
    if (*a->id == 0)
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'id' is empty");
    a->at = gf_msg_at (msg);
    if (gf_msg_get_str (msg, "action", true, GF_MAX_CODE, &a->action, err) ||
        gf_msg_get_str (msg, "actor", true, GF_MAX_REF, &a->actor, err))
        return -1;
    char **strs[GF_PROGRAMME_STR_KEYS];
    int64_t *ints[GF_PROGRAMME_INT_KEYS];
    gf_programme_action_fields (a, strs, ints);
    for (size_t i = 0; i < GF_PROGRAMME_STR_KEYS; i++)
        if (gf_msg_get_str (msg, gf_programme_str_keys[i], false, s_str_max[i], strs[i], err) < 0)
            return -1;
    a->score = -1;
    for (size_t i = 0; i < GF_PROGRAMME_INT_KEYS; i++) {
        int rc = gf_msg_get_int (msg, gf_programme_int_keys[i], false, ints[i], err);
        if (rc < 0)
            return -1;
        if (rc == 0 && !gf_programme_int_present (a, i))
            return gf_error_set (err, GF_E_BAD_VALUE, "field '%s' must be %s",
                                 gf_programme_int_keys[i],
                                 ints[i] == &a->score ? "0 or more" : "positive");
    }
    return 0;
}

int gf_programme_action_from_msg (gf_msg_t *msg, gf_programme_action_t *a, gf_error_t *err)
{
    assert (msg && a);
    gf_programme_action_t local = {0};
    if (s_fill (msg, &local, err)) {
        gf_programme_action_reset (&local);
        memset (a, 0, sizeof *a);
        a->score = -1;
        return -1;
    }
    *a = local;
    return 0;
}

zframe_t *gf_programme_action_encode (const gf_programme_action_t *a)
{
    assert (a && a->action && a->actor);
    char **strs[GF_PROGRAMME_STR_KEYS];
    int64_t *ints[GF_PROGRAMME_INT_KEYS];
    gf_programme_action_fields ((gf_programme_action_t *)a, strs, ints);
    size_t count = 5 + (a->id != NULL);
    for (size_t i = 0; i < GF_PROGRAMME_STR_KEYS; i++)
        count += *strs[i] != NULL;
    for (size_t i = 0; i < GF_PROGRAMME_INT_KEYS; i++)
        count += gf_programme_int_present (a, i);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, count);
    gf_pack_version (&pk, GF_TYPE_PROGRAMME_ACTION);
    if (a->id) {
        gf_pack_key (&pk, "id");
        gf_pack_cstr (&pk, a->id);
    }
    gf_pack_key (&pk, "at");
    msgpack_pack_int64 (&pk, a->at);
    gf_pack_key (&pk, "action");
    gf_pack_cstr (&pk, a->action);
    gf_pack_key (&pk, "actor");
    gf_pack_cstr (&pk, a->actor);
    for (size_t i = 0; i < GF_PROGRAMME_STR_KEYS; i++)
        if (*strs[i]) {
            gf_pack_key (&pk, gf_programme_str_keys[i]);
            gf_pack_cstr (&pk, *strs[i]);
        }
    for (size_t i = 0; i < GF_PROGRAMME_INT_KEYS; i++)
        if (gf_programme_int_present (a, i)) {
            gf_pack_key (&pk, gf_programme_int_keys[i]);
            msgpack_pack_int64 (&pk, *ints[i]);
        }
    return gf_pack_frame (&sbuf);
}

void gf_programme_action_reset (gf_programme_action_t *a)
{
    assert (a);
    char **strs[GF_PROGRAMME_STR_KEYS];
    gf_programme_action_fields (a, strs, NULL);
    free (a->id);
    free (a->action);
    free (a->actor);
    for (size_t i = 0; i < GF_PROGRAMME_STR_KEYS; i++)
        free (*strs[i]);
    memset (a, 0, sizeof *a);
    a->score = -1;
}
