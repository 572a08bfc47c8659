/*  gf_msg.c — strict decoding of one body, typed getters, JSON rendering.

    A body is checked in a fixed order so that every sender gets the same
    code for the same mistake whatever else is wrong with it (SPEC.md,
    "Decoding"): size, framing, depth, shape, string limits, UTF-8, then
    the common keys.  The bytes are structurally scanned by s_scan before
    msgpack-c sees them: that gives exact malformed / too_deep answers
    independent of msgpack-c's internal stack limit, and rejects absurd
    element counts before anything is allocated for them.

    nil is treated as absent everywhere: a JSON-minded sender writing
    `"category": null` means "no category".
*/
#include "gf_internal.h"
#include <math.h>

//  The decoded tree's first zone chunk: bytes per body byte, and bounds.
#define S_ZONE_PER_BYTE 6
#define S_ZONE_MIN      256
#define S_ZONE_MAX      MSGPACK_ZONE_CHUNK_SIZE

struct _gf_msg_t {
    char *data;                //  Private copy of the body, after the struct;
                               //  strings point into it
    size_t size;               //  Bytes in data
    msgpack_unpacked unpacked; //  Decoded tree and the zone that owns it
    msgpack_object_map *map;   //  The top map, inside unpacked
    char *type;                //  `type`, never NULL once decoded
    char *id;                  //  `id`, NULL if absent
    int64_t at;                //  `at`, 0 if absent
};

//  Layout of the formats 0xc0..0xdf: the bytes of the big-endian length
//  (or count) field after the marker, the fixed payload bytes (for ext,
//  the type byte), and whether the value is a container.
typedef struct {
    unsigned char lenbytes; //  0, 1, 2 or 4
    unsigned char fixed;    //  payload bytes not covered by the length
    bool container;         //  array or map: the length counts items
    bool valid;             //  false only for the reserved 0xc1
} s_format_t;

static const s_format_t s_formats[32] = {
    {0, 0, false, true},  {0, 0, false, false}, {0, 0, false, true}, {0, 0, false, true},
    {1, 0, false, true},  {2, 0, false, true},  {4, 0, false, true}, //  bin 8/16/32
    {1, 1, false, true},  {2, 1, false, true},  {4, 1, false, true}, //  ext 8/16/32
    {0, 4, false, true},  {0, 8, false, true},                       //  float 32/64
    {0, 1, false, true},  {0, 2, false, true},  {0, 4, false, true}, {0, 8, false, true}, //  uint
    {0, 1, false, true},  {0, 2, false, true},  {0, 4, false, true}, {0, 8, false, true}, //  int
    {0, 2, false, true},  {0, 3, false, true},  {0, 5, false, true}, {0, 9, false, true},
    {0, 17, false, true},                                            //  fixext 1..16
    {1, 0, false, true},  {2, 0, false, true},  {4, 0, false, true}, //  str 8/16/32
    {2, 0, true, true},   {4, 0, true, true},                        //  array 16/32
    {2, 0, true, true},   {4, 0, true, true},                        //  map 16/32
};

//  Scans one msgpack value without building it.  Returns 0, or -1 with
//  err set to malformed (truncated, reserved byte 0xc1, trailing bytes)
//  or too_deep; malformed wins because the whole body is scanned.

static int s_scan (const unsigned char *p, size_t size, gf_error_t *err)
{
    uint64_t pending = 1;        //  values still to read, at any depth
    uint64_t left[GF_MAX_DEPTH]; //  items left in each open container
    size_t open = 0;             //  open containers tracked in left[]
    bool too_deep = false;       //  stop tracking depth once exceeded
    size_t pos = 0;

    while (pending > 0) {
        if (pos >= size)
            return gf_error_set (err, GF_E_MALFORMED, "body is truncated");
        unsigned char b = p[pos++];
        uint64_t skip = 0;  //  payload bytes after the header
        uint64_t items = 0; //  child values for containers
        bool container = false;
        int lenbytes = 0; //  big-endian length field that follows
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
            ; //  fixint, nil, bool
        else if (b <= 0x8f) {
            container = true;
            items = 2 * (uint64_t)(b & 0x0f);
        } else if (b <= 0x9f) {
            container = true;
            items = b & 0x0f;
        } else if (b <= 0xbf)
            skip = b & 0x1f;
        else {
            const s_format_t *format = &s_formats[b - 0xc0];
            if (!format->valid)
                return gf_error_set (err, GF_E_MALFORMED, "reserved byte 0xc1 at offset %zu",
                                     pos - 1);
            lenbytes = format->lenbytes;
            skip = format->fixed;
            container = format->container;
        }
        if (lenbytes) {
            if (size - pos < (size_t)lenbytes)
                return gf_error_set (err, GF_E_MALFORMED, "body is truncated");
            uint64_t n = 0;
            for (int i = 0; i < lenbytes; i++)
                n = (n << 8) | p[pos++];
            if (container)
                items = (b == 0xde || b == 0xdf) ? 2 * n : n;
            else
                skip += n; //  after the fixed ext type byte, if any
        }
        if (skip > size - pos)
            return gf_error_set (err, GF_E_MALFORMED, "body is truncated");
        pos += (size_t)skip;
        pending = pending - 1 + items;
        //  Every value takes at least one byte: a count beyond the bytes
        //  left can only be a truncated or hostile body.
        if (pending > size - pos)
            return gf_error_set (err, GF_E_MALFORMED, "body is truncated");

        if (!too_deep) {
            if (open > 0)
                left[open - 1]--;
            if (container) {
                if (open + 1 > GF_MAX_DEPTH)
                    too_deep = true;
                else if (items > 0)
                    left[open++] = items;
            }
            while (open > 0 && left[open - 1] == 0)
                open--;
        }
    }
    if (pos != size)
        return gf_error_set (err, GF_E_MALFORMED, "%zu trailing bytes after the body", size - pos);
    if (too_deep)
        return gf_error_set (err, GF_E_TOO_DEEP, "nesting is deeper than %d levels", GF_MAX_DEPTH);
    return 0;
}

static const char *s_type_name (msgpack_object_type type)
{
    switch (type) {
    case MSGPACK_OBJECT_NIL:
        return "nil";
    case MSGPACK_OBJECT_BOOLEAN:
        return "boolean";
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return "integer";
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return "float";
    case MSGPACK_OBJECT_STR:
        return "string";
    case MSGPACK_OBJECT_BIN:
        return "binary";
    case MSGPACK_OBJECT_ARRAY:
        return "array";
    case MSGPACK_OBJECT_MAP:
        return "map";
    default:
        return "extension";
    }
}

//  msgpack-c leaves the pointer of an empty str or bin NULL: the mem*
//  functions must not get it, even with a size of 0 (UBSan, fuzz_msg).
static const char *s_str_ptr (const msgpack_object *o)
{
    return o->via.str.size ? o->via.str.ptr : "";
}

//  A printable, UTF-8-safe, short rendering of a key for error messages
//  (which travel in replies, so they must themselves be valid).

#define S_LABEL_CHARS 40
static const char *s_label (const msgpack_object *key, char *buf, size_t bufsize)
{
    assert (bufsize > 4 * S_LABEL_CHARS + 4);
    const char *s = s_str_ptr (key);
    size_t n = key->via.str.size;
    bool utf8 = n <= GF_MAX_STRING && gf_utf8_count (s, n) >= 0;
    size_t keep =
        utf8 ? gf_utf8_prefix (s, n, S_LABEL_CHARS) : (n < S_LABEL_CHARS ? n : S_LABEL_CHARS);
    size_t out = 0;
    for (size_t i = 0; i < keep; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[out++] = (c < 0x20 || c == 0x7f || c == '\'' || (!utf8 && c >= 0x80)) ? '?' : (char)c;
    }
    if (keep < n)
        for (int i = 0; i < 3; i++)
            buf[out++] = '.';
    buf[out] = 0;
    return buf;
}

//  Key comparison for duplicate detection: by length, then bytes.
static int s_key_compare (const void *a, const void *b)
{
    const msgpack_object *x = &(*(msgpack_object_kv *const *)a)->key;
    const msgpack_object *y = &(*(msgpack_object_kv *const *)b)->key;
    if (x->via.str.size != y->via.str.size)
        return x->via.str.size < y->via.str.size ? -1 : 1;
    return memcmp (s_str_ptr (x), s_str_ptr (y), x->via.str.size);
}

//  The shape, string-limit and UTF-8 checks are separate passes over the
//  (at most 8 deep) tree so that their codes keep their priority.  A body
//  is first checked by all three in one pass (S_PASS_ALL); the separate
//  passes run only when that one found a fault, to report the right one.
typedef enum { S_PASS_SHAPE = 1, S_PASS_LENGTH = 2, S_PASS_UTF8 = 4, S_PASS_ALL = 7 } s_pass_t;

#define S_SMALL_MAP 16 /* keys compared pair by pair for duplicates */

//  fkey is the top-level key whose value holds o (NULL for the top map);
//  errors name it as `field`, rendered only when there is an error.
static int s_check (const msgpack_object *o, s_pass_t pass, const msgpack_object *fkey,
                    size_t max_bin, gf_error_t *err)
{
    char label[4 * S_LABEL_CHARS + 8];
#define S_FIELD (fkey ? s_label (fkey, label, sizeof label) : NULL)
    switch (o->type) {
    case MSGPACK_OBJECT_STR:
        if ((pass & S_PASS_LENGTH) && o->via.str.size > GF_MAX_STRING)
            return gf_error_set (err, GF_E_TOO_LONG, "a string in field '%s' is %u bytes, limit %d",
                                 S_FIELD, o->via.str.size, GF_MAX_STRING);
        if ((pass & S_PASS_UTF8) && gf_utf8_count (o->via.str.ptr, o->via.str.size) < 0)
            return gf_error_set (err, GF_E_INVALID_UTF8,
                                 "a string in field '%s' is not valid UTF-8", S_FIELD);
        return 0;
    case MSGPACK_OBJECT_BIN:
        if ((pass & S_PASS_LENGTH) && o->via.bin.size > max_bin)
            return gf_error_set (err, GF_E_TOO_LONG, "binary in field '%s' is %u bytes, limit %zu",
                                 S_FIELD, o->via.bin.size, max_bin);
        return 0;
    case MSGPACK_OBJECT_EXT:
        if ((pass & S_PASS_LENGTH) && o->via.ext.size > GF_MAX_STRING)
            return gf_error_set (err, GF_E_TOO_LONG,
                                 "extension in field '%s' is %u bytes, limit %d", S_FIELD,
                                 o->via.ext.size, GF_MAX_STRING);
        return 0;
    case MSGPACK_OBJECT_ARRAY:
        for (uint32_t i = 0; i < o->via.array.size; i++)
            if (s_check (&o->via.array.ptr[i], pass, fkey, max_bin, err))
                return -1;
        return 0;
    case MSGPACK_OBJECT_MAP: {
        const msgpack_object_map *map = &o->via.map;
        bool top = fkey == NULL;
        for (uint32_t i = 0; i < map->size; i++) {
            const msgpack_object *key = &map->ptr[i].key;
            if (key->type != MSGPACK_OBJECT_STR) {
                if (pass & S_PASS_SHAPE)
                    return gf_error_set (err, GF_E_NOT_MAP, "%s has a key of type %s",
                                         top ? "body" : "a map", s_type_name (key->type));
                continue;
            }
            if ((pass & S_PASS_LENGTH) && key->via.str.size > GF_MAX_STRING)
                return gf_error_set (err, GF_E_TOO_LONG, "a key%s%s%s is %u bytes, limit %d",
                                     top ? "" : " inside field '", top ? "" : S_FIELD,
                                     top ? "" : "'", key->via.str.size, GF_MAX_STRING);
            if ((pass & S_PASS_UTF8) && gf_utf8_count (key->via.str.ptr, key->via.str.size) < 0)
                return gf_error_set (err, GF_E_INVALID_UTF8, "a key%s%s%s is not valid UTF-8",
                                     top ? "" : " inside field '", top ? "" : S_FIELD,
                                     top ? "" : "'");
            //  Nested errors name the top-level field that holds them.
            if (s_check (&map->ptr[i].val, pass, top ? key : fkey, max_bin, err))
                return -1;
        }
        if ((pass & S_PASS_SHAPE) && map->size > 1) {
            //  Duplicate keys would let two readers see two messages.  A
            //  small map is compared pair by pair; the sort below runs
            //  only when a duplicate was seen, or for a big map.
            bool dup = map->size > S_SMALL_MAP;
            for (uint32_t i = 0; i < map->size && !dup; i++)
                for (uint32_t j = i + 1; j < map->size && !dup; j++) {
                    const msgpack_object_kv *x = &map->ptr[i], *y = &map->ptr[j];
                    dup = s_key_compare (&x, &y) == 0;
                }
            if (!dup)
                return 0;
            msgpack_object_kv **sorted = (msgpack_object_kv **)malloc (map->size * sizeof *sorted);
            if (!sorted)
                return gf_error_set (err, GF_E_INTERNAL, "out of memory");
            for (uint32_t i = 0; i < map->size; i++)
                sorted[i] = &map->ptr[i];
            qsort (sorted, map->size, sizeof *sorted, s_key_compare);
            int rc = 0;
            for (uint32_t i = 1; i < map->size && rc == 0; i++)
                if (s_key_compare (&sorted[i - 1], &sorted[i]) == 0)
                    rc = gf_error_set (err, GF_E_NOT_MAP, "%s has key '%s' twice",
                                       top ? "body" : "a map",
                                       s_label (&sorted[i]->key, label, sizeof label));
            free (sorted);
            return rc;
        }
        return 0;
    }
    default:
        return 0;
    }
}
#undef S_FIELD

//  Looks a key up in the top map; nil counts as absent.
static const msgpack_object *s_lookup (gf_msg_t *self, const char *key)
{
    size_t len = strlen (key);
    for (uint32_t i = 0; i < self->map->size; i++) {
        const msgpack_object *k = &self->map->ptr[i].key;
        if (k->via.str.size == len && memcmp (s_str_ptr (k), key, len) == 0) {
            const msgpack_object *val = &self->map->ptr[i].val;
            return val->type == MSGPACK_OBJECT_NIL ? NULL : val;
        }
    }
    return NULL;
}

//  Common "absent" handling of the getters: 1 if optional, -1 if not.
static int s_absent (const char *key, bool required, gf_error_t *err)
{
    if (required)
        return gf_error_set (err, GF_E_MISSING_FIELD, "field '%s' is required", key);
    return 1;
}

static int s_decode_head (gf_msg_t *self, gf_error_t *err)
{
    const msgpack_object *v = s_lookup (self, "v");
    if (!v)
        return gf_error_set (err, GF_E_MISSING_FIELD, "field 'v' is required");
    if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return gf_error_set (err, GF_E_UNSUPPORTED_VERSION, "version %" PRId64 " is not supported",
                             v->via.i64);
    if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return gf_error_set (err, GF_E_WRONG_TYPE, "field 'v' must be an integer, got %s",
                             s_type_name (v->type));
    if (v->via.u64 != GF_PROTO_VERSION)
        return gf_error_set (err, GF_E_UNSUPPORTED_VERSION,
                             "version %" PRIu64 " is not supported (this side speaks %d)",
                             v->via.u64, GF_PROTO_VERSION);
    if (gf_msg_get_str (self, "type", true, GF_MAX_CODE, &self->type, err))
        return -1;
    if (*self->type == 0)
        return gf_error_set (err, GF_E_BAD_VALUE, "field 'type' is empty");
    if (gf_msg_get_str (self, "id", false, GF_MAX_REF, &self->id, err) < 0)
        return -1;
    if (gf_msg_get_int (self, "at", false, &self->at, err) < 0)
        return -1;
    return 0;
}

gf_msg_t *gf_msg_decode (const void *data, size_t size, gf_error_t *err)
{
    return gf_msg_decode_limits (data, size, GF_MAX_BODY, GF_MAX_STRING, err);
}

gf_msg_t *gf_msg_decode_limits (const void *data, size_t size, size_t max_body, size_t max_bin,
                                gf_error_t *err)
{
    assert (data || size == 0);
    gf_error_t ignored;
    if (!err)
        err = &ignored;
    if (size > max_body) {
        gf_error_set (err, GF_E_TOO_LARGE, "body is %zu bytes, limit %zu", size, max_body);
        return NULL;
    }
    if (s_scan ((const unsigned char *)data, size, err))
        return NULL;

    //  The copy of the body lives in the same allocation as the message,
    //  and the zone's first chunk is sized to the body (msgpack-c's default
    //  is 8 KiB; it grows a chunk when the tree needs more): two small
    //  allocations fewer per message, which the relay's readers feel.
    gf_msg_t *self = (gf_msg_t *)malloc (sizeof (gf_msg_t) + size);
    if (!self) {
        gf_error_set (err, GF_E_INTERNAL, "out of memory");
        return NULL;
    }
    memset (self, 0, sizeof (gf_msg_t));
    self->size = size;
    self->data = (char *)(self + 1);
    memcpy (self->data, data, size);
    msgpack_unpacked_init (&self->unpacked);
    size_t chunk = size * S_ZONE_PER_BYTE;
    self->unpacked.zone = msgpack_zone_new (chunk < S_ZONE_MIN   ? S_ZONE_MIN
                                            : chunk > S_ZONE_MAX ? S_ZONE_MAX
                                                                 : chunk);
    if (!self->unpacked.zone) {
        free (self);
        gf_error_set (err, GF_E_INTERNAL, "out of memory");
        return NULL;
    }

    size_t offset = 0;
    msgpack_unpack_return rc =
        msgpack_unpack (self->data, size, &offset, self->unpacked.zone, &self->unpacked.data);
    const msgpack_object *root = &self->unpacked.data;
    if (rc != MSGPACK_UNPACK_SUCCESS || offset != size) {
        //  s_scan accepted it, so only memory can be short here.
        gf_error_set (err, rc == MSGPACK_UNPACK_NOMEM_ERROR ? GF_E_INTERNAL : GF_E_MALFORMED,
                      "msgpack-c could not unpack the body (%d)", (int)rc);
        gf_msg_destroy (&self);
    } else if (root->type != MSGPACK_OBJECT_MAP) {
        gf_error_set (err, GF_E_NOT_MAP, "body is %s %s, not a map",
                      root->type == MSGPACK_OBJECT_ARRAY || root->type == MSGPACK_OBJECT_EXT ? "an"
                                                                                             : "a",
                      s_type_name (root->type));
        gf_msg_destroy (&self);
    } else {
        self->map = &self->unpacked.data.via.map;
        gf_error_t any;
        if ((s_check (root, S_PASS_ALL, NULL, max_bin, &any) &&
             (s_check (root, S_PASS_SHAPE, NULL, max_bin, err) ||
              s_check (root, S_PASS_LENGTH, NULL, max_bin, err) ||
              s_check (root, S_PASS_UTF8, NULL, max_bin, err) ||
              gf_error_set (err, any.code, "%s", any.message))) ||
            s_decode_head (self, err))
            gf_msg_destroy (&self);
    }
    return self;
}

void gf_msg_destroy (gf_msg_t **self_p)
{
    assert (self_p);
    gf_msg_t *self = *self_p;
    if (self) {
        msgpack_unpacked_destroy (&self->unpacked);
        free (self->type);
        free (self->id);
        free (self);
        *self_p = NULL;
    }
}

const char *gf_msg_type (gf_msg_t *self)
{
    assert (self);
    return self->type;
}

const char *gf_msg_id (gf_msg_t *self)
{
    assert (self);
    return self->id;
}

int64_t gf_msg_at (gf_msg_t *self)
{
    assert (self);
    return self->at;
}

int gf_msg_get_str (gf_msg_t *self, const char *key, bool required, size_t max_chars, char **out,
                    gf_error_t *err)
{
    assert (self && key && out);
    const msgpack_object *o = s_lookup (self, key);
    if (!o)
        return s_absent (key, required, err);
    if (o->type != MSGPACK_OBJECT_STR)
        return gf_error_set (err, GF_E_WRONG_TYPE, "field '%s' must be a string, got %s", key,
                             s_type_name (o->type));
    const char *s = s_str_ptr (o);
    size_t size = o->via.str.size;
    if (max_chars > 0) {
        ssize_t chars = gf_utf8_count (s, size); //  valid: checked at decode
        if (chars < 0 || (size_t)chars > max_chars)
            return gf_error_set (err, GF_E_TOO_LONG, "field '%s' is %zd characters, limit %zu", key,
                                 chars, max_chars);
    }
    if (memchr (s, 0, size))
        return gf_error_set (err, GF_E_BAD_VALUE, "field '%s' contains a NUL character", key);
    char *copy = (char *)malloc (size + 1);
    if (!copy)
        return gf_error_set (err, GF_E_INTERNAL, "out of memory");
    memcpy (copy, s, size);
    copy[size] = 0;
    *out = copy;
    return 0;
}

int gf_msg_get_bin (gf_msg_t *self, const char *key, bool required, const void **data, size_t *size,
                    gf_error_t *err)
{
    assert (self && key && data && size);
    const msgpack_object *o = s_lookup (self, key);
    if (!o)
        return s_absent (key, required, err);
    if (o->type != MSGPACK_OBJECT_BIN)
        return gf_error_set (err, GF_E_WRONG_TYPE, "field '%s' must be binary, got %s", key,
                             s_type_name (o->type));
    *data = o->via.bin.size ? o->via.bin.ptr : "";
    *size = o->via.bin.size;
    return 0;
}

int gf_msg_get_int (gf_msg_t *self, const char *key, bool required, int64_t *out, gf_error_t *err)
{
    assert (self && key && out);
    const msgpack_object *o = s_lookup (self, key);
    if (!o)
        return s_absent (key, required, err);
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *out = o->via.i64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (o->via.u64 > INT64_MAX)
            return gf_error_set (err, GF_E_BAD_VALUE, "field '%s' is out of range (%" PRIu64 ")",
                                 key, o->via.u64);
        *out = (int64_t)o->via.u64;
    } else
        return gf_error_set (err, GF_E_WRONG_TYPE, "field '%s' must be an integer, got %s", key,
                             s_type_name (o->type));
    return 0;
}

int gf_msg_get_uint (gf_msg_t *self, const char *key, bool required, uint64_t *out, gf_error_t *err)
{
    assert (self && key && out);
    const msgpack_object *o = s_lookup (self, key);
    if (!o)
        return s_absent (key, required, err);
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return gf_error_set (err, GF_E_BAD_VALUE, "field '%s' must not be negative (%" PRId64 ")",
                             key, o->via.i64);
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return gf_error_set (err, GF_E_WRONG_TYPE, "field '%s' must be an integer, got %s", key,
                             s_type_name (o->type));
    *out = o->via.u64;
    return 0;
}

int gf_msg_get_bool (gf_msg_t *self, const char *key, bool required, bool *out, gf_error_t *err)
{
    assert (self && key && out);
    const msgpack_object *o = s_lookup (self, key);
    if (!o)
        return s_absent (key, required, err);
    if (o->type != MSGPACK_OBJECT_BOOLEAN)
        return gf_error_set (err, GF_E_WRONG_TYPE, "field '%s' must be a boolean, got %s", key,
                             s_type_name (o->type));
    *out = o->via.boolean;
    return 0;
}

int gf_msg_get_strv (gf_msg_t *self, const char *key, bool required, size_t max_items,
                     size_t max_chars, char **out, gf_error_t *err)
{
    assert (self && key && out);
    const msgpack_object *o = s_lookup (self, key);
    if (!o)
        return s_absent (key, required, err);
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return gf_error_set (err, GF_E_WRONG_TYPE, "field '%s' must be an array, got %s", key,
                             s_type_name (o->type));
    if (o->via.array.size > max_items)
        return gf_error_set (err, GF_E_TOO_LONG, "field '%s' has %u items, limit %zu", key,
                             o->via.array.size, max_items);
    size_t total = 1;
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        const msgpack_object *item = &o->via.array.ptr[i];
        if (item->type != MSGPACK_OBJECT_STR)
            return gf_error_set (err, GF_E_WRONG_TYPE, "field '%s' must hold strings, got %s", key,
                                 s_type_name (item->type));
        ssize_t chars = gf_utf8_count (item->via.str.ptr, item->via.str.size);
        if (chars < 0 || (size_t)chars > max_chars)
            return gf_error_set (err, GF_E_TOO_LONG, "an item of '%s' is over %zu characters", key,
                                 max_chars);
        if (item->via.str.size == 0 || memchr (item->via.str.ptr, 0, item->via.str.size) ||
            memchr (item->via.str.ptr, ',', item->via.str.size))
            return gf_error_set (err, GF_E_BAD_VALUE,
                                 "an item of '%s' is empty or holds ',' or NUL", key);
        total += item->via.str.size + 1;
    }
    char *joined = (char *)malloc (total);
    if (!joined)
        return gf_error_set (err, GF_E_INTERNAL, "out of memory");
    size_t len = 0;
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        const msgpack_object *item = &o->via.array.ptr[i];
        if (i)
            joined[len++] = ',';
        memcpy (joined + len, item->via.str.ptr, item->via.str.size);
        len += item->via.str.size;
    }
    joined[len] = 0;
    *out = joined;
    return 0;
}

//  A top-level string of a body (key of key_len bytes), or NULL.
static char *s_peek_str (const void *data, size_t size, const char *key, size_t max);

char *gf_msg_peek_id (const void *data, size_t size)
{
    return s_peek_str (data, size, "id", GF_MAX_REF);
}

char *gf_msg_peek_type (const void *data, size_t size)
{
    return s_peek_str (data, size, "type", 64);
}

static char *s_peek_str (const void *data, size_t size, const char *key, size_t max)
{
    //  msgpack-c allocates a container's items as soon as it reads its
    //  header, so a 10-byte body claiming a map of 2^32 entries would ask
    //  for ~128 GB (found by tests/fuzz/fuzz_msg).  s_scan rejects counts
    //  beyond the bytes left; only a body that is too deep may go on
    //  (msgpack-c stops at its own depth limit).
    gf_error_t scan;
    if (!data ||
        (s_scan ((const unsigned char *)data, size, &scan) != 0 && scan.code != GF_E_TOO_DEEP))
        return NULL;
    msgpack_zone zone;
    msgpack_zone_init (&zone, 2048);
    msgpack_object top;
    size_t offset = 0;
    char *id = NULL;
    if (msgpack_unpack (data, size, &offset, &zone, &top) == MSGPACK_UNPACK_SUCCESS &&
        top.type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < top.via.map.size && !id; i++) {
            const msgpack_object *k = &top.via.map.ptr[i].key;
            const msgpack_object *v = &top.via.map.ptr[i].val;
            if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen (key) &&
                memcmp (k->via.str.ptr, key, strlen (key)) == 0 && v->type == MSGPACK_OBJECT_STR &&
                v->via.str.size <= max && !memchr (s_str_ptr (v), 0, v->via.str.size) &&
                gf_utf8_count (s_str_ptr (v), v->via.str.size) >= 0)
                id = strndup (s_str_ptr (v), v->via.str.size);
        }
    msgpack_zone_destroy (&zone);
    return id;
}

//  JSON rendering ---------------------------------------------------------

static json_t *s_base64 (const char *data, size_t size)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *)data;
    size_t out_size = 4 * ((size + 2) / 3);
    char *out = (char *)malloc (out_size + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < size; i += 3) {
        uint32_t n = (uint32_t)p[i] << 16;
        if (i + 1 < size)
            n |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < size)
            n |= p[i + 2];
        out[o++] = alphabet[(n >> 18) & 63];
        out[o++] = alphabet[(n >> 12) & 63];
        out[o++] = i + 1 < size ? alphabet[(n >> 6) & 63] : '=';
        out[o++] = i + 2 < size ? alphabet[n & 63] : '=';
    }
    out[o] = 0;
    json_t *string = json_stringn (out, o);
    free (out);
    return string;
}

static json_t *s_to_json (const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_BOOLEAN:
        return json_boolean (o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        //  JSON numbers past int64 lose precision in jansson: rare (seq).
        return o->via.u64 <= INT64_MAX ? json_integer ((json_int_t)o->via.u64)
                                       : json_real ((double)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return json_integer ((json_int_t)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return isfinite (o->via.f64) ? json_real (o->via.f64) : json_null ();
    case MSGPACK_OBJECT_STR:
        return json_stringn (s_str_ptr (o), o->via.str.size);
    case MSGPACK_OBJECT_BIN:
        return s_base64 (o->via.bin.ptr, o->via.bin.size);
    case MSGPACK_OBJECT_EXT:
        return s_base64 (o->via.ext.ptr, o->via.ext.size);
    case MSGPACK_OBJECT_ARRAY: {
        json_t *array = json_array ();
        for (uint32_t i = 0; array && i < o->via.array.size; i++)
            if (json_array_append_new (array, s_to_json (&o->via.array.ptr[i])))
                json_decref (array), array = NULL;
        return array;
    }
    case MSGPACK_OBJECT_MAP: {
        json_t *object = json_object ();
        for (uint32_t i = 0; object && i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            if (json_object_setn_new (object, s_str_ptr (&kv->key), kv->key.via.str.size,
                                      s_to_json (&kv->val)))
                json_decref (object), object = NULL;
        }
        return object;
    }
    case MSGPACK_OBJECT_NIL:
    default:
        return json_null ();
    }
}

char *gf_msg_to_json (gf_msg_t *self)
{
    assert (self);
    json_t *root = s_to_json (&self->unpacked.data);
    if (!root)
        return NULL;
    char *text = json_dumps (root, JSON_COMPACT);
    json_decref (root);
    return text;
}
