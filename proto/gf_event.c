/*  gf_event.c — encodes an event from the log for the wire.

    The event log stores each payload as a JSON object; the relay adds the
    common keys in front: {v, type, id, at, seq, case, grid, ...payload}.
    `id` is the event id as a decimal string (ids are strings on the wire,
    SPEC.md).  Payload keys named like a common key are dropped: the
    common key is authoritative.
*/
#include "gf_internal.h"

static const char *s_common_keys[] = {"v", "type", "id", "at", "seq", "case", "grid"};

static bool s_is_common_n (const char *key, size_t len)
{
    for (size_t i = 0; i < sizeof s_common_keys / sizeof s_common_keys[0]; i++)
        if (strlen (s_common_keys[i]) == len && memcmp (key, s_common_keys[i], len) == 0)
            return true;
    return false;
}

//  A string the decoder accepts anywhere: at most GF_MAX_STRING bytes of
//  strict UTF-8 (gf_msg_decode's length and UTF-8 passes).
static bool s_str_ok (const char *s, size_t len)
{
    return len <= GF_MAX_STRING && gf_utf8_count (s, len) >= 0;
}

//  Every key and string of a parsed payload within the decoder's limits.
//  jansson already refused duplicate keys and NULs; gf_pack_json bounds
//  the depth.
static bool s_json_ok (json_t *value)
{
    const char *key;
    json_t *member;
    size_t index;
    switch (json_typeof (value)) {
    case JSON_OBJECT:
        json_object_foreach (value, key, member)
        {
            if (!s_str_ok (key, strlen (key)) || !s_json_ok (member))
                return false;
        }
        return true;
    case JSON_ARRAY:
        json_array_foreach (value, index, member)
        {
            if (!s_json_ok (member))
                return false;
        }
        return true;
    case JSON_STRING:
        return s_str_ok (json_string_value (value), json_string_length (value));
    default:
        return true;
    }
}

//  The flat payload: what most events carry, and what PostgreSQL's jsonb
//  output gives for it.  One object of at most S_FLAT_MAX members whose
//  keys and strings hold no escape, and whose values are strings, integers
//  of at most 18 digits, true, false or null.  s_flat_parse reads such a
//  payload without building a tree (jansson's json_loads allocates every
//  value, and was a sixth of the relay's CPU in a replay).  Anything else
//  (an escape, a real, a nested value, more members, a duplicate key, a
//  string the decoder would refuse) is left to jansson, which then
//  decides, as before, whether the payload is valid: both paths give the
//  same bytes (tests/unit/test_proto.c).
#define S_FLAT_MAX 16

typedef enum { S_FLAT_STR, S_FLAT_INT, S_FLAT_TRUE, S_FLAT_FALSE, S_FLAT_NULL } s_flat_kind_t;

typedef struct {
    const char *key;
    size_t key_len;
    bool common; /* a common key's: dropped (the common key is authoritative) */
    s_flat_kind_t kind;
    const char *str; /* S_FLAT_STR: its bytes, within the payload */
    size_t str_len;
    int64_t num; /* S_FLAT_INT */
} s_flat_member_t;

static const char *s_flat_space (const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

//  A string without escapes at p (its opening quote): its bytes in *str,
//  *len; returns what follows its closing quote, or NULL.
static const char *s_flat_string (const char *p, const char **str, size_t *len)
{
    if (*p != '"')
        return NULL;
    const char *start = ++p;
    while (*p != '"') {
        if (*p == '\\' || (unsigned char)*p < 0x20) /* an escape, a control or the end */
            return NULL;
        p++;
    }
    *str = start;
    *len = (size_t)(p - start);
    return s_str_ok (start, *len) ? p + 1 : NULL;
}

static const char *s_flat_value (const char *p, s_flat_member_t *m)
{
    if (*p == '"') {
        m->kind = S_FLAT_STR;
        return s_flat_string (p, &m->str, &m->str_len);
    }
    if (strncmp (p, "true", 4) == 0) {
        m->kind = S_FLAT_TRUE;
        return p + 4;
    }
    if (strncmp (p, "false", 5) == 0) {
        m->kind = S_FLAT_FALSE;
        return p + 5;
    }
    if (strncmp (p, "null", 4) == 0) {
        m->kind = S_FLAT_NULL;
        return p + 4;
    }
    bool negative = *p == '-';
    const char *digits = negative ? p + 1 : p;
    size_t n = 0;
    int64_t value = 0;
    //  18 digits cannot overflow; more, a leading zero, a fraction or an
    //  exponent go to jansson.
    while (digits[n] >= '0' && digits[n] <= '9') {
        if (n == 18)
            return NULL;
        value = value * 10 + (digits[n] - '0');
        n++;
    }
    if (n == 0 || (digits[0] == '0' && n > 1) || digits[n] == '.' || digits[n] == 'e' ||
        digits[n] == 'E')
        return NULL;
    m->kind = S_FLAT_INT;
    m->num = negative ? -value : value;
    return digits + n;
}

//  Parses a flat payload into members[]; their count, or -1 when the
//  payload is not flat (then jansson reads it).
static int s_flat_parse (const char *json, s_flat_member_t *members)
{
    const char *p = s_flat_space (json);
    if (*p++ != '{')
        return -1;
    int count = 0;
    p = s_flat_space (p);
    if (*p == '}')
        p++;
    else
        for (;;) {
            if (count == S_FLAT_MAX)
                return -1;
            s_flat_member_t *m = &members[count];
            if (!(p = s_flat_string (p, &m->key, &m->key_len)))
                return -1;
            m->common = s_is_common_n (m->key, m->key_len);
            p = s_flat_space (p);
            if (*p++ != ':')
                return -1;
            if (!(p = s_flat_value (s_flat_space (p), m)))
                return -1;
            for (int i = 0; i < count; i++)
                if (members[i].key_len == m->key_len &&
                    memcmp (members[i].key, m->key, m->key_len) == 0)
                    return -1; /* a duplicate: jansson refuses it */
            count++;
            p = s_flat_space (p);
            if (*p == '}') {
                p++;
                break;
            }
            if (*p++ != ',')
                return -1;
            p = s_flat_space (p);
        }
    return *s_flat_space (p) == 0 ? count : -1;
}

static void s_flat_pack (msgpack_packer *pk, const s_flat_member_t *m)
{
    msgpack_pack_str (pk, m->key_len);
    msgpack_pack_str_body (pk, m->key, m->key_len);
    switch (m->kind) {
    case S_FLAT_STR:
        msgpack_pack_str (pk, m->str_len);
        msgpack_pack_str_body (pk, m->str, m->str_len);
        break;
    case S_FLAT_INT:
        msgpack_pack_int64 (pk, m->num);
        break;
    case S_FLAT_TRUE:
        msgpack_pack_true (pk);
        break;
    case S_FLAT_FALSE:
        msgpack_pack_false (pk);
        break;
    case S_FLAT_NULL:
        msgpack_pack_nil (pk);
        break;
    }
}

//  The event id in decimal, as snprintf ("%" PRId64) writes it.
static void s_decimal (char *out, int64_t value)
{
    char digits[24];
    size_t n = 0;
    uint64_t v = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    if (value < 0)
        *out++ = '-';
    while (n > 0)
        *out++ = digits[--n];
    *out = 0;
}

int gf_event_pack (msgpack_sbuffer *sbuf, uint64_t seq, const char *type, int64_t event_id,
                   int64_t at, int64_t case_id, const char *grid, const char *payload_json)
{
    assert (sbuf && type);
    msgpack_sbuffer_clear (sbuf);
    //  What the decoder asks of the common keys: a type of 1..GF_MAX_CODE
    //  characters, strings within the limits.
    ssize_t type_chars = gf_utf8_count (type, strlen (type));
    if (type_chars < 1 || type_chars > GF_MAX_CODE || (grid && !s_str_ok (grid, strlen (grid))))
        return -1;
    json_t *payload = NULL;
    s_flat_member_t flat[S_FLAT_MAX];
    int flat_n = -1;
    /* "{}" (the most common payload) adds nothing: no need to parse it. */
    if (payload_json && *payload_json && strcmp (payload_json, "{}") != 0 &&
        (flat_n = s_flat_parse (payload_json, flat)) < 0) {
        json_error_t jerr;
        payload = json_loads (payload_json, JSON_REJECT_DUPLICATES, &jerr);
        if (!payload)
            return -1;
        if (!json_is_object (payload) || !s_json_ok (payload)) {
            json_decref (payload);
            return -1;
        }
        //  Dropped here once; the rest keep their order (jansson's is the
        //  order of insertion).
        for (size_t i = 0; i < sizeof s_common_keys / sizeof s_common_keys[0]; i++)
            json_object_del (payload, s_common_keys[i]);
    }
    size_t count = 7 + (payload ? json_object_size (payload) : 0);
    for (int i = 0; i < flat_n; i++)
        if (!flat[i].common)
            count++;

    msgpack_packer pk;
    msgpack_packer_init (&pk, sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, count);
    gf_pack_version (&pk, type);
    char id[24];
    s_decimal (id, event_id);
    gf_pack_key (&pk, "id");
    gf_pack_cstr (&pk, id);
    gf_pack_key (&pk, "at");
    msgpack_pack_int64 (&pk, at);
    gf_pack_key (&pk, "seq");
    msgpack_pack_uint64 (&pk, seq);
    gf_pack_key (&pk, "case");
    msgpack_pack_int64 (&pk, case_id);
    gf_pack_key (&pk, "grid");
    gf_pack_cstr (&pk, grid);
    for (int i = 0; i < flat_n; i++)
        if (!flat[i].common)
            s_flat_pack (&pk, &flat[i]);
    int rc = 0;
    const char *key;
    json_t *value;
    if (payload)
        json_object_foreach (payload, key, value)
        {
            gf_pack_key (&pk, key);
            //  The top map is level 1, so payload values get the rest.
            if ((rc = gf_pack_json (&pk, value, GF_MAX_DEPTH - 1)) != 0)
                break;
        }
    json_decref (payload);
    //  The strings, the depth and the keys were checked above, so the body
    //  decodes unless it is too large (tests/unit/test_proto.c holds the
    //  encoder to the decoder at each limit).
    return rc == 0 && sbuf->size <= GF_MAX_BODY ? 0 : -1;
}

zframe_t *gf_event_encode (uint64_t seq, const char *type, int64_t event_id, int64_t at,
                           int64_t case_id, const char *grid, const char *payload_json)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    if (gf_event_pack (&sbuf, seq, type, event_id, at, case_id, grid, payload_json) == 0)
        return gf_pack_frame (&sbuf);
    msgpack_sbuffer_destroy (&sbuf);
    return NULL;
}
