/*  gf_clock — the one clock every service reads.

    Production: the system clock.  The simulated clock for tests and demos
    (GF_CLOCK_OFFSET_MS, milliseconds added to the system clock) is the
    hook the escalation work builds on.
*/
#ifndef GF_CLOCK_H_INCLUDED
#define GF_CLOCK_H_INCLUDED

#include <stdint.h>

/*  Milliseconds since the Unix epoch, UTC. */
int64_t gf_clock_now_ms (void);

/*  Formats ms since epoch as ISO 8601 in Asia/Shanghai (+08:00) into buf. */
void gf_clock_format (int64_t ms, char *buf, size_t size);

/*  Days since 1970-01-01 of a civil (proleptic Gregorian) date. */
int64_t gf_clock_days_from_civil (int64_t y, int m, int d);

/*  Parses "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)" (a space may replace
    the T; no zone means +08:00, the service's local time).  Returns 0 and
    sets *ms, or -1. */
int gf_clock_parse (const char *text, int64_t *ms);

#endif
