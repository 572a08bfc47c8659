/*  gf_config — settings shared by every gridflow process. */
#include "gf_config.h"

#include <czmq.h>
#include <string.h>

typedef enum {
    TYPE_STRING,   /* any non-empty text                   */
    TYPE_ENDPOINT, /* tcp://, ipc:// or inproc://          */
    TYPE_INT,      /* integer in [min, max]                */
    TYPE_BOOL,     /* 0/1, true/false, yes/no, on/off      */
    TYPE_LOG,      /* stderr or syslog                     */
    TYPE_TEXT,     /* any text, may be empty ("" = unset)  */
    TYPE_ONOFF,    /* on or off                            */
    TYPE_SECRET    /* like TYPE_TEXT, never printed        */
} s_type_t;

/*  The one table of settings (see the header and docs/operations.md).  To
    add a setting: a row here, its field in gf_config_t, and a line in
    deploy/config/gridflow.cfg and docs/operations.md (test_ops_config
    fails until both name it). */
typedef struct {
    const char *path;   /* key in the config file                   */
    const char *option; /* command-line option                      */
    const char *env;    /* environment variable                     */
    const char *deflt;  /* default value                            */
    s_type_t type;      /* how the value is checked                 */
    int min, max;       /* TYPE_INT range                           */
    bool reloadable;    /* applied again on SIGHUP                  */
    size_t offset;      /* the field in gf_config_t                 */
} s_key_t;

#define FIELD(f) offsetof (gf_config_t, f)
static const s_key_t s_keys[] = {
    {"db/conninfo", "--db", "GF_DB", "dbname=gridflow", TYPE_STRING, 0, 0, false, FIELD (db)},
    {"db/statement_timeout", "--statement-timeout", "GF_STATEMENT_TIMEOUT_MS", "60000", TYPE_INT, 0,
     86400000, false, FIELD (statement_timeout_ms)},
    {"db/lock_timeout", "--lock-timeout", "GF_LOCK_TIMEOUT_MS", "10000", TYPE_INT, 0, 86400000,
     false, FIELD (lock_timeout_ms)},
    {"db/idle_in_transaction_session_timeout", "--idle-in-transaction-timeout",
     "GF_IDLE_IN_TRANSACTION_TIMEOUT_MS", "60000", TYPE_INT, 0, 86400000, false,
     FIELD (idle_in_transaction_ms)},
    {"db/response_timeout", "--db-response-timeout", "GF_DB_RESPONSE_TIMEOUT_MS", "0", TYPE_INT, -1,
     86400000, false, FIELD (response_timeout_ms)},
    {"bus/intake", "--intake", "GF_INTAKE", "tcp://127.0.0.1:5570", TYPE_ENDPOINT, 0, 0, false,
     FIELD (intake)},
    {"bus/pub", "--pub", "GF_PUB", "tcp://127.0.0.1:5571", TYPE_ENDPOINT, 0, 0, false, FIELD (pub)},
    {"bus/replay", "--replay", "GF_REPLAY", "tcp://127.0.0.1:5572", TYPE_ENDPOINT, 0, 0, false,
     FIELD (replay)},
    {"intake/root", "--root", "GF_ROOT", "QNL", TYPE_STRING, 0, 0, false, FIELD (root)},
    {"intake/deadline", "--intake-deadline", "GF_INTAKE_DEADLINE_MS", "2500", TYPE_INT, 100, 600000,
     false, FIELD (deadline_ms)},
    {"intake/max_attachment", "--max-attachment", "GF_MAX_ATTACHMENT", "8388608", TYPE_INT, 0,
     67108864, false, FIELD (max_attachment)},
    {"intake/route", "--intake-route", "GF_INTAKE_ROUTE", "1", TYPE_BOOL, 0, 0, false,
     FIELD (intake_route)},
    {"intake/action_group", "--action-group", "GF_ACTION_GROUP", "32", TYPE_INT, 1, 1000, false,
     FIELD (action_group)},
    {"work/batch", "--batch", "GF_BATCH", "500", TYPE_INT, 1, 10000, false, FIELD (batch)},
    {"work/partitions", "--partitions", "GF_PARTITIONS", "1", TYPE_INT, 1, 64, false,
     FIELD (partitions)},
    {"router/linger", "--router-linger", "GF_ROUTER_LINGER_MS", "100", TYPE_INT, 0, 10000, false,
     FIELD (router_linger_ms)},
    {"escalator/lapse_group", "--lapse-group", "GF_LAPSE_GROUP_MS", "100", TYPE_INT, 0, 10000,
     false, FIELD (lapse_group_ms)},
    {"escalator/lapse_lines", "--lapse-lines", "GF_LAPSE_LINES", "5000", TYPE_INT, 0, 1000000,
     false, FIELD (lapse_lines)},
    {"log/verbose", "-v", "GF_VERBOSE", "0", TYPE_BOOL, 0, 0, true, FIELD (verbose)},
    {"log/target", "--log", "GF_LOG", "stderr", TYPE_LOG, 0, 0, false, FIELD (log)},
    {"metrics/port", "--metrics", "GF_METRICS", "0", TYPE_INT, 0, 65535, false,
     FIELD (metrics_port)},
    {"service/drain", "--drain", "GF_DRAIN", "4000", TYPE_INT, 100, 60000, true, FIELD (drain_ms)},
    {"service/status", "--status", "GF_STATUS", "5000", TYPE_INT, 0, 3600000, false,
     FIELD (status_ms)},
    {"service/lease", "--lease", "GF_LEASE_MS", "5000", TYPE_INT, 300, 600000, false,
     FIELD (lease_ms)},
    {"security/curve", "--curve", "GF_CURVE", "on", TYPE_ONOFF, 0, 0, false, FIELD (curve)},
    {"security/cert", "--cert", "GF_CERT", "", TYPE_TEXT, 0, 0, false, FIELD (cert)},
    {"security/certs", "--certs", "GF_CERTS", "", TYPE_TEXT, 0, 0, false, FIELD (certs)},
    {"security/server_cert", "--server-cert", "GF_SERVER_CERT", "", TYPE_TEXT, 0, 0, false,
     FIELD (server_cert)},
    {"security/relay_cert", "--relay-cert", "GF_RELAY_CERT", "", TYPE_TEXT, 0, 0, false,
     FIELD (relay_cert)},
    {"security/maxmsgsize", "--maxmsgsize", "GF_MAXMSGSIZE", "1048576", TYPE_INT, 1024, 67108864,
     false, FIELD (maxmsgsize)},
    {"security/peer_hwm", "--peer-hwm", "GF_PEER_HWM", "1000", TYPE_INT, 1, 1000000, false,
     FIELD (peer_hwm)},
    {"notifier/app", "--app", "GF_APP", "tcp://127.0.0.1:5573", TYPE_ENDPOINT, 0, 0, false,
     FIELD (app)},
    {"notifier/sms_url", "--sms-url", "GF_SMS_URL", "", TYPE_TEXT, 0, 0, false, FIELD (sms_url)},
    {"notifier/sms_token", "--sms-token", "GF_SMS_TOKEN", "", TYPE_SECRET, 0, 0, false,
     FIELD (sms_token)},
    {"notifier/sms_timeout", "--sms-timeout", "GF_SMS_TIMEOUT_MS", "5000", TYPE_INT, 10, 600000,
     false, FIELD (sms_timeout_ms)},
    {"notifier/smtp_url", "--smtp-url", "GF_SMTP_URL", "", TYPE_TEXT, 0, 0, false,
     FIELD (smtp_url)},
    {"notifier/smtp_from", "--smtp-from", "GF_SMTP_FROM", "gridflow@localhost", TYPE_STRING, 0, 0,
     false, FIELD (smtp_from)},
    {"notifier/smtp_user", "--smtp-user", "GF_SMTP_USER", "", TYPE_TEXT, 0, 0, false,
     FIELD (smtp_user)},
    {"notifier/smtp_password", "--smtp-password", "GF_SMTP_PASSWORD", "", TYPE_SECRET, 0, 0, false,
     FIELD (smtp_password)},
    {"notifier/smtp_timeout", "--smtp-timeout", "GF_SMTP_TIMEOUT_MS", "10000", TYPE_INT, 10, 600000,
     false, FIELD (smtp_timeout_ms)},
    {"notifier/batch", "--delivery-batch", "GF_DELIVERY_BATCH", "64", TYPE_INT, 1, 1000, false,
     FIELD (delivery_batch)},
    {"gateway/http", "--http", "GF_HTTP", "127.0.0.1:8080", TYPE_STRING, 0, 0, false, FIELD (http)},
    {"clock/simulated", "--sim-clock", "GF_SIM_CLOCK", "off", TYPE_ONOFF, 0, 0, false,
     FIELD (sim_clock)},
    {"clock/max_jump", "--clock-max-jump", "GF_CLOCK_MAX_JUMP", "192", TYPE_INT, 1, 876000, false,
     FIELD (clock_max_jump_h)},
    {"gateway/connections", "--http-connections", "GF_HTTP_CONNECTIONS", "512", TYPE_INT, 16, 10000,
     false, FIELD (http_connections)},
    {"gateway/per_ip_connections", "--http-per-ip", "GF_HTTP_PER_IP", "32", TYPE_INT, 0, 10000,
     false, FIELD (http_per_ip)},
    {"gateway/per_ip_rate", "--http-rate", "GF_HTTP_RATE", "50", TYPE_INT, 0, 100000, false,
     FIELD (http_rate)},
    {"gateway/per_ip_burst", "--http-burst", "GF_HTTP_BURST", "200", TYPE_INT, 1, 1000000, false,
     FIELD (http_burst)},
    {"gateway/idle_timeout", "--http-timeout", "GF_HTTP_TIMEOUT", "30", TYPE_INT, 1, 3600, false,
     FIELD (http_timeout)},
    {"gateway/max_body", "--http-max-body", "GF_HTTP_MAX_BODY", "65536", TYPE_INT, 1024, 16777216,
     false, FIELD (http_max_body)},
    {"gateway/hosts", "--http-hosts", "GF_HTTP_HOSTS", "", TYPE_TEXT, 0, 0, false,
     FIELD (http_hosts)},
    {"gateway/cors_origins", "--http-cors", "GF_HTTP_CORS", "", TYPE_TEXT, 0, 0, false,
     FIELD (http_cors)},
    {"gateway/db_pool", "--http-db-pool", "GF_HTTP_DB_POOL", "8", TYPE_INT, 1, 200, false,
     FIELD (http_db_pool)},
    {"gateway/sse_max", "--sse-max", "GF_SSE_MAX", "256", TYPE_INT, 0, 10000, false,
     FIELD (sse_max)},
    {"gateway/sse_per_ip", "--sse-per-ip", "GF_SSE_PER_IP", "16", TYPE_INT, 0, 10000, false,
     FIELD (sse_per_ip)},
    {"gateway/sse_replay_max", "--sse-replay-max", "GF_SSE_REPLAY_MAX", "100000", TYPE_INT, 0,
     100000000, false, FIELD (sse_replay_max)},
    {"gateway/session_idle", "--session-idle", "GF_SESSION_IDLE", "1800", TYPE_INT, 1, 604800,
     false, FIELD (session_idle)},
    {"gateway/session_max", "--session-max", "GF_SESSION_MAX", "43200", TYPE_INT, 1, 2592000, false,
     FIELD (session_max)},
    {"gateway/login_failures", "--login-failures", "GF_LOGIN_FAILURES", "5", TYPE_INT, 1, 1000,
     false, FIELD (login_failures)},
    {"gateway/login_window", "--login-window", "GF_LOGIN_WINDOW", "900", TYPE_INT, 1, 604800, false,
     FIELD (login_window)},
    {"gateway/login_lockout", "--login-lockout", "GF_LOGIN_LOCKOUT", "900", TYPE_INT, 1, 604800,
     false, FIELD (login_lockout)},
    {"gateway/login_ip_rate", "--login-ip-rate", "GF_LOGIN_IP_RATE", "10", TYPE_INT, 0, 100000,
     false, FIELD (login_ip_rate)},
    {"gateway/workbench_cert", "--workbench-cert", "GF_WORKBENCH_CERT", "", TYPE_TEXT, 0, 0, false,
     FIELD (workbench_cert)},
    {"gateway/login_ip_burst", "--login-ip-burst", "GF_LOGIN_IP_BURST", "20", TYPE_INT, 1, 100000,
     false, FIELD (login_ip_burst)},
    {"gateway/notice_poll_ms", "--notice-poll", "GF_NOTICE_POLL_MS", "5000", TYPE_INT, 100, 600000,
     false, FIELD (notice_poll_ms)},
    {"gateway/sse_recheck", "--sse-recheck", "GF_SSE_RECHECK", "60", TYPE_INT, 0, 86400, false,
     FIELD (sse_recheck)},
    {"gateway/totp_levels", "--totp-levels", "GF_TOTP_LEVELS", "", TYPE_TEXT, 0, 0, false,
     FIELD (totp_levels)},
    {"gateway/totp_key", "--totp-key", "GF_TOTP_KEY", "", TYPE_TEXT, 0, 0, false, FIELD (totp_key)},
};
#define KEY_COUNT (sizeof s_keys / sizeof s_keys[0])
/* from_option has one bit per key. */
#define OPTION_WORDS (sizeof ((gf_config_t *)0)->from_option / sizeof (uint64_t))
_Static_assert(KEY_COUNT <= 64 * OPTION_WORDS, "from_option needs more bits");

/*  Key k was set by a command-line option. */
static bool s_from_option (const gf_config_t *self, size_t k)
{
    return (self->from_option[k / 64] & (UINT64_C (1) << (k % 64))) != 0;
}

static void s_set_from_option (gf_config_t *self, size_t k)
{
    self->from_option[k / 64] |= UINT64_C (1) << (k % 64);
}

/*  A parsed value, before it is stored. */
typedef struct {
    const char *text; /* TYPE_STRING, TYPE_ENDPOINT, TYPE_LOG */
    long number;      /* TYPE_INT, TYPE_BOOL                  */
} s_value_t;

/*  Checks `text` for key k; on error prints "error: WHERE: ..." and
    returns -1. */
static int s_parse (const s_key_t *k, const char *where, const char *text, s_value_t *out)
{
    out->text = text;
    switch (k->type) {
    case TYPE_STRING:
        if (!*text) {
            fprintf (stderr, "error: %s: %s must not be empty\n", where, k->path);
            return -1;
        }
        return 0;
    case TYPE_ENDPOINT:
        if (strncmp (text, "tcp://", 6) && strncmp (text, "ipc://", 6) &&
            strncmp (text, "inproc://", 9)) {
            fprintf (stderr,
                     "error: %s: %s: '%s' is not a ZeroMQ endpoint (tcp://HOST:PORT, "
                     "ipc://PATH)\n",
                     where, k->path, text);
            return -1;
        }
        return 0;
    case TYPE_INT: {
        char *end;
        errno = 0;
        long n = strtol (text, &end, 10);
        if (!*text || *end || errno || n < k->min || n > k->max) {
            fprintf (stderr, "error: %s: %s must be an integer %d..%d, got '%s'\n", where, k->path,
                     k->min, k->max, text);
            return -1;
        }
        out->number = n;
        return 0;
    }
    case TYPE_BOOL:
        if (streq (text, "1") || streq (text, "true") || streq (text, "yes") || streq (text, "on"))
            out->number = 1;
        else if (streq (text, "0") || streq (text, "false") || streq (text, "no") ||
                 streq (text, "off"))
            out->number = 0;
        else {
            fprintf (stderr,
                     "error: %s: %s must be 0 or 1 (true/false, yes/no, on/off), got '%s'\n", where,
                     k->path, text);
            return -1;
        }
        return 0;
    case TYPE_TEXT:
    case TYPE_SECRET:
        return 0;
    case TYPE_ONOFF:
        if (!streq (text, "on") && !streq (text, "off")) {
            fprintf (stderr, "error: %s: %s must be 'on' or 'off', got '%s'\n", where, k->path,
                     text);
            return -1;
        }
        return 0;
    case TYPE_LOG:
        if (!streq (text, "stderr") && !streq (text, "syslog")) {
            fprintf (stderr, "error: %s: %s must be 'stderr' or 'syslog', got '%s'\n", where,
                     k->path, text);
            return -1;
        }
        return 0;
    }
    return -1;
}

static void s_store (gf_config_t *self, const s_key_t *k, const s_value_t *v)
{
    void *field = (char *)self + k->offset;
    switch (k->type) {
    case TYPE_STRING:
    case TYPE_ENDPOINT:
    case TYPE_LOG:
    case TYPE_TEXT:
    case TYPE_ONOFF:
    case TYPE_SECRET:
        free (*(char **)field);
        *(char **)field = strdup (v->text);
        break;
    case TYPE_INT:
        if (k->offset == FIELD (drain_ms))
            atomic_store (&self->drain_ms, (int)v->number);
        else
            *(int *)field = (int)v->number;
        break;
    case TYPE_BOOL:
        atomic_store ((_Atomic bool *)field, v->number != 0);
        break;
    }
}

/*  The value of key k as text, for printing and change logs.  Caller frees. */
static char *s_show (gf_config_t *self, const s_key_t *k)
{
    void *field = (char *)self + k->offset;
    switch (k->type) {
    case TYPE_INT:
        return zsys_sprintf ("%d", k->offset == FIELD (drain_ms) ? atomic_load (&self->drain_ms)
                                                                 : *(int *)field);
    case TYPE_BOOL:
        return strdup (atomic_load ((_Atomic bool *)field) ? "1" : "0");
    case TYPE_SECRET:
        return strdup (*(char **)field && **(char **)field ? "(set, not shown)" : "");
    default:
        return strdup (*(char **)field ? *(char **)field : "");
    }
}

/*  Reads the file into values[] (NULL where the file is silent).  Returns
    the loaded tree (caller destroys; values point into it) or NULL after
    printing the error. */
static zconfig_t *s_load_file (const char *path, const char *values[KEY_COUNT])
{
    for (size_t k = 0; k < KEY_COUNT; k++)
        values[k] = NULL;
    if (!zsys_file_exists (path)) {
        fprintf (stderr, "error: config file %s: %s\n", path, strerror (ENOENT));
        return NULL;
    }
    /* zconfig_str_load: zconfig_load leaks its zfile on a syntax error. */
    char *text = NULL;
    zfile_t *file = zfile_new (NULL, path);
    zchunk_t *chunk =
        file && zfile_input (file) == 0 ? zfile_read (file, zfile_cursize (file), 0) : NULL;
    if (chunk)
        text = zchunk_strdup (chunk);
    zchunk_destroy (&chunk);
    zfile_destroy (&file);
    zconfig_t *root = text ? zconfig_str_load (text) : NULL;
    zstr_free (&text);
    if (!root) {
        fprintf (stderr, "error: config file %s: not valid ZPL (see the line above)\n", path);
        return NULL;
    }
    /* Every node must be a known section or a known key with a value. */
    int bad = 0;
    for (zconfig_t *section = zconfig_child (root); section; section = zconfig_next (section)) {
        const char *sname = zconfig_name (section);
        bool section_known = false;
        for (size_t k = 0; k < KEY_COUNT && !section_known; k++)
            section_known = strncmp (s_keys[k].path, sname, strlen (sname)) == 0 &&
                            s_keys[k].path[strlen (sname)] == '/';
        if (!section_known) {
            fprintf (stderr, "error: %s: unknown section '%s'\n", path, sname);
            bad++;
            continue;
        }
        if (zconfig_value (section) && *zconfig_value (section)) {
            fprintf (stderr, "error: %s: '%s' is a section and takes no value; its keys:", path,
                     sname);
            for (size_t k = 0; k < KEY_COUNT; k++)
                if (strncmp (s_keys[k].path, sname, strlen (sname)) == 0 &&
                    s_keys[k].path[strlen (sname)] == '/')
                    fprintf (stderr, " %s", s_keys[k].path);
            fprintf (stderr, "\n");
            bad++;
        }
        for (zconfig_t *item = zconfig_child (section); item; item = zconfig_next (item)) {
            char *full = zsys_sprintf ("%s/%s", sname, zconfig_name (item));
            size_t k = 0;
            while (k < KEY_COUNT && !streq (s_keys[k].path, full))
                k++;
            if (k == KEY_COUNT) {
                fprintf (stderr, "error: %s: unknown key '%s'\n", path, full);
                bad++;
            } else if (zconfig_child (item)) {
                fprintf (stderr, "error: %s: '%s' takes a value, not a section\n", path, full);
                bad++;
            } else {
                s_value_t v;
                char *where = zsys_sprintf ("%s", path);
                if (s_parse (&s_keys[k], where, zconfig_value (item) ? zconfig_value (item) : "",
                             &v))
                    bad++;
                else
                    values[k] = zconfig_value (item);
                zstr_free (&where);
            }
            zstr_free (&full);
        }
    }
    if (bad) {
        zconfig_destroy (&root);
        return NULL;
    }
    return root;
}

/*  Applies file values then the environment to every key, or only the
    reloadable ones not set by an option.  Parses everything before storing
    anything.  Returns 0 or -1. */
static int s_apply (gf_config_t *self, bool reload)
{
    const char *file_values[KEY_COUNT] = {0};
    zconfig_t *tree = NULL;
    if (self->file && !(tree = s_load_file (self->file, file_values)))
        return -1;
    s_value_t parsed[KEY_COUNT];
    int bad = 0;
    for (size_t k = 0; k < KEY_COUNT; k++) {
        const char *env = getenv (s_keys[k].env);
        const char *text = s_keys[k].deflt, *where = "default";
        if (file_values[k])
            text = file_values[k], where = self->file;
        if (env && *env)
            text = env, where = s_keys[k].env;
        /* Historical: GF_VERBOSE set to anything but 0 means on. */
        if (s_keys[k].type == TYPE_BOOL && where == s_keys[k].env)
            text = streq (env, "0") ? "0" : "1";
        if (s_parse (&s_keys[k], where, text, &parsed[k]))
            bad++;
    }
    for (size_t k = 0; k < KEY_COUNT && !bad; k++) {
        if (reload && (!s_keys[k].reloadable || s_from_option (self, k))) {
            if (!s_from_option (self, k)) {
                char *now = s_show (self, &s_keys[k]);
                if (!streq (now, parsed[k].text) &&
                    !(s_keys[k].type == TYPE_INT && atol (now) == parsed[k].number))
                    zsys_warning ("config: %s changed to '%s'; restart to apply", s_keys[k].path,
                                  parsed[k].text);
                free (now);
            }
            continue;
        }
        char *before = reload ? s_show (self, &s_keys[k]) : NULL;
        s_store (self, &s_keys[k], &parsed[k]);
        if (before) {
            char *after = s_show (self, &s_keys[k]);
            if (!streq (before, after))
                zsys_info ("config: %s is now %s (was %s)", s_keys[k].path, after, before);
            free (after);
        }
        free (before);
    }
    zconfig_destroy (&tree);
    return bad ? -1 : 0;
}

gf_config_t *gf_config_new (int *argc, char **argv, const char *const *extra)
{
    gf_config_t *self = (gf_config_t *)zmalloc (sizeof (gf_config_t));
    /* The file first: it sits below the environment and the options. */
    const char *file = getenv ("GF_CONFIG");
    for (int i = 1; i < *argc; i++) {
        if (streq (argv[i], "--"))
            break;
        if (streq (argv[i], "--config")) {
            if (i + 1 >= *argc) {
                fprintf (stderr, "error: option --config needs a value\n");
                gf_config_destroy (&self);
                return NULL;
            }
            file = argv[i + 1];
        }
    }
    if (file && *file)
        self->file = strdup (file);
    if (s_apply (self, false)) {
        gf_config_destroy (&self);
        return NULL;
    }

    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *arg = argv[i];
        if (strcmp (arg, "-v") == 0 || strcmp (arg, "--verbose") == 0) {
            atomic_store (&self->verbose, true);
            for (size_t k = 0; k < KEY_COUNT; k++)
                if (s_keys[k].offset == FIELD (verbose))
                    s_set_from_option (self, k);
            continue;
        }
        if (strcmp (arg, "--print-config") == 0) {
            self->print_config = true;
            continue;
        }
        if (strcmp (arg, "--config") == 0) {
            i++; /* read above */
            continue;
        }
        if (strcmp (arg, "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strncmp (arg, "--", 2) != 0) {
            argv[out++] = argv[i];
            continue;
        }
        bool known = false;
        for (size_t k = 0; k < KEY_COUNT && !known; k++) {
            if (strcmp (arg, s_keys[k].option) == 0) {
                s_value_t v;
                if (i + 1 >= *argc) {
                    fprintf (stderr, "error: option %s needs a value\n", arg);
                    gf_config_destroy (&self);
                    return NULL;
                }
                if (s_parse (&s_keys[k], arg, argv[++i], &v)) {
                    gf_config_destroy (&self);
                    return NULL;
                }
                s_store (self, &s_keys[k], &v);
                s_set_from_option (self, k);
                known = true;
            }
        }
        for (const char *const *e = extra; !known && e && *e; e++) {
            if (streq (*e, "*")) { /* the caller checks every option itself */
                argv[out++] = argv[i];
                known = true;
                break;
            }
            size_t len = strlen (*e);
            bool takes_value = len > 0 && (*e)[len - 1] == '=';
            if (takes_value)
                len--;
            if (strlen (arg) == len && strncmp (arg, *e, len) == 0) {
                argv[out++] = argv[i];
                if (takes_value && i + 1 < *argc)
                    argv[out++] = argv[++i];
                known = true;
            }
        }
        if (!known) {
            fprintf (stderr, "error: unknown option %s\n", arg);
            gf_config_destroy (&self);
            return NULL;
        }
    }
    /* curve=off: this process speaks plain on every socket, its clients too,
       whatever certificates the file names. */
    if (streq (self->curve, "off")) {
        free (self->server_cert);
        self->server_cert = strdup ("");
        free (self->relay_cert);
        self->relay_cert = strdup ("");
        free (self->workbench_cert);
        self->workbench_cert = strdup ("");
    }
    *argc = out;
    argv[out] = NULL;
    return self;
}

int gf_config_reload (gf_config_t *self)
{
    assert (self);
    return s_apply (self, true);
}

void gf_config_print (gf_config_t *self)
{
    for (size_t k = 0; k < KEY_COUNT; k++) {
        char *value = s_show (self, &s_keys[k]);
        printf ("%s = \"%s\"\n", s_keys[k].path, value);
        free (value);
    }
}

void gf_config_destroy (gf_config_t **self_p)
{
    assert (self_p);
    gf_config_t *self = *self_p;
    if (!self)
        return;
    for (size_t k = 0; k < KEY_COUNT; k++) {
        s_type_t t = s_keys[k].type;
        if (t == TYPE_STRING || t == TYPE_ENDPOINT || t == TYPE_LOG || t == TYPE_TEXT ||
            t == TYPE_ONOFF || t == TYPE_SECRET)
            free (*(char **)((char *)self + s_keys[k].offset));
    }
    free (self->file);
    free (self);
    *self_p = NULL;
}
