/*  gf_config — settings shared by every gridflow process.

    Each key has a default, a place in the config file (ZPL, czmq's
    zconfig format), an environment variable and a command-line option.
    Precedence: default < file < environment < option.  The file is named
    by --config FILE or GF_CONFIG; without one, only environment and
    options apply.  Unknown keys in the file, unknown options and bad
    values are refused with an English message (the caller exits 2).

    file key        option      environment  default               reload
    db/conninfo     --db        GF_DB        dbname=gridflow       no
    db/statement_timeout --statement-timeout GF_STATEMENT_TIMEOUT_MS 60000 (ms, 0: server's) no
    db/lock_timeout --lock-timeout GF_LOCK_TIMEOUT_MS 10000 (ms, 0: server's)                 no
    db/idle_in_transaction_session_timeout --idle-in-transaction-timeout
                    GF_IDLE_IN_TRANSACTION_TIMEOUT_MS 60000 (ms, 0: server's)            no
    db/response_timeout --db-response-timeout GF_DB_RESPONSE_TIMEOUT_MS 0 (ms a statement's
                    answer may take before the connection is dropped as dead, e.g. a
                    frozen server; 0: statement_timeout + 5000; -1: wait forever)      no
    bus/intake      --intake    GF_INTAKE    tcp://127.0.0.1:5570  no
    bus/pub         --pub       GF_PUB       tcp://127.0.0.1:5571  no
    bus/replay      --replay    GF_REPLAY    tcp://127.0.0.1:5572  no
    intake/root     --root      GF_ROOT      QNL                   no
    intake/deadline --intake-deadline GF_INTAKE_DEADLINE_MS 2500 (ms, 100..600000) no
    intake/max_attachment --max-attachment GF_MAX_ATTACHMENT 8388608 (bytes of one
                    attachment.add; 0: attachments refused; max 64 MiB)  no
    intake/route    --intake-route GF_INTAKE_ROUTE 1 (0/1: route at intake) no
    work/batch      --batch     GF_BATCH     500  (1..10000)       no
    work/partitions --partitions GF_PARTITIONS 1 (1..64: the router's and the notifier's
                    work split by case, each partition under its own lease and checkpoint) no
    router/linger   --router-linger GF_ROUTER_LINGER_MS 100 (ms, 0..10000: with intake/route
                    on, the router takes the events of this long in one step; 0: at once) no
    log/verbose     -v          GF_VERBOSE   0    (0/1)            yes (SIGHUP)
    log/target      --log       GF_LOG       stderr (or syslog)    no
    metrics/port    --metrics   GF_METRICS   0    (0: off)         no
    service/drain   --drain     GF_DRAIN     4000 (ms, 100..60000) yes (SIGHUP)
    service/status  --status    GF_STATUS    5000 (ms, 0: off)     no
    service/lease   --lease     GF_LEASE_MS  5000 (ms, 300..600000: relay, router, notifier,
                    escalator lease; renewed every third)    no
    security/curve  --curve     GF_CURVE     on   (off: plain TCP, loopback/ipc only) no
    security/cert   --cert      GF_CERT      ""   (own CurveZMQ certificate file)     no
    security/certs  --certs     GF_CERTS     ""   (intake: authorised client certs)   no
    security/server_cert --server-cert GF_SERVER_CERT "" (clients: intake's cert)     no
    security/relay_cert --relay-cert GF_RELAY_CERT "" (stream clients: relay's cert) no
    security/maxmsgsize --maxmsgsize GF_MAXMSGSIZE 1048576 (bytes per message)      no
    security/peer_hwm --peer-hwm GF_PEER_HWM 1000 (messages queued per peer)        no
    notifier/app    --app       GF_APP       tcp://127.0.0.1:5573  no
    notifier/sms_url --sms-url  GF_SMS_URL   ""   (off)            no
    notifier/sms_token --sms-token GF_SMS_TOKEN ""                 no
    notifier/sms_timeout --sms-timeout GF_SMS_TIMEOUT_MS 5000 (ms) no
    notifier/smtp_url --smtp-url GF_SMTP_URL ""   (off)            no
    notifier/smtp_from --smtp-from GF_SMTP_FROM gridflow@localhost no
    notifier/smtp_user --smtp-user GF_SMTP_USER ""                 no
    notifier/smtp_password --smtp-password GF_SMTP_PASSWORD ""     no
    notifier/smtp_timeout --smtp-timeout GF_SMTP_TIMEOUT_MS 10000 (ms) no
    notifier/batch  --delivery-batch GF_DELIVERY_BATCH 64 (1..1000) no
    gateway/http    --http      GF_HTTP      127.0.0.1:8080        no
    clock/simulated --sim-clock GF_SIM_CLOCK off  (gridctl clock set/advance/real allowed) no
    clock/max_jump  --clock-max-jump GF_CLOCK_MAX_JUMP 192 (hours a clock move may jump) no
    gateway/connections, per_ip_connections, per_ip_rate, per_ip_burst,
    idle_timeout, max_body, hosts, cors_origins, db_pool, sse_max,
    sse_per_ip, sse_replay_max: the gateway's limits (docs/gateway.md "Limits").
    gateway/workbench_cert --workbench-cert GF_WORKBENCH_CERT "": the gateway's
                    own intake identity (kind workbench) for staff actions from
                    a session (docs/gateway.md "Workbench").

    --print-config prints the effective settings (file key = value).
    docs/operations.md documents each key.
*/
#ifndef GF_CONFIG_H_INCLUDED
#define GF_CONFIG_H_INCLUDED

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    char *db;                   /* libpq connection string                              */
    int statement_timeout_ms;   /* each session's statement_timeout, 0: server's       */
    int lock_timeout_ms;        /* each session's lock_timeout, 0: server's            */
    int idle_in_transaction_ms; /* idle_in_transaction_session_timeout, 0: server's   */
    int response_timeout_ms;    /* client side: drop a connection silent this long     */
    char *intake;               /* intake ROUTER endpoint                               */
    char *pub;                  /* relay PUB endpoint                                   */
    char *replay;               /* relay ROUTER (replay) endpoint                       */
    char *root;                 /* default L1 grid for complaints with no grid          */
    int deadline_ms;            /* intake: every request answered within this (ms)      */
    int max_attachment;         /* intake: bytes of one attachment.add's data, 0: none  */
    bool intake_route;          /* intake: route what it stores in its transaction      */
    int action_group;           /* intake: most case actions per transaction (1..1000)  */
    int batch;                  /* max items per transaction (1..10000)                 */
    int partitions;             /* router, notifier: partitions of the work (1..64)     */
    int router_linger_ms;       /* router: events of this long in one step (intake/route) */
    int lapse_group_ms;         /* escalator: a root's lapses share a transaction this long */
    int lapse_lines;            /* escalator: agenda lines lapsed by one call at most */
    _Atomic bool verbose;       /* log every message (reloadable: SIGHUP)               */
    char *log;                  /* "stderr" or "syslog"                                 */
    int metrics_port;           /* HTTP /metrics and /healthz port, 0: off              */
    _Atomic int drain_ms;       /* SIGTERM: how long in-flight work may take            */
    int status_ms;              /* heartbeat into service_status, 0: off                */
    int lease_ms;               /* single-active roles: lease duration (gf_lease)       */
    char *file;                 /* the config file read, or NULL                        */
    bool print_config;          /* --print-config was given                             */
    uint64_t from_option[2];    /* bit per key: set by a command-line option (128 keys) */
    char *curve;                /* "on" or "off" (plain, loopback only)                 */
    char *cert;                 /* own certificate file (secret in FILE_secret), or ""  */
    char *certs;                /* intake: authorised client certificates (dir), or ""  */
    char *server_cert;          /* clients: the intake's public certificate file, or "" */
    char *relay_cert;           /* stream clients: the relay's public certificate, or "" */
    int maxmsgsize;             /* largest message a server socket accepts from a peer  */
    int peer_hwm;               /* messages queued from one peer on a server socket     */
    char *app;                  /* notifier: app push ROUTER endpoint                   */
    char *sms_url;              /* notifier: SMS gateway URL, "" = channel off          */
    char *sms_token;            /* notifier: SMS gateway bearer token, or ""            */
    int sms_timeout_ms;         /* notifier: SMS request timeout                        */
    char *smtp_url;             /* notifier: smtp:// or smtps:// URL, "" = channel off  */
    char *smtp_from;            /* notifier: sender address                             */
    char *smtp_user;            /* notifier: SMTP user, or ""                           */
    char *smtp_password;        /* notifier: SMTP password, or ""                       */
    int smtp_timeout_ms;        /* notifier: SMTP transfer timeout                      */
    int delivery_batch;         /* notifier: deliveries claimed per batch               */
    char *http;                 /* gateway: HOST:PORT to listen on                      */
    char *sim_clock;            /* "on": gridctl may move the simulated clock           */
    int clock_max_jump_h;       /* gridctl clock: largest forward move without --force  */
    int http_connections;       /* gateway: HTTP connections at once                    */
    int http_per_ip;            /* gateway: connections at once per client IP, 0: any   */
    int http_rate;              /* gateway: requests per second per client IP, 0: any   */
    int http_burst;             /* gateway: token bucket depth per client IP            */
    int http_timeout;           /* gateway: seconds a connection may stay silent        */
    int http_max_body;          /* gateway: request body bytes accepted                 */
    char *http_hosts;           /* gateway: accepted Host names (comma list), "": local */
    char *http_cors;            /* gateway: origins allowed to read cross-origin, or "" */
    int http_db_pool;           /* gateway: database connections at most                */
    int sse_max;                /* gateway: SSE streams at once                         */
    int sse_per_ip;             /* gateway: SSE streams at once per client IP, 0: any   */
    int sse_replay_max;         /* gateway: events a resume may start behind the head   */
    int session_idle;           /* gateway: seconds a session may stay unused           */
    int session_max;            /* gateway: seconds a session lasts at most             */
    int login_failures;         /* gateway: wrong passwords that lock an account        */
    int login_window;           /* gateway: seconds over which those failures add up    */
    int login_lockout;          /* gateway: seconds an account stays locked             */
    int login_ip_rate;          /* gateway: login attempts a minute per client IP, 0: any */
    int login_ip_burst;         /* gateway: login token bucket depth per client IP      */
    int notice_poll_ms;         /* gateway: ms at most between a notices stream's looks  */
    char *workbench_cert;       /* gateway: its workbench identity's certificate, or "" */
    int sse_recheck;            /* gateway: seconds between checks of a stream's viewer, 0: never */
    char *totp_levels;          /* gateway: grid levels whose staff need a TOTP code ("1,2") */
    char *totp_key;             /* gateway: file of the key that opens TOTP secrets, or "" */
} gf_config_t;

/*  Reads the config file (--config FILE / GF_CONFIG), the environment,
    then consumes the options it knows from argv; the remaining arguments
    are left in argv[1..*argc-1] in order.  An option it does not know
    that starts with "--" is an error unless it is in `extra`, a
    NULL-terminated list of the caller's own options, which stay in argv
    ("--json" is a flag, "--since=" takes a value; "*" lets every unknown
    option through, for callers that check them all).  Returns NULL after
    printing the error. */
gf_config_t *gf_config_new (int *argc, char **argv, const char *const *extra);
void gf_config_destroy (gf_config_t **self_p);

/*  Re-reads the file and the environment and applies the reloadable keys
    (options given on the command line still win); logs each change and
    warns about changed keys that need a restart.  Returns 0, or -1 (the
    file is now invalid: nothing is changed). */
int gf_config_reload (gf_config_t *self);

/*  Prints `key = "value"` per key to stdout (for --print-config). */
void gf_config_print (gf_config_t *self);

#endif
