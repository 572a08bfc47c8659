/*  gf_calendar — the China statutory working calendar.  See gf_calendar.h.

    Each year is two bitmaps indexed by day of year: `listed` says the
    notice names the day, `workday` says how.  A lookup is a division and
    two bit tests, so the escalator can ask about every case on every tick.
*/
#include "gf_calendar.h"
#include "gf_clock.h"

#include <czmq.h>
#include <jansson.h>
#include <stdarg.h>

#define FIRST_YEAR      1900
#define YEAR_COUNT      300 /* 1900–2199: far wider than any notice we will see */
#define MS_PER_DAY      INT64_C (86400000)
#define MS_PER_HOUR     INT64_C (3600000)
#define LOCAL_OFFSET_MS (8 * MS_PER_HOUR) /* Asia/Shanghai has no DST */
#define WORDS           6                 /* 6 × 64 bits ≥ 366 days */

/*  Office hours on a working day, as ms since local midnight. */
#define OPEN_AM  (9 * MS_PER_HOUR)
#define CLOSE_AM (12 * MS_PER_HOUR)
#define OPEN_PM  (13 * MS_PER_HOUR)
#define CLOSE_PM (18 * MS_PER_HOUR)

typedef struct {
    bool known;              /* the year's notice is loaded                  */
    bool warned;             /* "not announced" already logged for this year */
    uint64_t listed[WORDS];  /* bit per day of year: the notice names it     */
    uint64_t workday[WORDS]; /* for listed days: make-up day (1) or off (0)  */
} s_year_t;

struct _gf_calendar_t {
    s_year_t years[YEAR_COUNT]; /* indexed by year - FIRST_YEAR                 */
    bool warned_out_of_range;   /* a year outside 1900–2199 was already logged  */
    uint64_t missing;           /* lookups that fell back to the weekday rule   */
};

/*  The civil year of a day number (the inverse of the above, year only). */
static int s_year_of_day (int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    /* March-based years: January and February belong to the next one. */
    return (int)(yoe + era * 400 + (mp >= 10));
}

static bool s_valid_date (int y, int m, int d)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m >= 1 && m <= 12 && d >= 1 && d <= days[m - 1] + (m == 2 && leap);
}

static int64_t s_floor_div (int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/*  The year slot, or NULL for a year we do not keep. */
static s_year_t *s_slot (gf_calendar_t *self, int year)
{
    if (year < FIRST_YEAR || year >= FIRST_YEAR + YEAR_COUNT)
        return NULL;
    return &self->years[year - FIRST_YEAR];
}

static void s_put (s_year_t *slot, int64_t yday, bool workday)
{
    uint64_t bit = UINT64_C (1) << (yday % 64);
    slot->listed[yday / 64] |= bit;
    if (workday)
        slot->workday[yday / 64] |= bit;
    else
        slot->workday[yday / 64] &= ~bit;
}

/*  The one rule, on a local day number. */
static bool s_workday (gf_calendar_t *self, int64_t day)
{
    int year = s_year_of_day (day);
    s_year_t *slot = s_slot (self, year);
    if (slot && slot->known) {
        int64_t yday = day - gf_clock_days_from_civil (year, 1, 1);
        uint64_t bit = UINT64_C (1) << (yday % 64);
        if (slot->listed[yday / 64] & bit)
            return (slot->workday[yday / 64] & bit) != 0;
    } else {
        self->missing++;
        /* Loud but not flooding: a missing notice affects every lookup. */
        bool *warned = slot ? &slot->warned : &self->warned_out_of_range;
        if (!*warned) {
            zsys_warning ("calendar: no holiday notice loaded for %d: using Monday-Friday as "
                          "working days (import deploy/calendar/%d.json when it is published)",
                          year, year);
            *warned = true;
        }
    }
    /* 1970-01-01 was a Thursday: weekday 0 = Monday ... 6 = Sunday. */
    int64_t weekday = day + 3 - s_floor_div (day + 3, 7) * 7;
    return weekday < 5;
}

gf_calendar_t *gf_calendar_new (void)
{
    return (gf_calendar_t *)calloc (1, sizeof (gf_calendar_t));
}

void gf_calendar_destroy (gf_calendar_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

static int s_fail (char *errbuf, size_t errlen, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));
static int s_fail (char *errbuf, size_t errlen, const char *format, ...)
{
    if (errbuf && errlen) {
        va_list args;
        va_start (args, format);
        vsnprintf (errbuf, errlen, format, args);
        va_end (args);
    }
    return -1;
}

/*  "YYYY-MM-DD" exactly: sscanf alone would take "2026-2-14" or " 2026". */
static bool s_parse_date (const char *text, int *y, int *m, int *d)
{
    if (strlen (text) != 10 || text[4] != '-' || text[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (text[i] < '0' || text[i] > '9'))
            return false;
    *y = atoi (text);
    *m = atoi (text + 5);
    *d = atoi (text + 8);
    return s_valid_date (*y, *m, *d);
}

/*  Checks a parsed file and fills `year` with its exceptions. */
static int s_parse_notice (json_t *root, s_year_t *fresh, int *year_p, char *errbuf, size_t errlen)
{
    if (!json_is_object (root))
        return s_fail (errbuf, errlen, "not a JSON object");
    json_t *year = json_object_get (root, "year");
    json_t *days = json_object_get (root, "days");
    json_t *papers = json_object_get (root, "papers");
    if (!json_is_integer (year) || json_integer_value (year) < FIRST_YEAR ||
        json_integer_value (year) >= FIRST_YEAR + YEAR_COUNT)
        return s_fail (errbuf, errlen, "\"year\" must be an integer from %d to %d", FIRST_YEAR,
                       FIRST_YEAR + YEAR_COUNT - 1);
    if (!json_is_array (days))
        return s_fail (errbuf, errlen, "\"days\" must be an array");
    if (papers && !json_is_array (papers))
        return s_fail (errbuf, errlen, "\"papers\" must be an array of URLs");
    size_t i;
    json_t *item;
    json_array_foreach (papers, i, item)
    {
        if (!json_is_string (item))
            return s_fail (errbuf, errlen, "papers[%zu] must be a string", i);
    }

    int y = (int)json_integer_value (year);
    int64_t jan1 = gf_clock_days_from_civil (y, 1, 1);
    json_array_foreach (days, i, item)
    {
        json_t *date = json_object_get (item, "date");
        json_t *off = json_object_get (item, "isOffDay");
        json_t *name = json_object_get (item, "name");
        int dy, dm, dd;
        if (!json_is_object (item))
            return s_fail (errbuf, errlen, "days[%zu] must be an object", i);
        if (!json_is_string (date) || !s_parse_date (json_string_value (date), &dy, &dm, &dd))
            return s_fail (errbuf, errlen, "days[%zu]: \"date\" must be a real day as YYYY-MM-DD",
                           i);
        if (dy != y)
            return s_fail (errbuf, errlen, "days[%zu]: %s is not in %d", i,
                           json_string_value (date), y);
        if (!json_is_boolean (off))
            return s_fail (errbuf, errlen, "days[%zu] (%s): \"isOffDay\" must be true or false", i,
                           json_string_value (date));
        if (!json_is_string (name))
            return s_fail (errbuf, errlen, "days[%zu] (%s): \"name\" must be a string", i,
                           json_string_value (date));
        int64_t yday = gf_clock_days_from_civil (dy, dm, dd) - jan1;
        if (fresh->listed[yday / 64] & (UINT64_C (1) << (yday % 64)))
            return s_fail (errbuf, errlen, "days[%zu]: %s is listed twice", i,
                           json_string_value (date));
        s_put (fresh, yday, !json_is_true (off));
    }
    *year_p = y;
    return 0;
}

int gf_calendar_load_json (gf_calendar_t *self, const char *path, char *errbuf, size_t errlen)
{
    assert (self);
    json_error_t jerr;
    json_t *root = json_load_file (path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return s_fail (errbuf, errlen, "%s: %s (line %d)", path, jerr.text, jerr.line);
    s_year_t fresh = {.known = true};
    int year = 0;
    char why[256] = "";
    int rc = s_parse_notice (root, &fresh, &year, why, sizeof why);
    json_decref (root);
    if (rc)
        return s_fail (errbuf, errlen, "%s: %s", path, why);
    s_year_t *slot = s_slot (self, year);
    fresh.warned = slot->warned;
    *slot = fresh;
    return 0;
}

int gf_calendar_set_day (gf_calendar_t *self, int y, int m, int d, bool workday)
{
    assert (self);
    s_year_t *slot = s_slot (self, y);
    if (!slot || !s_valid_date (y, m, d))
        return -1;
    slot->known = true;
    s_put (slot, gf_clock_days_from_civil (y, m, d) - gf_clock_days_from_civil (y, 1, 1), workday);
    return 0;
}

void gf_calendar_set_year_known (gf_calendar_t *self, int year)
{
    assert (self);
    s_year_t *slot = s_slot (self, year);
    if (slot)
        slot->known = true;
}

bool gf_calendar_has_year (gf_calendar_t *self, int year)
{
    assert (self);
    s_year_t *slot = s_slot (self, year);
    return slot && slot->known;
}

bool gf_calendar_is_workday (gf_calendar_t *self, int y, int m, int d)
{
    assert (self);
    if (!s_valid_date (y, m, d))
        return false;
    return s_workday (self, gf_clock_days_from_civil (y, m, d));
}

uint64_t gf_calendar_missing_lookups (gf_calendar_t *self)
{
    assert (self);
    return self->missing;
}

static const char *SQL_YEARS = "SELECT year FROM calendar_years";
static const char *SQL_DAYS = "SELECT extract (year FROM day)::int AS y,"
                              "       extract (month FROM day)::int AS m,"
                              "       extract (day FROM day)::int AS d, workday"
                              "  FROM calendar_days";

int gf_calendar_load_db (gf_calendar_t *self, gf_db_t *db)
{
    assert (self);
    assert (db);
    PGresult *years = gf_db_exec (db, SQL_YEARS, 0, NULL);
    PGresult *days = years ? gf_db_exec (db, SQL_DAYS, 0, NULL) : NULL;
    if (!days) {
        if (years)
            PQclear (years);
        return -1;
    }
    /* The database's rows replace, not extend, what we had for a year. */
    bool cleared[YEAR_COUNT] = {false};
    for (int row = 0; row < PQntuples (years) + PQntuples (days); row++) {
        bool is_year = row < PQntuples (years);
        int r = is_year ? row : row - PQntuples (years);
        long long year = gf_db_get_ll (is_year ? years : days, r, is_year ? "year" : "y");
        s_year_t *slot = s_slot (self, (int)year);
        if (!slot) {
            zsys_warning ("calendar: year %lld in the database is out of range, ignored", year);
            continue;
        }
        if (!cleared[year - FIRST_YEAR]) {
            memset (slot->listed, 0, sizeof slot->listed);
            memset (slot->workday, 0, sizeof slot->workday);
            cleared[year - FIRST_YEAR] = true;
        }
        slot->known = true;
        if (!is_year) {
            const char *workday = gf_db_get (days, r, "workday");
            gf_calendar_set_day (self, (int)year, (int)gf_db_get_ll (days, r, "m"),
                                 (int)gf_db_get_ll (days, r, "d"), workday && streq (workday, "t"));
        }
    }
    PQclear (years);
    PQclear (days);
    return 0;
}
