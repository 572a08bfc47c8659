/*  gf_config — settings shared by every gridflow process.

    Each key has a default, an environment variable and a command-line
    option; the option wins over the environment, which wins over the
    default.  Unknown options are an error.

    key      option      environment   default
    db       --db        GF_DB         dbname=gridflow
    intake   --intake    GF_INTAKE     tcp://127.0.0.1:5570
    pub      --pub       GF_PUB        tcp://127.0.0.1:5571
    replay   --replay    GF_REPLAY     tcp://127.0.0.1:5572
    root     --root      GF_ROOT       QNL     (L1 grid of complaints without a grid code)
    batch    --batch     GF_BATCH      500     (max items per transaction)
    verbose  -v          GF_VERBOSE    off
    curve    --curve     GF_CURVE      on      (off: plain TCP, loopback/ipc only; docs/security.md)
    cert     --cert      GF_CERT       (none)  (this program's CurveZMQ certificate file)
    certs    --certs     GF_CERTS      (none)  (intake: directory of authorised client certificates)
    server_cert --server-cert GF_SERVER_CERT (none) (clients: the intake's public certificate)
*/
#ifndef GF_CONFIG_H_INCLUDED
#define GF_CONFIG_H_INCLUDED

#include <stdbool.h>

typedef struct {
    char *db;          /* libpq connection string                              */
    char *intake;      /* intake ROUTER endpoint                               */
    char *pub;         /* relay PUB endpoint                                   */
    char *replay;      /* relay ROUTER (replay) endpoint                       */
    char *root;        /* default L1 grid for complaints with no grid          */
    int batch;         /* max items per transaction (1..10000)                 */
    bool verbose;      /* log every message                                    */
    char *curve;       /* "on" or "off" (plain, loopback only)            */
    char *cert;        /* own certificate file (secret in FILE_secret)    */
    char *certs;       /* intake: authorised client certificates (dir)    */
    char *server_cert; /* clients: the intake's public certificate file   */
} gf_config_t;

/*  Reads the environment, then consumes the options it knows from argv;
    the remaining arguments are left in argv[1..*argc-1] in order.  An
    option it does not know that starts with "--" is an error unless it is
    in `extra`, a NULL-terminated list of the caller's own options, which
    stay in argv ("--json" is a flag, "--since=" takes a value; "*" lets
    every unknown option through, for callers that check them all).  Returns NULL after printing the
   error. */
gf_config_t *gf_config_new (int *argc, char **argv, const char *const *extra);
void gf_config_destroy (gf_config_t **self_p);

#endif
