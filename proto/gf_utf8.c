/*  gf_utf8.c — strict UTF-8: validation, counting, white space.

    Strict means RFC 3629: no overlong forms, no surrogates (U+D800..DFFF),
    nothing above U+10FFFF.  Characters in limits are code points.
*/
#include "gf_internal.h"

int32_t gf_utf8_next (const char *data, size_t size, size_t *pos)
{
    assert (data && pos && *pos < size);
    const unsigned char *p = (const unsigned char *)data + *pos;
    size_t left = size - *pos;
    unsigned char c = p[0];
    if (c < 0x80) {
        *pos += 1;
        return c;
    }
    int extra;
    int32_t cp;
    unsigned char lo = 0x80, hi = 0xBF; //  allowed range of the 2nd byte
    if (c >= 0xC2 && c <= 0xDF) {
        extra = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        extra = 2;
        cp = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0; //  overlong below U+0800
        else if (c == 0xED)
            hi = 0x9F; //  surrogates U+D800..DFFF
    } else if (c >= 0xF0 && c <= 0xF4) {
        extra = 3;
        cp = c & 0x07;
        if (c == 0xF0)
            lo = 0x90; //  overlong below U+10000
        else if (c == 0xF4)
            hi = 0x8F; //  above U+10FFFF
    } else
        return -1; //  continuation byte, C0/C1 overlong lead, or F5..FF
    if (left < (size_t)extra + 1)
        return -1;
    if (p[1] < lo || p[1] > hi)
        return -1;
    for (int i = 1; i <= extra; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    *pos += (size_t)extra + 1;
    return cp;
}

ssize_t gf_utf8_count (const char *data, size_t size)
{
    assert (data || size == 0);
    ssize_t count = 0;
    size_t pos = 0;
    while (pos < size) {
        //  ASCII fast path: most text we carry is ASCII or 3-byte CJK.
        if ((unsigned char)data[pos] < 0x80)
            pos++;
        else if (gf_utf8_next (data, size, &pos) < 0)
            return -1;
        count++;
    }
    return count;
}

static bool s_is_space (int32_t cp)
{
    switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000: //  ideographic space, common in Chinese input
    case 0x200B:
    case 0xFEFF: //  zero-width space, BOM: invisible
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

bool gf_utf8_is_blank (const char *data, size_t size)
{
    size_t pos = 0;
    while (pos < size) {
        int32_t cp = gf_utf8_next (data, size, &pos);
        if (cp < 0 || !s_is_space (cp))
            return false;
    }
    return true;
}

size_t gf_utf8_prefix (const char *data, size_t size, size_t max_chars)
{
    size_t pos = 0;
    for (size_t chars = 0; chars < max_chars && pos < size; chars++)
        if (gf_utf8_next (data, size, &pos) < 0)
            break;
    return pos;
}

size_t gf_utf8_trim (const char *data, size_t size)
{
    //  Step back over at most three continuation bytes to the last lead
    //  byte; keep its sequence only if it is complete.
    size_t lead = size;
    for (int i = 0; i < 4 && lead > 0; i++) {
        unsigned char c = (unsigned char)data[--lead];
        if ((c & 0xC0) != 0x80) {
            size_t need = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            return size - lead >= need ? size : lead;
        }
    }
    return size;
}
