/*  gf_config — settings shared by every gridflow process. */
#include "gf_config.h"

#include <czmq.h>
#include <string.h>

typedef struct {
    const char *name;  /* option without "--" and variable suffix     */
    const char *env;   /* environment variable                         */
    const char *deflt; /* default value                                */
    size_t offset;     /* offsetof the char * field, or SIZE_MAX       */
} s_key_t;

static const s_key_t s_keys[] = {
    {"db", "GF_DB", "dbname=gridflow", offsetof (gf_config_t, db)},
    {"intake", "GF_INTAKE", "tcp://127.0.0.1:5570", offsetof (gf_config_t, intake)},
    {"pub", "GF_PUB", "tcp://127.0.0.1:5571", offsetof (gf_config_t, pub)},
    {"replay", "GF_REPLAY", "tcp://127.0.0.1:5572", offsetof (gf_config_t, replay)},
    {"root", "GF_ROOT", "QNL", offsetof (gf_config_t, root)},
    {"curve", "GF_CURVE", "on", offsetof (gf_config_t, curve)},
    {"cert", "GF_CERT", "", offsetof (gf_config_t, cert)},
    {"certs", "GF_CERTS", "", offsetof (gf_config_t, certs)},
    {"server-cert", "GF_SERVER_CERT", "", offsetof (gf_config_t, server_cert)},
};
#define KEY_COUNT (sizeof s_keys / sizeof s_keys[0])

static int s_set_batch (gf_config_t *self, const char *value)
{
    char *end;
    long n = strtol (value, &end, 10);
    if (*value == 0 || *end || n < 1 || n > 10000) {
        fprintf (stderr, "error: batch must be an integer 1..10000, got '%s'\n", value);
        return -1;
    }
    self->batch = (int)n;
    return 0;
}

static void s_set (gf_config_t *self, const s_key_t *key, const char *value)
{
    char **field = (char **)((char *)self + key->offset);
    free (*field);
    *field = strdup (value);
}

gf_config_t *gf_config_new (int *argc, char **argv, const char *const *extra)
{
    gf_config_t *self = (gf_config_t *)zmalloc (sizeof (gf_config_t));
    for (size_t k = 0; k < KEY_COUNT; k++) {
        const char *env = getenv (s_keys[k].env);
        s_set (self, &s_keys[k], env && *env ? env : s_keys[k].deflt);
    }
    self->batch = 500;
    const char *batch = getenv ("GF_BATCH");
    if (batch && *batch && s_set_batch (self, batch)) {
        gf_config_destroy (&self);
        return NULL;
    }
    const char *verbose = getenv ("GF_VERBOSE");
    self->verbose = verbose && *verbose && strcmp (verbose, "0") != 0;

    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *arg = argv[i];
        if (strcmp (arg, "-v") == 0 || strcmp (arg, "--verbose") == 0) {
            self->verbose = true;
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
        const char *name = arg + 2;
        bool known = false;
        for (size_t k = 0; k < KEY_COUNT && !known; k++) {
            if (strcmp (name, s_keys[k].name) == 0) {
                if (i + 1 >= *argc) {
                    fprintf (stderr, "error: option %s needs a value\n", arg);
                    gf_config_destroy (&self);
                    return NULL;
                }
                s_set (self, &s_keys[k], argv[++i]);
                known = true;
            }
        }
        if (!known && strcmp (name, "batch") == 0) {
            if (i + 1 >= *argc || s_set_batch (self, argv[++i])) {
                gf_config_destroy (&self);
                return NULL;
            }
            known = true;
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
    *argc = out;
    argv[out] = NULL;
    return self;
}

void gf_config_destroy (gf_config_t **self_p)
{
    assert (self_p);
    gf_config_t *self = *self_p;
    if (!self)
        return;
    for (size_t k = 0; k < KEY_COUNT; k++)
        free (*(char **)((char *)self + s_keys[k].offset));
    free (self);
    *self_p = NULL;
}
