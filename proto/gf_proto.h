/*  gf_proto.h — gridflow wire format: error codes, limits, envelope, messages.

    Every body on the wire is one msgpack map with string keys (see
    proto/SPEC.md).  Decoding is strict: size, nesting, UTF-8 and field
    limits are checked before anything else looks at a message.  Unknown
    keys are ignored for forward compatibility.

    Ownership: functions returning `zframe_t *` or `char *` give the caller
    a new object to destroy / free.  Decoded structs own their strings;
    release them with the matching `_reset` function.
*/
#ifndef GF_PROTO_H_INCLUDED
#define GF_PROTO_H_INCLUDED

#include <czmq.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Schema version carried in key `v` of every body. */
#define GF_PROTO_VERSION 1

/* Limits (DESIGN.md, "Wire contract"). */
#define GF_MAX_BODY        (64 * 1024) /* bytes in one msgpack body      */
#define GF_MAX_DEPTH       8           /* nesting of maps/arrays         */
#define GF_MAX_STRING      (16 * 1024) /* bytes in any string            */
#define GF_MAX_DESCRIPTION 4000        /* characters (code points)       */
#define GF_MAX_SOURCE      32          /* characters                     */
#define GF_MAX_REF         128         /* characters: source_ref, ids    */
#define GF_MAX_CODE        64          /* characters: grid, category     */
#define GF_MAX_NAME        64          /* characters: complainant name   */
#define GF_MAX_PHONE       32          /* characters                     */
#define GF_MAX_ADDRESS     256         /* characters                     */
#define GF_MAX_MESSAGE     512         /* characters: reply message      */
/*  The latest time a message may carry (reported_at): 9999-12-31
    23:59:59.999 UTC in ms since the epoch.  Later values would pass the
    codec as integers and fail in the database (timestamp out of range). */
#define GF_MAX_TIME_MS INT64_C (253402300799999)

/* Error codes carried in replies as their string names. */
typedef enum {
    GF_OK = 0,
    GF_E_MALFORMED,           /* "malformed": not one complete msgpack value  */
    GF_E_TOO_LARGE,           /* "too_large": body over GF_MAX_BODY           */
    GF_E_TOO_DEEP,            /* "too_deep": nesting over GF_MAX_DEPTH        */
    GF_E_NOT_MAP,             /* "not_a_map": body is not a map / bad keys    */
    GF_E_MISSING_FIELD,       /* "missing_field": required key absent         */
    GF_E_WRONG_TYPE,          /* "wrong_type": key present with wrong type    */
    GF_E_TOO_LONG,            /* "too_long": string over its field's limit    */
    GF_E_INVALID_UTF8,        /* "invalid_utf8": a string is not UTF-8        */
    GF_E_BAD_VALUE,           /* "bad_value": well-typed but not acceptable   */
    GF_E_UNSUPPORTED_VERSION, /* "unsupported_version": `v` not understood    */
    GF_E_UNKNOWN_TYPE,        /* "unknown_type": `type` not served here       */
    GF_E_UNKNOWN_GRID,        /* "unknown_grid": grid code not in directory   */
    GF_E_UNKNOWN_CATEGORY,    /* "unknown_category"                           */
    GF_E_UNAVAILABLE,         /* "unavailable": storage down; safe to retry   */
    GF_E_INTERNAL,            /* "internal": a bug; logged with details       */
    GF_E_UNKNOWN_CASE,        /* "unknown_case": no case with that id         */
    GF_E_UNKNOWN_ACTOR,       /* "unknown_actor": actor not in the directory  */
    GF_E_FORBIDDEN,           /* "forbidden": outside the actor's grid subtree
                                 or above the actor's level                   */
    GF_E_ILLEGAL_TRANSITION,  /* "illegal_transition": not allowed from the
                                 case's current state                         */
    GF_E_CONFLICT,            /* "conflict": the case changed since `version`;
                                 the reply carries the current state/version  */
    GF_E_ARCHIVED,            /* "archived": the case is closed and archived  */
    GF_E_UNKNOWN_DEPARTMENT,  /* "unknown_department": refer names no department
                                 of the directory (usable from this L1 grid)  */
    GF_E_UNKNOWN_HOUSEHOLD,   /* "unknown_household": not in the register     */
    GF_CODE_COUNT
} gf_code_t;

/*  Returns the stable string name of a code ("too_long"), never NULL. */
const char *gf_code_name (gf_code_t code);

/*  Returns the code for a name, or GF_E_INTERNAL if the name is unknown. */
gf_code_t gf_code_from_name (const char *name);

/*  The reply code for a database statement that failed with `sqlstate`
    (PostgreSQL's five-character SQLSTATE; NULL or "" when the server gave
    none, i.e. the connection failed).  One rule for every service:
    - GF_E_UNAVAILABLE, the server or its connection, not the request:
      NULL/"", classes 08 (connection), 53 (insufficient resources: disk
      full, out of memory, too many connections), 57 (operator
      intervention, 57014 statement_timeout or a cancel included), 58
      (system I/O error); 25006 read-only transaction, 25P02 (a cancel that
      hit a later statement), 25P03 idle-in-transaction timeout; 40001
      serialization failure, 40P01 deadlock, 40003 completion unknown;
      55P03 lock_not_available (lock_timeout); 23505 unique violation (a
      concurrent insert of the same key: a resend finds it); 42501
      insufficient privilege (a deployment fault the operator fixes).
      Nothing was stored; the sender resends the same request.
    - GF_E_BAD_VALUE, a value the database refuses: class 22 (data
      exception: out-of-range date, numeric overflow, bad encoding ...),
      23502 not-null and 23514 check violations, class 54 (a value over a
      program limit).
    - GF_E_INTERNAL, anything else: a bug (logged with its SQLSTATE). */
gf_code_t gf_code_from_sqlstate (const char *sqlstate);

typedef struct {
    gf_code_t code;    /* GF_OK when no error                              */
    char message[256]; /* English, for operators: names the offending key */
} gf_error_t;

/*  Sets err (if not NULL) and returns -1, for `return gf_error_set (...)`. */
int gf_error_set (gf_error_t *err, gf_code_t code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/*  Validates UTF-8 (no overlongs, no surrogates, <= U+10FFFF).  Returns
    the number of code points, or -1 if invalid. */
ssize_t gf_utf8_count (const char *data, size_t size);

/*  ---------------------------------------------------------------------
    gf_msg — a decoded, validated body (the envelope).

    gf_msg_decode checks, in this order: size (too_large), one complete
    msgpack value with no trailing bytes (malformed), nesting (too_deep),
    map with string keys (not_a_map), every string <= GF_MAX_STRING
    (too_long) and valid UTF-8 (invalid_utf8), then the common keys:
    `v` positive int equal to GF_PROTO_VERSION (missing_field / wrong_type /
    unsupported_version), `type` non-empty string <= 64 chars, `id`
    string <= GF_MAX_REF chars (optional for events; required for
    requests: checked by the message decoders), `at` int (optional, 0).
    Returns NULL and fills err on failure.
*/
typedef struct _gf_msg_t gf_msg_t;

gf_msg_t *gf_msg_decode (const void *data, size_t size, gf_error_t *err);
/*  The same with other limits: the body's bytes (too_large) and each
    binary value's (too_long); gf_msg_decode is (GF_MAX_BODY, GF_MAX_STRING).
    For attachment.add only (the intake's intake/max_attachment). */
gf_msg_t *gf_msg_decode_limits (const void *data, size_t size, size_t max_body, size_t max_bin,
                                gf_error_t *err);
void gf_msg_destroy (gf_msg_t **self_p);

/*  Best effort for a body that failed gf_msg_decode: if it is still one
    msgpack map with a top-level `id` string (valid UTF-8, <= GF_MAX_REF
    bytes), returns a copy (caller frees) so the error reply can name the
    request; else NULL. */
char *gf_msg_peek_id (const void *data, size_t size);
/*  The same for the top-level `type` string (<= 64 bytes). */
char *gf_msg_peek_type (const void *data, size_t size);

/*  Borrowed strings, valid while the message lives.  NULL if absent. */
const char *gf_msg_type (gf_msg_t *self);
const char *gf_msg_id (gf_msg_t *self);
int64_t gf_msg_at (gf_msg_t *self);

/*  Typed field access.  Each returns 0 on success, 1 if the key is
    absent and `required` is false (out untouched), -1 with err set
    (missing_field, wrong_type, too_long with max_chars > 0 counting
    code points, bad_value for a negative uint). */
int gf_msg_get_str (gf_msg_t *self, const char *key, bool required, size_t max_chars, char **out,
                    gf_error_t *err);
int gf_msg_get_int (gf_msg_t *self, const char *key, bool required, int64_t *out, gf_error_t *err);
/*  A binary value, borrowed (valid while the message lives). */
int gf_msg_get_bin (gf_msg_t *self, const char *key, bool required, const void **data, size_t *size,
                    gf_error_t *err);
int gf_msg_get_uint (gf_msg_t *self, const char *key, bool required, uint64_t *out,
                     gf_error_t *err);
int gf_msg_get_bool (gf_msg_t *self, const char *key, bool required, bool *out, gf_error_t *err);
/*  An array of strings (at most max_items, each 1..max_chars characters and
    free of commas), returned joined with commas as one new string ("" for
    an empty array). */
int gf_msg_get_strv (gf_msg_t *self, const char *key, bool required, size_t max_items,
                     size_t max_chars, char **out, gf_error_t *err);

/*  The body as a JSON object text (caller frees); binary values become
    base64 strings.  For `gridctl watch --json` and logs. */
char *gf_msg_to_json (gf_msg_t *self);

/*  ---------------------------------------------------------------------
    complaint.submit — request from an adapter to the intake. */
typedef struct {
    char *id;            /* request id, required, echoed in the reply        */
    int64_t at;          /* when the adapter sent it (ms since epoch, UTC)   */
    char *source;        /* required: hotline|suggestbox|patrol|visit|web|app|open311 */
    char *source_ref;    /* required: the source's own id (call id, ...)     */
    char *description;   /* required, 1..GF_MAX_DESCRIPTION chars            */
    char *category;      /* optional category code                           */
    char *grid;          /* optional explicit grid code                      */
    char *address;       /* optional address text                            */
    char *name;          /* optional complainant name (personal data)        */
    char *phone;         /* optional complainant phone (personal data)       */
    bool urgent;         /* optional, default false                          */
    int64_t reported_at; /* optional: when the resident reported (ms); 0 = unknown */
    char *reporter;      /* optional person id of the staff member who recorded
                            it; required for sources patrol and visit         */
    char *household;     /* optional household reference (visit, patrol)     */
    char *groups;        /* optional special groups: comma-separated codes from
                            GF_GROUPS (on the wire: an array of strings)     */
} gf_complaint_t;

/*  Special-group codes (困难户, 上访户, 失独家庭, 留守儿童家庭, 低保, 重残). */
#define GF_GROUPS "hardship,petitioner,bereaved,left_behind,dibao,disabled"

/*  Checks a comma-separated list of group codes against GF_GROUPS (empty is
    fine).  Returns 0, or -1 with bad_value naming the unknown code. */
int gf_groups_check (const char *groups, gf_error_t *err);

#define GF_TYPE_COMPLAINT_SUBMIT "complaint.submit"

/*  Fills c from a decoded message of type complaint.submit.  Returns 0,
    or -1 with err set; on failure c holds nothing to free. */
int gf_complaint_from_msg (gf_msg_t *msg, gf_complaint_t *c, gf_error_t *err);
/*  Encodes c (v and type are added).  NULL fields are omitted. */
zframe_t *gf_complaint_encode (const gf_complaint_t *c);
/*  Frees the strings of c and zeroes it. */
void gf_complaint_reset (gf_complaint_t *c);

/*  ---------------------------------------------------------------------
    reply — intake's answer to any request. */
typedef struct {
    char *id; /* the request id (may be NULL if it was unreadable) */
    int64_t at;
    bool ok;
    int64_t case_id; /* when ok                                           */
    bool duplicate;  /* when ok: the request had already been stored      */
    gf_code_t code;  /* when !ok                                          */
    char *message;   /* when !ok: English detail                          */
    char *state;     /* optional: the case's state after the request (ok),
                        or as it is now when a request on it was refused   */
    int64_t version; /* with state: the case's version                     */
} gf_reply_t;

#define GF_TYPE_REPLY "reply"

zframe_t *gf_reply_encode (const gf_reply_t *r);
int gf_reply_decode (const void *data, size_t size, gf_reply_t *r, gf_error_t *err);
void gf_reply_reset (gf_reply_t *r);

/*  ---------------------------------------------------------------------
    case.action — a staff member acts on a case (sign, resolve, ...).
    Which keys an action needs is the lifecycle's business (common/gf_case),
    not the codec's: the codec checks types and limits only. */
typedef struct {
    char *id; /* request id, required; with actor it makes the
                 action idempotent                                */
    int64_t at;
    int64_t case_id;     /* required: wire key `case`                        */
    char *action;        /* required: sign|progress|refer|reply|resolve|callback|
                            close|reopen|return|assign|merge|supervise|classify|
                            receipt|reject|unreject */
    char *actor;         /* required: person id of who acts                  */
    int64_t version;     /* required: the case version the actor saw         */
    char *note;          /* optional: why / what (<= 4000 chars)             */
    char *department;    /* refer: the department                            */
    char *grid;          /* assign: the new L3 grid                          */
    int64_t into;        /* merge: the case this one merges into (0 = none)  */
    int satisfied;       /* callback: 1 / 0, -1 when absent                  */
    char *tier;          /* classify: pending|hard                           */
    int urgent;          /* classify: 1 / 0, -1 when absent                  */
    char *groups;        /* classify: comma-separated GF_GROUPS codes, or NULL */
    char *contact;       /* receipt: the department contact who signed       */
    int64_t received_at; /* receipt: when it was signed (ms; 0 = now)     */
    int64_t deadline;    /* refer: an explicit reply deadline (ms; 0 = the
                            department's rule)                               */
    char *category;      /* classify: a category code (categories)            */
    char *reason;        /* reject: invalid|duplicate|out_of_jurisdiction
                            (reject_reasons)                                  */
} gf_action_t;

#define GF_TYPE_CASE_ACTION "case.action"

int gf_action_from_msg (gf_msg_t *msg, gf_action_t *a, gf_error_t *err);
zframe_t *gf_action_encode (const gf_action_t *a);
void gf_action_reset (gf_action_t *a);

/*  ---------------------------------------------------------------------
    meeting.action — staff record a meeting (issue 14): who attended, a
    decision per agenda case, minutes, closing, opinions at a consultation
    meeting.  Which keys an action and a decision kind need is the
    database's business (deploy/sql/repeatable/meeting_records.sql); the
    codec checks types and limits only. */
typedef struct {
    char *id; /* request id, required; with actor it makes the
                 action idempotent                                */
    int64_t at;
    int64_t meeting;      /* required: the meeting's id                    */
    char *action;         /* required: attend|decide|minutes|close|opinion */
    char *actor;          /* required: person id of who records it         */
    char *person;         /* attend: a person of the directory             */
    char *name;           /* attend: an outside attendee's name            */
    char *role;           /* attend: cadre|three_heads|household_rep|...   */
    int64_t case_id;      /* decide: wire key `case` (0 = absent)          */
    char *decision;       /* decide: the decision's kind                   */
    int64_t deadline;     /* decide: ms since the epoch (0 = absent)       */
    char *department;     /* decide refer: the department                  */
    char *owner;          /* decide rectify: the person who owns the task  */
    char *note;           /* decide: instructions, why (<= 4000 chars)     */
    int64_t consultation; /* decide consult: the consultation meeting      */
    char *text;           /* minutes: the text (<= 4000 chars)             */
    char *speaker;        /* opinion: who spoke                            */
    char *opinion;        /* opinion: what was said                        */
    char *response;       /* opinion: the answer given                     */
} gf_meeting_action_t;

#define GF_TYPE_MEETING_ACTION "meeting.action"

int gf_meeting_action_from_msg (gf_msg_t *msg, gf_meeting_action_t *a, gf_error_t *err);
zframe_t *gf_meeting_action_encode (const gf_meeting_action_t *a);
void gf_meeting_action_reset (gf_meeting_action_t *a);

/*  ---------------------------------------------------------------------
    patrol.logged, visit.logged, selfcheck.logged — field work as logs
    (issue 15, docs/patrols.md): a daily patrol (日巡查; no findings is
    "nothing found"), a household visit (走访) with an optional follow-up
    complaint opened in the same transaction, a weekly self-check (周自查)
    of an L3 grid.  The id is the log's own (a resend is a duplicate, the
    same id with other keys a conflict).  Lists are arrays of strings on
    the wire (no item may hold an ASCII comma); the codec checks types,
    limits and the keys each type needs, the database the rest
    (deploy/sql/repeatable/patrols.sql). */
typedef struct {
    char *type;               /* one of the three GF_TYPE_*_LOGGED            */
    char *id;                 /* required: the log's id                        */
    int64_t at;               /* when it was sent (ms)                         */
    char *actor;              /* required: person id of who did it             */
    int64_t done_at;          /* required: when it was done (ms)               */
    char *grid;               /* patrol, self-check: required                  */
    char *household;          /* visit: required, the register's opaque id     */
    char *members;            /* patrol: who went along (people ids, csv)      */
    char *places;             /* patrol: route or places (csv)                 */
    char *findings;           /* patrol: what was found (csv; "" nothing)      */
    char *learned;            /* visit: what was learned                       */
    char *things_done;        /* visit: things done (办实事), free lines (csv)  */
    char *follow_up;          /* visit: a follow-up complaint's description    */
    char *follow_up_category; /* visit: its category                           */
    int follow_up_urgent;     /* visit: 1 urgent, 0 not, -1 absent             */
    char *items;              /* self-check: code=ok|issue per item (csv)      */
    char *note;               /* any: a note                                   */
} gf_fieldlog_t;

#define GF_TYPE_PATROL_LOGGED    "patrol.logged"
#define GF_TYPE_VISIT_LOGGED     "visit.logged"
#define GF_TYPE_SELFCHECK_LOGGED "selfcheck.logged"

/*  True if type is one of the three field logs. */
bool gf_fieldlog_is_type (const char *type);
int gf_fieldlog_from_msg (gf_msg_t *msg, gf_fieldlog_t *f, gf_error_t *err);
zframe_t *gf_fieldlog_encode (const gf_fieldlog_t *f);
void gf_fieldlog_reset (gf_fieldlog_t *f);

/*  ---------------------------------------------------------------------
    household.register, household.group — staff change the household
    register (issue 15; docs/households.md).  register creates a household
    (version absent or 0: grid, address, head_name required) or updates
    one (version: the version it saw); group adds (op "add", from) or ends
    (op "end", to) a special-group membership.  What each needs and the
    subtree rules are the database's (deploy/sql/repeatable/households.sql);
    the codec checks types and limits. */
typedef struct {
    char *type; /* GF_TYPE_HOUSEHOLD_REGISTER or _GROUP                */
    char *id;   /* request id, required; with actor: idempotent        */
    int64_t at;
    char *actor;     /* required: person id of who changes it               */
    char *household; /* required: the household's opaque id                 */
    char *grid;      /* register: its L3 grid                               */
    char *address;   /* register                                            */
    char *head_name; /* register: the head of the household                 */
    char *phone;     /* register                                            */
    char *members;   /* register: JSON array [{name, relation, phone, note}] */
    int64_t version; /* register update: the version seen (0 = create)      */
    char *group;     /* group: special_groups code                          */
    char *op;        /* group: add|end                                      */
    char *from;      /* group add: YYYY-MM-DD (default today)               */
    char *to;        /* group end: YYYY-MM-DD (default today)               */
    char *source;    /* group add: who or what says so (民政名单, a visit)   */
} gf_household_msg_t;

#define GF_TYPE_HOUSEHOLD_REGISTER "household.register"
#define GF_TYPE_HOUSEHOLD_GROUP    "household.group"

int gf_household_msg_from_msg (gf_msg_t *msg, gf_household_msg_t *h, gf_error_t *err);
zframe_t *gf_household_msg_encode (const gf_household_msg_t *h);
void gf_household_msg_reset (gf_household_msg_t *h);

/*  ---------------------------------------------------------------------
    programme.action — staff record the programmes of grid work (issue 15):
    1+10+N links, things done (办实事), help pairs (结对帮扶), relief cases
    (救助), star-rating rounds (星级评定), campaigns (专项行动), a team
    member helping on a case.  action: link.open|link.close|thing.done|
    pair.open|pair.review|pair.close|relief.record|rating.open|
    rating.score|rating.publish|campaign.open|campaign.target|
    campaign.item|case.helper.  Which keys an action needs is the
    database's business (deploy/sql/repeatable/programmes.sql); the codec
    checks types and limits only. */
typedef struct {
    char *id; /* request id, required; with actor it makes the
                 action idempotent                                */
    int64_t at;
    char *action;    /* required: one of the actions above            */
    char *actor;     /* required: person id of who records it         */
    char *household; /* a household's opaque id                       */
    char *person;    /* a cadre, helper or team member                */
    char *grid;      /* a grid code                                   */
    char *kind;      /* a thing's / relief's kind, a round's subjects */
    char *note;      /* free text (<= 4000 chars)                     */
    char *goal;      /* pair.open: the goal (<= 4000 chars)           */
    char *outcome;   /* pair.close: achieved|partly|not_achieved|...  */
    char *criterion; /* rating.score: a rating criterion              */
    char *campaign;  /* a campaign's code                             */
    char *team;      /* case.helper: the team                         */
    char *subject;   /* rating.score: an L3 grid or a household       */
    char *name;      /* a round's period, a campaign's name           */
    char *date;      /* the day it happened, YYYY-MM-DD (local)       */
    int64_t link;    /* 0 = absent                                    */
    int64_t pair;    /* 0 = absent                                    */
    int64_t case_id; /* wire key `case`, 0 = absent                   */
    int64_t visit;   /* a visit.logged record, 0 = absent             */
    int64_t round;   /* 0 = absent                                    */
    int64_t score;   /* -1 = absent                                   */
    int64_t qty;     /* 0 = absent                                    */
    int64_t target;  /* 0 = absent                                    */
} gf_programme_action_t;

#define GF_TYPE_PROGRAMME_ACTION "programme.action"

int gf_programme_action_from_msg (gf_msg_t *msg, gf_programme_action_t *a, gf_error_t *err);
zframe_t *gf_programme_action_encode (const gf_programme_action_t *a);
void gf_programme_action_reset (gf_programme_action_t *a);
/*  The optional keys as (wire key, value) pairs, in wire order: strings
    first, then integers (present ones only when a != NULL is encoded).
    For the intake's JSON of the request and gridctl's options. */
#define GF_PROGRAMME_STR_KEYS 13
#define GF_PROGRAMME_INT_KEYS 8
extern const char *const gf_programme_str_keys[GF_PROGRAMME_STR_KEYS];
extern const char *const gf_programme_int_keys[GF_PROGRAMME_INT_KEYS];
void gf_programme_action_fields (gf_programme_action_t *a, char ***strs, int64_t **ints);
/*  True when integer i (index in gf_programme_int_keys) is present. */
bool gf_programme_int_present (const gf_programme_action_t *a, size_t i);

/*  ---------------------------------------------------------------------
    Events.  Stored in PostgreSQL as a JSON object (payload); the relay
    encodes them for the wire with the common keys first:
    {v, type, id, at, seq, case, grid, ...payload keys}.
    Payload keys that clash with common keys are dropped.  `id` goes on
    the wire as the decimal string of event_id; grid NULL encodes nil.
    Returns NULL if payload_json (NULL or "" for none) is not a JSON
    object, or if the result would break a wire limit (depth, string
    size, body size), so the relay never publishes an undecodable body. */
zframe_t *gf_event_encode (uint64_t seq, const char *type, int64_t event_id, int64_t at,
                           int64_t case_id, const char *grid, const char *payload_json);

/*  The same body packed into sbuf, which is cleared first (the relay
    keeps one buffer for a whole page: no allocation per event).  Returns
    0, or -1 where gf_event_encode returns NULL (sbuf's content is then
    undefined). */
int gf_event_pack (msgpack_sbuffer *sbuf, uint64_t seq, const char *type, int64_t event_id,
                   int64_t at, int64_t case_id, const char *grid, const char *payload_json);

/*  Encodes a JSON object text as a msgpack map, keys in text order,
    nothing added or checked (for tools and tests: gridctl submit, test
    bodies).  Returns NULL if the text is not a JSON object. */
zframe_t *gf_json_encode (const char *json_object);

/*  ---------------------------------------------------------------------
    Relay control messages. */
#define GF_TYPE_REPLAY_REQUEST "replay.request"
#define GF_TYPE_REPLAY_END     "replay.end"
#define GF_TYPE_REPLAY_BATCH   "replay.batch"
#define GF_TYPE_RELAY_HB       "relay.hb"
#define GF_TOPIC_RELAY_HB      "relay.hb"

typedef struct {
    char *id;       /* request id, echoed in replay.end                  */
    uint64_t from;  /* deliver events with seq > from                   */
    char *prefix;   /* topic prefix, "" for all                          */
    uint64_t limit; /* max events in this page (1..10000)                */
    uint64_t to;    /* optional upper bound: seq <= to (0 = none)         */
    bool probe;     /* count only: no events, replay.end carries `count`  */
    bool batch;     /* the client reads replay.batch: several events in a */
                    /* message (SPEC.md 6.5)                              */
} gf_replay_req_t;

zframe_t *gf_replay_req_encode (const gf_replay_req_t *r);
int gf_replay_req_from_msg (gf_msg_t *msg, gf_replay_req_t *r, gf_error_t *err);
void gf_replay_req_reset (gf_replay_req_t *r);

/*  replay.batch (SPEC.md 6.5, Batched pages): one frame holding events of a page, each a
    msgpack str (its topic) followed by a msgpack bin (its event body).
    gf_replay_batch_add appends one; gf_replay_batch_next reads the one at
    *pos and moves *pos past it: 1, or 0 at the end, or -1 when the frame
    is malformed there (truncated, or not a str then a bin).  topic and
    body point into data. */
void gf_replay_batch_add (msgpack_sbuffer *batch, const char *topic, const void *body, size_t size);
int gf_replay_batch_next (const void *data, size_t size, size_t *pos, const char **topic,
                          size_t *topic_size, const void **body, size_t *body_size);

/*  replay.end: `last` = seq of the last event scanned in this page (the
    next request's `from`), `more` = whether events remain past it,
    `head` = the relay's current head.  On error: ok=false with code. */
zframe_t *gf_replay_end_encode (const char *id, uint64_t last, bool more, uint64_t head,
                                gf_code_t code, const char *message);
/*  replay.end for a successful page or probe, with `count` = the events
    sent in the page (or, for a probe, matching the request's range). */
zframe_t *gf_replay_end_encode_count (const char *id, uint64_t last, bool more, uint64_t count,
                                      uint64_t head);
/*  relay.hb: {v, type, at, seq = head}. */
zframe_t *gf_relay_hb_encode (int64_t at, uint64_t head);

/*  ---------------------------------------------------------------------
    attachment.add — evidence (a photo, a scan, a document) on a case, from
    a staff member, through the intake (issue 14, 代访; docs/referrals.md).
    {v, type, id, at, case, actor, filename, data (msgpack bin), public?,
     action?, note?}.  Its own size limit (the intake's intake/max_attachment,
    default 8 MiB), not GF_MAX_BODY; the type is read from the bytes
    (JPEG, PNG, WebP, PDF), never from the sender. */
typedef struct {
    char *id; /* request id, required; with actor it makes the upload idempotent */
    int64_t at;
    int64_t case_id; /* required: wire key `case`                             */
    char *actor;     /* required: person id of who uploads                    */
    char *filename;  /* required: 1..255 characters, no '/' or '\\'            */
    bool public;     /* optional: may be served by the gateway (Open311)      */
    char *action;    /* optional: the request id of the actor's case action it
                        is evidence for                                       */
    char *note;      /* optional: what it shows                               */
    void *data;      /* required: the bytes (wire key `data`, binary)         */
    size_t size;
} gf_attachment_t;

#define GF_TYPE_ATTACHMENT_ADD "attachment.add"

int gf_attachment_from_msg (gf_msg_t *msg, gf_attachment_t *a, gf_error_t *err);
zframe_t *gf_attachment_encode (const gf_attachment_t *a);
void gf_attachment_reset (gf_attachment_t *a);
/*  The content type the bytes are (image/jpeg, image/png, image/webp,
    application/pdf), or NULL for anything else. */
const char *gf_attachment_sniff (const void *data, size_t size);

#ifdef __cplusplus
}
#endif
#endif
