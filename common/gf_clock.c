/*  gf_clock — the one clock every service reads. */
#include <stddef.h>
#include "gf_clock.h"

#include <ctype.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOCAL_OFFSET_S (8 * 3600) /* Asia/Shanghai has no DST */

int64_t gf_clock_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    const char *offset = getenv ("GF_CLOCK_OFFSET_MS");
    if (offset)
        now += strtoll (offset, NULL, 10);
    return now;
}

void gf_clock_format (int64_t ms, char *buf, size_t size)
{
    time_t secs = (time_t)(ms / 1000) + LOCAL_OFFSET_S;
    struct tm tm;
    gmtime_r (&secs, &tm);
    snprintf (buf, size, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", tm.tm_year + 1900, tm.tm_mon + 1,
              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int64_t gf_clock_days_from_civil (int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int gf_clock_parse (const char *text, int64_t *ms)
{
    int y, mo, d, h, mi, s, n = 0;
    if (!text ||
        sscanf (text, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6)
        return -1;
    /* A real calendar day only: "2026-11-31" must not roll over to December. */
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > days[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 ||
        s > 59)
        return -1;
    const char *p = text + n;
    int frac = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3)
                frac = frac * 10 + (*p - '0');
        if (digits == 0)
            return -1;
        for (; digits < 3; digits++)
            frac *= 10;
    }
    int offset = LOCAL_OFFSET_S;
    if (*p == 'Z') {
        offset = 0;
        p++;
    } else if (*p == '+' || *p == '-') {
        //  Exactly "±hh:mm": sscanf's %2d would also take "+8:00" or
        //  "+ 8:0", and p += 6 then ran past the end of the text (found by
        //  tests/fuzz/fuzz_hotline).
        const char *o = p + 1;
        if (!isdigit ((unsigned char)o[0]) || !isdigit ((unsigned char)o[1]) || o[2] != ':' ||
            !isdigit ((unsigned char)o[3]) || !isdigit ((unsigned char)o[4]))
            return -1;
        int oh = (o[0] - '0') * 10 + (o[1] - '0'), om = (o[3] - '0') * 10 + (o[4] - '0');
        if (oh > 14 || om > 59)
            return -1;
        offset = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    }
    if (*p)
        return -1;
    int64_t secs = gf_clock_days_from_civil (y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset;
    *ms = secs * 1000 + frac;
    return 0;
}
