/*  gridctl kiosk — read-only tokens for big screens (issue 16;
    deploy/sql/repeatable/accounts.sql, docs/security.md "Kiosk tokens"):

    kiosk add --grid G --label L [--expires TIME]   a token that reads G's
                                                    subtree on the dashboard
                                                    (/api, /stream), never
                                                    writes; printed once
    kiosk list [--grid G]                           tokens (of G's subtree):
                                                    state, created, expires
    kiosk revoke ID                                 the token reads nothing
                                                    from now on

    The token is 256 random bits as 64 hex digits, made here; only its
    sha256 reaches the database.  A screen uses it as the header
    "Authorization: Bearer TOKEN", or opens the link /?kiosk=TOKEN once:
    the gateway turns it into an HttpOnly cookie.  TIME is any PostgreSQL
    timestamp ("2027-01-01", "2027-01-01 08:00+08").  Adding and revoking
    are in the audit trail (audit.sql's trigger on kiosk_tokens). */
#include "gridctl.h"
#include "gf_db.h"

#include <sodium.h>

static const char *SQL_ADD = "SELECT gf_kiosk_add ($1, $2, $3, $4::timestamptz) AS id";
static const char *SQL_REVOKE = "SELECT coalesce (gf_kiosk_revoke ($1::bigint), false) AS ok";
static const char *SQL_LIST =
    "SELECT id, grid, label, state, to_char (created_at, 'YYYY-MM-DD HH24:MI') AS created, "
    "coalesce (to_char (expires_at, 'YYYY-MM-DD HH24:MI'), '-') AS expires FROM gf_kiosk_list ($1)";

static int s_add (gf_db_t *db, const char *grid, const char *label, const char *expires)
{
    unsigned char raw[32], digest[crypto_hash_sha256_BYTES];
    char token[65], sha[65];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2hex (token, sizeof token, raw, sizeof raw);
    crypto_hash_sha256 (digest, (const unsigned char *)token, strlen (token));
    sodium_bin2hex (sha, sizeof sha, digest, sizeof digest);
    const char *params[] = {grid, label, sha, expires};
    PGresult *res = gf_db_exec (db, SQL_ADD, 4, params);
    int rc = 1;
    if (!res) {
        const char *state = gf_db_sqlstate (db);
        fprintf (stderr, "error: %s\n",
                 streq (state, "23503")   ? "no such grid in the directory"
                 : streq (state, "23514") ? "the label must be 1..100 characters"
                 : streq (state, "22007") || streq (state, "22008") ? "--expires is not a timestamp"
                 : streq (state, "42501")                           ? "forbidden"
                                                                    : "refused by the database");
    } else {
        printf ("kiosk %s added for %s (%s)\ntoken: %s\nlink: /?kiosk=%s\n",
                gf_db_get (res, 0, "id"), grid, label, token, token);
        PQclear (res);
        rc = 0;
    }
    sodium_memzero (raw, sizeof raw);
    sodium_memzero (token, sizeof token);
    return rc;
}

int gridctl_kiosk (gf_config_t *config, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "", *grid = NULL, *label = NULL, *expires = NULL,
               *id = NULL;
    bool bad = false;
    for (int i = 1; i < argc; i++) {
        if (streq (argv[i], "--grid") && i + 1 < argc)
            grid = argv[++i];
        else if (streq (argv[i], "--label") && i + 1 < argc)
            label = argv[++i];
        else if (streq (argv[i], "--expires") && i + 1 < argc)
            expires = argv[++i];
        else if (argv[i][0] != '-' && !id)
            id = argv[i];
        else
            bad = true;
    }
    bool add = streq (verb, "add"), list = streq (verb, "list"), revoke = streq (verb, "revoke");
    if (bad || (add && (!grid || !label || id)) || (list && (label || expires || id)) ||
        (revoke && (!id || grid || label || expires || strspn (id, "0123456789") != strlen (id) ||
                    strlen (id) > 18)) ||
        (!add && !list && !revoke)) {
        fprintf (stderr, "usage: gridctl kiosk add --grid G --label L [--expires TIME] | list "
                         "[--grid G] | revoke ID\n");
        return 2;
    }
    if (sodium_init () < 0) {
        fprintf (stderr, "error: libsodium cannot start\n");
        return 1;
    }
    gf_db_t *db = gridctl_db_new (config);
    int rc = 1;
    if (gf_db_connect (db, 10000) != 0)
        fprintf (stderr, "error: cannot reach the database\n");
    else if (add)
        rc = s_add (db, grid, label, expires);
    else if (revoke) {
        const char *params[] = {id};
        PGresult *res = gf_db_exec (db, SQL_REVOKE, 1, params);
        if (!res)
            fprintf (stderr, "error: refused by the database (%s)\n", gf_db_sqlstate (db));
        else if (!streq (gf_db_get (res, 0, "ok"), "t"))
            fprintf (stderr, "error: no active kiosk token %s\n", id);
        else {
            printf ("kiosk %s revoked\n", id);
            rc = 0;
        }
        if (res)
            PQclear (res);
    } else {
        const char *params[] = {grid};
        PGresult *res = gf_db_exec (db, SQL_LIST, 1, params);
        if (res) {
            printf ("%-6s %-12s %-20s %-8s %-17s %s\n", "id", "grid", "label", "state", "created",
                    "expires");
            for (int r = 0; r < PQntuples (res); r++)
                printf ("%-6s %-12s %-20s %-8s %-17s %s\n", gf_db_get (res, r, "id"),
                        gf_db_get (res, r, "grid"), gf_db_get (res, r, "label"),
                        gf_db_get (res, r, "state"), gf_db_get (res, r, "created"),
                        gf_db_get (res, r, "expires"));
            PQclear (res);
            rc = 0;
        } else
            fprintf (stderr, "error: refused by the database (%s)\n", gf_db_sqlstate (db));
    }
    gf_db_destroy (&db);
    return rc;
}
