/*  gf_meeting.c — meeting.action: staff record a meeting.

    {v, type: "meeting.action", id, at, meeting, action, actor,
     person?, name?, role?, case?, decision?, deadline?, department?,
     owner?, note?, consultation?, text?, speaker?, opinion?, response?}
    The codec checks presence of the always-required keys, types and
    limits; what an action or a decision kind needs is checked by the
    database (meeting_records.sql), which answers missing_field itself.
*/
#include "gf_internal.h"

static int s_fill (gf_msg_t *msg, gf_meeting_action_t *a, gf_error_t *err)
{
    if (!streq (gf_msg_type (msg), GF_TYPE_MEETING_ACTION))
        return gf_error_set (err, GF_E_UNKNOWN_TYPE, "type '%s' is not %s", gf_msg_type (msg),
                             GF_TYPE_MEETING_ACTION);
    if (gf_msg_get_str (msg, "id", true, GF_MAX_REF, &a->id, err))
        return -1;
    if (*a->id == 0)
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'id' is empty");
    a->at = gf_msg_at (msg);
    if (gf_msg_get_int (msg, "meeting", true, &a->meeting, err) ||
        gf_msg_get_str (msg, "action", true, GF_MAX_CODE, &a->action, err) ||
        gf_msg_get_str (msg, "actor", true, GF_MAX_REF, &a->actor, err) ||
        gf_msg_get_str (msg, "person", false, GF_MAX_REF, &a->person, err) < 0 ||
        gf_msg_get_str (msg, "name", false, GF_MAX_NAME, &a->name, err) < 0 ||
        gf_msg_get_str (msg, "role", false, GF_MAX_CODE, &a->role, err) < 0 ||
        gf_msg_get_int (msg, "case", false, &a->case_id, err) < 0 ||
        gf_msg_get_str (msg, "decision", false, GF_MAX_CODE, &a->decision, err) < 0 ||
        gf_msg_get_int (msg, "deadline", false, &a->deadline, err) < 0 ||
        gf_msg_get_str (msg, "department", false, GF_MAX_NAME, &a->department, err) < 0 ||
        gf_msg_get_str (msg, "owner", false, GF_MAX_REF, &a->owner, err) < 0 ||
        gf_msg_get_str (msg, "note", false, GF_MAX_DESCRIPTION, &a->note, err) < 0 ||
        gf_msg_get_int (msg, "consultation", false, &a->consultation, err) < 0 ||
        gf_msg_get_str (msg, "text", false, GF_MAX_DESCRIPTION, &a->text, err) < 0 ||
        gf_msg_get_str (msg, "speaker", false, GF_MAX_NAME, &a->speaker, err) < 0 ||
        gf_msg_get_str (msg, "opinion", false, GF_MAX_DESCRIPTION, &a->opinion, err) < 0 ||
        gf_msg_get_str (msg, "response", false, GF_MAX_DESCRIPTION, &a->response, err) < 0)
        return -1;
    if (a->meeting <= 0 || a->case_id < 0 || a->consultation < 0)
        return gf_error_set (err, GF_E_BAD_VALUE,
                             "fields 'meeting', 'case' and 'consultation' must be positive");
    if (a->deadline < 0 || a->deadline > GF_MAX_TIME_MS)
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'deadline' is out of range");
    return 0;
}

int gf_meeting_action_from_msg (gf_msg_t *msg, gf_meeting_action_t *a, gf_error_t *err)
{
    assert (msg && a);
    gf_meeting_action_t local = {0};
    if (s_fill (msg, &local, err)) {
        gf_meeting_action_reset (&local);
        memset (a, 0, sizeof *a);
        return -1;
    }
    *a = local;
    return 0;
}

zframe_t *gf_meeting_action_encode (const gf_meeting_action_t *a)
{
    assert (a && a->action && a->actor);
    const char *keys[] = {"person", "name", "role",    "decision", "department", "owner",
                          "note",   "text", "speaker", "opinion",  "response"};
    const char *vals[] = {a->person, a->name, a->role,    a->decision, a->department, a->owner,
                          a->note,   a->text, a->speaker, a->opinion,  a->response};
    const char *ikeys[] = {"case", "deadline", "consultation"};
    int64_t ivals[] = {a->case_id, a->deadline, a->consultation};
    size_t count = 6 + (a->id != NULL);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        count += vals[i] != NULL;
    for (size_t i = 0; i < sizeof ikeys / sizeof ikeys[0]; i++)
        count += ivals[i] > 0;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, count);
    gf_pack_version (&pk, GF_TYPE_MEETING_ACTION);
    if (a->id) {
        gf_pack_key (&pk, "id");
        gf_pack_cstr (&pk, a->id);
    }
    gf_pack_key (&pk, "at");
    msgpack_pack_int64 (&pk, a->at);
    gf_pack_key (&pk, "meeting");
    msgpack_pack_int64 (&pk, a->meeting);
    gf_pack_key (&pk, "action");
    gf_pack_cstr (&pk, a->action);
    gf_pack_key (&pk, "actor");
    gf_pack_cstr (&pk, a->actor);
    for (size_t i = 0; i < sizeof ikeys / sizeof ikeys[0]; i++)
        if (ivals[i] > 0) {
            gf_pack_key (&pk, ikeys[i]);
            msgpack_pack_int64 (&pk, ivals[i]);
        }
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (vals[i]) {
            gf_pack_key (&pk, keys[i]);
            gf_pack_cstr (&pk, vals[i]);
        }
    return gf_pack_frame (&sbuf);
}

void gf_meeting_action_reset (gf_meeting_action_t *a)
{
    assert (a);
    free (a->id);
    free (a->action);
    free (a->actor);
    free (a->person);
    free (a->name);
    free (a->role);
    free (a->decision);
    free (a->department);
    free (a->owner);
    free (a->note);
    free (a->text);
    free (a->speaker);
    free (a->opinion);
    free (a->response);
    memset (a, 0, sizeof *a);
}
