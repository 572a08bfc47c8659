/*  gf_error.c — error codes, their stable names, and gf_error_set.

    The names are part of the wire contract (replies carry them in `code`);
    never rename one, only add.
*/
#include "gf_internal.h"
#include <stdarg.h>

static const char *s_names[GF_CODE_COUNT] = {
    [GF_OK] = "ok",
    [GF_E_MALFORMED] = "malformed",
    [GF_E_TOO_LARGE] = "too_large",
    [GF_E_TOO_DEEP] = "too_deep",
    [GF_E_NOT_MAP] = "not_a_map",
    [GF_E_MISSING_FIELD] = "missing_field",
    [GF_E_WRONG_TYPE] = "wrong_type",
    [GF_E_TOO_LONG] = "too_long",
    [GF_E_INVALID_UTF8] = "invalid_utf8",
    [GF_E_BAD_VALUE] = "bad_value",
    [GF_E_UNSUPPORTED_VERSION] = "unsupported_version",
    [GF_E_UNKNOWN_TYPE] = "unknown_type",
    [GF_E_UNKNOWN_GRID] = "unknown_grid",
    [GF_E_UNKNOWN_CATEGORY] = "unknown_category",
    [GF_E_UNAVAILABLE] = "unavailable",
    [GF_E_INTERNAL] = "internal",
    [GF_E_UNKNOWN_CASE] = "unknown_case",
    [GF_E_UNKNOWN_ACTOR] = "unknown_actor",
    [GF_E_FORBIDDEN] = "forbidden",
    [GF_E_ILLEGAL_TRANSITION] = "illegal_transition",
    [GF_E_CONFLICT] = "conflict",
    [GF_E_ARCHIVED] = "archived",
    [GF_E_UNKNOWN_HOUSEHOLD] = "unknown_household",
};

const char *gf_code_name (gf_code_t code)
{
    if ((int)code < 0 || code >= GF_CODE_COUNT)
        return "internal";
    return s_names[code];
}

gf_code_t gf_code_from_name (const char *name)
{
    if (name)
        for (int code = 0; code < GF_CODE_COUNT; code++)
            if (streq (name, s_names[code]))
                return (gf_code_t)code;
    return GF_E_INTERNAL;
}

gf_code_t gf_code_from_sqlstate (const char *sqlstate)
{
    if (!sqlstate || !*sqlstate)
        return GF_E_UNAVAILABLE;
    /* A class (2 characters) or a whole SQLSTATE (5); none is a prefix of
       another with a different answer. */
    static const struct {
        const char *prefix;
        gf_code_t code;
    } rules[] = {
        {"08", GF_E_UNAVAILABLE},    {"53", GF_E_UNAVAILABLE},    {"57", GF_E_UNAVAILABLE},
        {"58", GF_E_UNAVAILABLE},    {"25006", GF_E_UNAVAILABLE}, {"25P02", GF_E_UNAVAILABLE},
        {"25P03", GF_E_UNAVAILABLE}, {"40001", GF_E_UNAVAILABLE}, {"40P01", GF_E_UNAVAILABLE},
        {"40003", GF_E_UNAVAILABLE}, {"55P03", GF_E_UNAVAILABLE}, {"23505", GF_E_UNAVAILABLE},
        {"42501", GF_E_UNAVAILABLE}, {"22", GF_E_BAD_VALUE},      {"54", GF_E_BAD_VALUE},
        {"23502", GF_E_BAD_VALUE},   {"23514", GF_E_BAD_VALUE}};
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
        if (strncmp (sqlstate, rules[i].prefix, strlen (rules[i].prefix)) == 0)
            return rules[i].code;
    return GF_E_INTERNAL;
}

int gf_error_set (gf_error_t *err, gf_code_t code, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        va_list args;
        va_start (args, fmt);
        int len = vsnprintf (err->message, sizeof err->message, fmt, args);
        va_end (args);
        if (len < 0)
            err->message[0] = 0;
        else if ((size_t)len >= sizeof err->message) {
            //  Truncated: never leave half a UTF-8 sequence, since the
            //  message may travel in a reply.
            size_t keep = gf_utf8_trim (err->message, sizeof err->message - 1);
            err->message[keep] = 0;
        }
    }
    return -1;
}
