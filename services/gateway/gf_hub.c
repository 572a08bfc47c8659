/*  gf_hub — see gf_hub.h. */
#define _GNU_SOURCE /* asprintf, strndup */
#include "gf_hub.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    uint64_t seq; /* the relay's sequence number                    */
    char *type;   /* event type                                    */
    char *grid;   /* grid code, NULL for events without one        */
    char *text;   /* the event as an SSE frame ("id: ..\n...\n\n") */
} s_entry_t;

struct _gf_hub_t {
    pthread_mutex_t lock; /* guards everything below                      */
    pthread_cond_t grown; /* signalled on append and on stop              */
    s_entry_t *ring;      /* capacity slots                               */
    size_t capacity;      /* slots in ring                                */
    size_t head;          /* index of the oldest entry                    */
    size_t count;         /* entries held                                 */
    uint64_t last;        /* newest seq appended, or the base             */
    bool stopped;         /* gf_hub_stop was called                       */
    uint64_t epoch;       /* gf_hub_reset calls                           */
    uint64_t reset_base;  /* the last reset's base                        */
    uint64_t reset_seen;  /* the newest seq appended before it            */
};

gf_hub_t *gf_hub_new (size_t capacity, uint64_t base)
{
    if (capacity == 0)
        return NULL;
    gf_hub_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->ring = calloc (capacity, sizeof *self->ring);
    if (!self->ring) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->grown, &attr);
    pthread_condattr_destroy (&attr);
    self->capacity = capacity;
    self->last = base;
    return self;
}

static void s_entry_clear (s_entry_t *e)
{
    free (e->type);
    free (e->grid);
    free (e->text);
    memset (e, 0, sizeof *e);
}

void gf_hub_destroy (gf_hub_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gf_hub_t *self = *self_p;
    for (size_t i = 0; i < self->capacity; i++)
        s_entry_clear (&self->ring[i]);
    free (self->ring);
    pthread_cond_destroy (&self->grown);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

void gf_hub_append (gf_hub_t *self, uint64_t seq, const char *type, const char *grid,
                    const char *text)
{
    pthread_mutex_lock (&self->lock);
    if (seq > self->last) {
        size_t slot = (self->head + self->count) % self->capacity;
        if (self->count == self->capacity) {
            //  Full: the oldest entry makes room.
            slot = self->head;
            self->head = (self->head + 1) % self->capacity;
        } else
            self->count++;
        s_entry_t *e = &self->ring[slot];
        s_entry_clear (e);
        e->seq = seq;
        e->type = strdup (type ? type : "");
        e->grid = grid ? strdup (grid) : NULL;
        e->text = strdup (text ? text : "");
        self->last = seq;
        pthread_cond_broadcast (&self->grown);
    }
    pthread_mutex_unlock (&self->lock);
}

static s_entry_t *s_at (gf_hub_t *self, size_t i)
{
    return &self->ring[(self->head + i) % self->capacity];
}

//  Index of the first entry with seq > after (count if none).  Entries are
//  in ascending seq order, so this is a binary search.
static size_t s_find (gf_hub_t *self, uint64_t after)
{
    size_t lo = 0, hi = self->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s_at (self, mid)->seq <= after)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

//  A reader at `after` has lost events when the ring has dropped entries
//  it still needed: the oldest held is beyond after + 1.
static bool s_covers (gf_hub_t *self, uint64_t after)
{
    if (self->count == 0)
        return after >= self->last;
    return s_at (self, 0)->seq <= after + 1;
}

bool gf_hub_covers (gf_hub_t *self, uint64_t after)
{
    pthread_mutex_lock (&self->lock);
    bool covers = s_covers (self, after);
    pthread_mutex_unlock (&self->lock);
    return covers;
}

struct timespec gf_hub_deadline (clockid_t clock, int ms)
{
    struct timespec at;
    clock_gettime (clock, &at);
    at.tv_sec += ms / 1000;
    at.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (at.tv_nsec >= 1000000000L) {
        at.tv_sec++;
        at.tv_nsec -= 1000000000L;
    }
    return at;
}

static gf_hub_status_t s_next (gf_hub_t *self, bool any_epoch, uint64_t epoch, uint64_t after,
                               int timeout_ms, uint64_t *seq, char **type, char **grid, char **text)
{
    struct timespec deadline = gf_hub_deadline (CLOCK_MONOTONIC, timeout_ms);
    gf_hub_status_t status = GF_HUB_TIMEOUT;
    pthread_mutex_lock (&self->lock);
    while (true) {
        if (self->stopped) {
            status = GF_HUB_STOPPED;
            break;
        }
        if (!any_epoch && epoch != self->epoch) {
            status = GF_HUB_RESET;
            break;
        }
        if (!s_covers (self, after)) {
            status = GF_HUB_OVERFLOW;
            break;
        }
        size_t i = s_find (self, after);
        if (i < self->count) {
            s_entry_t *e = s_at (self, i);
            *seq = e->seq;
            *type = strdup (e->type);
            *grid = e->grid ? strdup (e->grid) : NULL;
            *text = strdup (e->text);
            status = GF_HUB_EVENT;
            break;
        }
        if (pthread_cond_timedwait (&self->grown, &self->lock, &deadline) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock (&self->lock);
    return status;
}

gf_hub_status_t gf_hub_next (gf_hub_t *self, uint64_t after, int timeout_ms, uint64_t *seq,
                             char **type, char **grid, char **text)
{
    return s_next (self, true, 0, after, timeout_ms, seq, type, grid, text);
}

gf_hub_status_t gf_hub_next_at (gf_hub_t *self, uint64_t epoch, uint64_t after, int timeout_ms,
                                uint64_t *seq, char **type, char **grid, char **text)
{
    return s_next (self, false, epoch, after, timeout_ms, seq, type, grid, text);
}

void gf_hub_reset (gf_hub_t *self, uint64_t base)
{
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < self->capacity; i++)
        s_entry_clear (&self->ring[i]);
    self->reset_seen = self->last;
    self->head = self->count = 0;
    self->last = self->reset_base = base;
    self->epoch++;
    pthread_cond_broadcast (&self->grown);
    pthread_mutex_unlock (&self->lock);
}

uint64_t gf_hub_epoch (gf_hub_t *self, uint64_t *base, uint64_t *seen)
{
    pthread_mutex_lock (&self->lock);
    uint64_t epoch = self->epoch;
    if (base)
        *base = self->reset_base;
    if (seen)
        *seen = self->reset_seen;
    pthread_mutex_unlock (&self->lock);
    return epoch;
}

uint64_t gf_hub_last (gf_hub_t *self)
{
    pthread_mutex_lock (&self->lock);
    uint64_t last = self->last;
    pthread_mutex_unlock (&self->lock);
    return last;
}

uint64_t gf_hub_first (gf_hub_t *self)
{
    pthread_mutex_lock (&self->lock);
    uint64_t first = self->count ? s_at (self, 0)->seq : 0;
    pthread_mutex_unlock (&self->lock);
    return first;
}

void gf_hub_stop (gf_hub_t *self)
{
    pthread_mutex_lock (&self->lock);
    self->stopped = true;
    pthread_cond_broadcast (&self->grown);
    pthread_mutex_unlock (&self->lock);
}

bool gf_hub_stopped (gf_hub_t *self)
{
    pthread_mutex_lock (&self->lock);
    bool stopped = self->stopped;
    pthread_mutex_unlock (&self->lock);
    return stopped;
}
