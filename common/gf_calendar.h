/*  gf_calendar — the China statutory working calendar.

    A day is a working day when the year's State Council notice says so:
    listed days off (isOffDay true) are off even on a weekday, listed
    make-up days (调休, isOffDay false) are worked even on a Saturday or
    Sunday, and every other day follows the weekday rule (Monday–Friday
    working, Saturday and Sunday not).  Data comes from holiday-cn JSON
    files (deploy/calendar/YEAR.json) or from the calendar_days and
    calendar_years tables that `gridctl calendar import` fills.

    A year with no notice loaded has not been announced yet: lookups in it
    fall back to the weekday rule, log one zsys_warning per year and
    calendar object, and count in gf_calendar_missing_lookups() so the gap
    shows up as a metric.  Nothing here crashes on missing data.

    Times are milliseconds since the epoch (UTC); days are local days in
    Asia/Shanghai (UTC+8, no DST), as in gf_clock.  Lookups are O(1):
    per-year bitmaps indexed by day of year.  Years outside 1900–2199 are
    treated as unannounced.  A calendar object is not thread-safe: each
    actor owns its own.

    The SQL functions gf_is_workday, gf_next_workday_at and
    gf_add_working_days (deploy/sql/003_calendar.sql) implement the same
    rules for queries; keep the two in step.
*/
#ifndef GF_CALENDAR_H_INCLUDED
#define GF_CALENDAR_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gf_db.h"

typedef struct _gf_calendar_t gf_calendar_t;

/*  An empty calendar: every year unannounced.  NULL only when out of
    memory. */
gf_calendar_t *gf_calendar_new (void);

/*  Destroys the calendar and NULLs *self_p; safe on NULL. */
void gf_calendar_destroy (gf_calendar_t **self_p);

/*  Loads one holiday-cn file ({"year": Y, "papers": [...], "days":
    [{"name", "date": "YYYY-MM-DD", "isOffDay": bool}, ...]}).  The whole
    file is checked first: "year" an integer in range, every date a real
    day of that year written YYYY-MM-DD, listed once, "isOffDay" a JSON
    boolean, "name" a string.  On success the year is marked announced and
    its exceptions replace whatever the calendar had for it; returns 0.
    On failure the calendar is unchanged, a one-line reason is written to
    errbuf (if not NULL) and -1 is returned. */
int gf_calendar_load_json (gf_calendar_t *self, const char *path, char *errbuf, size_t errlen);

/*  Records one exception day (workday true: make-up day, false: day off)
    and marks its year announced.  Returns 0, or -1 for a date that does
    not exist or a year out of range. */
int gf_calendar_set_day (gf_calendar_t *self, int y, int m, int d, bool workday);

/*  Marks a year announced even if no exception was recorded for it (a
    notice can leave whole months, or in principle a year, untouched).
    Years out of range are ignored. */
void gf_calendar_set_year_known (gf_calendar_t *self, int year);

/*  True if the year's notice has been loaded. */
bool gf_calendar_has_year (gf_calendar_t *self, int year);

/*  True if the local day y-m-d is a working day; false for a date that
    does not exist.  An unannounced year uses the weekday rule and counts
    as a missing lookup. */
bool gf_calendar_is_workday (gf_calendar_t *self, int y, int m, int d);

/*  How many day lookups fell back to the weekday rule because their year
    was unannounced (a metric: nonzero means a notice is missing). */
uint64_t gf_calendar_missing_lookups (gf_calendar_t *self);

/*  Loads every row of calendar_years and calendar_days: each listed year's
    exceptions are replaced by the database's.  Returns 0, or -1 if a query
    failed (the calendar is then unchanged). */
int gf_calendar_load_db (gf_calendar_t *self, gf_db_t *db);

#endif
