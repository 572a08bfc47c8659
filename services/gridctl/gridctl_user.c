/*  gridctl user — staff accounts for the workbench (issue 16, part 1;
    deploy/sql/repeatable/accounts.sql, docs/security.md "Accounts and
    sessions"):

    user add PERSON [--password-stdin]    an account for a person of the
                                          directory (grid and role come from
                                          there)
    user reset PERSON [--password-stdin]  a new password; the account enabled
                                          again, its lock cleared, its sessions
                                          ended
    user disable PERSON                   no more logins; sessions ended
    user list [--grid G]                  accounts (of G's subtree): grid,
                                          role, state, last login, sessions
    user import --from-directory [--grid G] [--out FILE]
                                          an account for every person of the
                                          directory (of G's subtree) who has
                                          none, each with a one-time password
                                          (to stdout, or FILE made mode 0600)
                                          that the first login must replace
    user totp-key FILE                    the gateway's TOTP key pair: FILE
                                          (secret half, 0600, for
                                          gateway/totp_key) and FILE.pub
    user totp PERSON --key FILE.pub       enrols the account in TOTP: a new
                                          secret, printed once (otpauth://
                                          URI and base32), stored sealed to
                                          the gateway's key

    Without --password-stdin a random password (16 letters and digits) is
    made and printed once, for the operator to hand over; with it, the
    first line of standard input is the password (8..1024 bytes).  The
    password is hashed here with Argon2id (libsodium crypto_pwhash_str,
    interactive limits); only that string reaches the database.  Every
    change is in the audit trail (audit.sql's trigger on accounts). */
#include "gridctl.h"
#include "gf_db.h"

#include <fcntl.h>
#include <oath.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *SQL_ADD = "SELECT gf_account_add ($1, $2)";
static const char *SQL_ADD_ONCE = "SELECT gf_account_add ($1, $2, true)";
static const char *SQL_MISSING = "SELECT person, name, grid, role FROM gf_accounts_missing ($1)";
static const char *SQL_RESET = "SELECT gf_account_reset ($1, $2) AS ok";
static const char *SQL_DISABLE = "SELECT gf_account_disable ($1) AS ok";
static const char *SQL_TOTP = "SELECT gf_account_totp_set ($1, $2) AS ok";
static const char *SQL_LIST = "SELECT person, name, grid, role, state, "
                              "coalesce (to_char (last_login_at, 'YYYY-MM-DD HH24:MI'), '-') AS "
                              "last_login, sessions FROM gf_accounts_list ($1)";

//  The password: stdin's first line, or a new random one (printed by the
//  caller).  Returns 0, or -1 after printing why.
static int s_password (bool from_stdin, char *pw, size_t size, bool *made)
{
    *made = !from_stdin;
    if (from_stdin) {
        if (!fgets (pw, (int)size, stdin)) {
            fprintf (stderr, "error: no password on standard input\n");
            return -1;
        }
        pw[strcspn (pw, "\r\n")] = 0;
        if (strlen (pw) < 8 || strlen (pw) > 1024) {
            fprintf (stderr, "error: the password must be 8..1024 bytes\n");
            return -1;
        }
        return 0;
    }
    //  No 0/O, 1/l/I: read aloud or copied from paper without mistakes.
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for (size_t i = 0; i < 16; i++)
        pw[i] = alphabet[randombytes_uniform (sizeof alphabet - 1)];
    pw[16] = 0;
    return 0;
}

static int s_set (gf_db_t *db, const char *verb, const char *person, bool from_stdin)
{
    char pw[1100], hash[crypto_pwhash_STRBYTES];
    bool made = false;
    if (s_password (from_stdin, pw, sizeof pw, &made) != 0)
        return 1;
    if (crypto_pwhash_str (hash, pw, strlen (pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                           crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        fprintf (stderr, "error: out of memory hashing the password\n");
        return 1;
    }
    const char *params[] = {person, hash};
    bool add = streq (verb, "add");
    PGresult *res = gf_db_exec (db, add ? SQL_ADD : SQL_RESET, 2, params);
    int rc = 1;
    if (!res) {
        const char *state = gf_db_sqlstate (db);
        fprintf (stderr, "error: %s\n",
                 streq (state, "23505")   ? "the person already has an account (user reset)"
                 : streq (state, "23503") ? "no such person in the directory"
                 : streq (state, "42501") ? "forbidden"
                                          : "refused by the database");
    } else if (!add && !streq (gf_db_get (res, 0, "ok"), "t"))
        fprintf (stderr, "error: %s has no account (user add)\n", person);
    else {
        printf ("user %s %s\n", person, add ? "added" : "reset");
        if (made)
            printf ("password: %s\n", pw);
        rc = 0;
    }
    if (res)
        PQclear (res);
    sodium_memzero (pw, sizeof pw);
    return rc;
}

static int s_write_new (const char *path, const char *text, mode_t mode);

//  user import --from-directory: one-time passwords for the people without
//  an account, "person<TAB>name<TAB>grid<TAB>role<TAB>password" lines.
static int s_import (gf_db_t *db, const char *grid, const char *out_path)
{
    const char *params[] = {grid};
    PGresult *res = gf_db_exec (db, SQL_MISSING, 1, params);
    if (!res) {
        fprintf (stderr, "error: refused by the database (%s)\n", gf_db_sqlstate (db));
        return 1;
    }
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    int rc = 0, made = 0;
    for (int r = 0; r < PQntuples (res) && rc == 0; r++) {
        char pw[32], hash[crypto_pwhash_STRBYTES];
        bool once = false;
        s_password (false, pw, sizeof pw, &once);
        const char *person = gf_db_get (res, r, "person");
        const char *add[] = {person, hash};
        PGresult *ok = crypto_pwhash_str (hash, pw, strlen (pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                          crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0
                           ? gf_db_exec (db, SQL_ADD_ONCE, 2, add)
                           : NULL;
        if (!ok) {
            fprintf (stderr, "error: %s: refused by the database (%s)\n", person,
                     gf_db_sqlstate (db));
            rc = 1;
        } else {
            fprintf (out, "%s\t%s\t%s\t%s\t%s\n", person, gf_db_get (res, r, "name"),
                     gf_db_get (res, r, "grid"), gf_db_get (res, r, "role"), pw);
            PQclear (ok);
            made++;
        }
        sodium_memzero (pw, sizeof pw);
    }
    PQclear (res);
    fclose (out);
    if (out_path && made && s_write_new (out_path, text, 0600) != 0) {
        fprintf (stderr,
                 "error: cannot create %s (it must not exist yet); the accounts were "
                 "made: gridctl user reset each\n",
                 out_path);
        rc = 1;
    } else if (!out_path)
        fputs (text, stdout);
    fprintf (out_path ? stdout : stderr,
             "%d accounts made with one-time passwords%s%s (changed at the first login)\n", made,
             out_path && made ? ", written to " : "", out_path && made ? out_path : "");
    if (text)
        sodium_memzero (text, size);
    free (text);
    return rc;
}

//  Writes text to path with mode (a new file; an existing one is refused).
static int s_write_new (const char *path, const char *text, mode_t mode)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    ssize_t n = write (fd, text, strlen (text));
    return close (fd) == 0 && n == (ssize_t)strlen (text) ? 0 : -1;
}

//  user totp-key FILE: the key pair that seals (gridctl) and opens (the
//  gateway) TOTP secrets, as hex lines.
static int s_totp_key (const char *path)
{
    unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
    char hex[2 * crypto_box_SECRETKEYBYTES + 2];
    crypto_box_keypair (pk, sk);
    sodium_bin2hex (hex, sizeof hex - 1, sk, sizeof sk);
    strcat (hex, "\n");
    char *pub_path = zsys_sprintf ("%s.pub", path);
    int rc = s_write_new (path, hex, 0600);
    sodium_memzero (hex, sizeof hex);
    sodium_memzero (sk, sizeof sk);
    if (rc == 0) {
        sodium_bin2hex (hex, sizeof hex - 1, pk, sizeof pk);
        strcat (hex, "\n");
        rc = s_write_new (pub_path, hex, 0644);
    }
    if (rc != 0)
        fprintf (stderr, "error: cannot create %s and %s (they must not exist yet)\n", path,
                 pub_path);
    else
        printf ("TOTP key pair: %s (secret, for gateway/totp_key) and %s (for gridctl user totp "
                "--key)\n",
                path, pub_path);
    zstr_free (&pub_path);
    return rc == 0 ? 0 : 1;
}

//  user totp PERSON --key FILE.pub: a new 160-bit secret sealed to the
//  gateway's public key; printed once for the person's authenticator app.
static int s_totp (gf_db_t *db, const char *person, const char *pub_path)
{
    FILE *file = fopen (pub_path, "r");
    char hex[80] = "";
    if (file && !fgets (hex, sizeof hex, file))
        hex[0] = 0;
    if (file)
        fclose (file);
    hex[strcspn (hex, "\r\n")] = 0;
    unsigned char pk[crypto_box_PUBLICKEYBYTES];
    size_t n = 0;
    if (sodium_hex2bin (pk, sizeof pk, hex, strlen (hex), NULL, &n, NULL) != 0 || n != sizeof pk) {
        fprintf (stderr, "error: %s is not a TOTP public key (gridctl user totp-key)\n", pub_path);
        return 1;
    }
    unsigned char secret[20], box[sizeof secret + crypto_box_SEALBYTES];
    char sealed[2 * sizeof box + 1], *b32 = NULL;
    size_t b32_len = 0;
    randombytes_buf (secret, sizeof secret);
    crypto_box_seal (box, secret, sizeof secret, pk);
    sodium_bin2hex (sealed, sizeof sealed, box, sizeof box);
    int rc = 1;
    if (oath_init () != OATH_OK ||
        oath_base32_encode ((const char *)secret, sizeof secret, &b32, &b32_len) != OATH_OK)
        fprintf (stderr, "error: liboath cannot encode the secret\n");
    else {
        const char *params[] = {person, sealed};
        PGresult *res = gf_db_exec (db, SQL_TOTP, 2, params);
        if (!res)
            fprintf (stderr, "error: refused by the database (%s)\n", gf_db_sqlstate (db));
        else if (!streq (gf_db_get (res, 0, "ok"), "t"))
            fprintf (stderr, "error: %s has no account (user add)\n", person);
        else {
            printf ("user %s enrolled in TOTP (30 s, 6 digits; shown once)\nsecret: %s\n"
                    "uri: otpauth://totp/gridflow:%s?secret=%s&issuer=gridflow&algorithm=SHA1"
                    "&digits=6&period=30\n",
                    person, b32, person, b32);
            rc = 0;
        }
        if (res)
            PQclear (res);
    }
    if (b32)
        sodium_memzero (b32, b32_len);
    free (b32);
    sodium_memzero (secret, sizeof secret);
    return rc;
}

int gridctl_user (gf_config_t *config, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "", *person = NULL, *grid = NULL;
    const char *key = NULL, *out = NULL;
    bool from_stdin = false, bad = false, directory = false;
    for (int i = 1; i < argc; i++) {
        if (streq (argv[i], "--password-stdin"))
            from_stdin = true;
        else if (streq (argv[i], "--from-directory"))
            directory = true;
        else if (streq (argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else if (streq (argv[i], "--key") && i + 1 < argc)
            key = argv[++i];
        else if (streq (argv[i], "--grid") && i + 1 < argc)
            grid = argv[++i];
        else if (argv[i][0] != '-' && !person)
            person = argv[i];
        else
            bad = true;
    }
    bool set = streq (verb, "add") || streq (verb, "reset");
    bool totp = streq (verb, "totp"), totp_key = streq (verb, "totp-key");
    bool import = streq (verb, "import");
    if (bad || (set && !person) || (streq (verb, "disable") && (!person || from_stdin)) ||
        (streq (verb, "list") && (person || from_stdin)) || (totp && (!person || !key)) ||
        (totp_key && (!person || key || grid)) || (key && !totp) ||
        (import && (!directory || person || from_stdin)) || ((directory || out) && !import) ||
        (!set && !totp && !totp_key && !import && !streq (verb, "disable") &&
         !streq (verb, "list"))) {
        fprintf (stderr, "usage: gridctl user add|reset PERSON [--password-stdin] | disable PERSON"
                         " | list [--grid G] | import --from-directory [--grid G] [--out FILE]"
                         " | totp-key FILE | totp PERSON --key FILE.pub\n");
        return 2;
    }
    if (sodium_init () < 0) {
        fprintf (stderr, "error: libsodium cannot start\n");
        return 1;
    }
    if (totp_key)
        return s_totp_key (person);
    gf_db_t *db = gridctl_db_new (config);
    int rc = 1;
    if (gf_db_connect (db, 10000) != 0)
        fprintf (stderr, "error: cannot reach the database\n");
    else if (set)
        rc = s_set (db, verb, person, from_stdin);
    else if (totp)
        rc = s_totp (db, person, key);
    else if (import)
        rc = s_import (db, grid, out);
    else if (streq (verb, "disable")) {
        const char *params[] = {person};
        PGresult *res = gf_db_exec (db, SQL_DISABLE, 1, params);
        if (!res)
            fprintf (stderr, "error: refused by the database (%s)\n", gf_db_sqlstate (db));
        else if (!streq (gf_db_get (res, 0, "ok"), "t"))
            fprintf (stderr, "error: %s has no account\n", person);
        else {
            printf ("user %s disabled\n", person);
            rc = 0;
        }
        if (res)
            PQclear (res);
    } else {
        const char *params[] = {grid};
        PGresult *res = gf_db_exec (db, SQL_LIST, 1, params);
        if (res) {
            printf ("%-16s %-10s %-12s %-8s %-9s %-17s %s\n", "person", "name", "grid", "role",
                    "state", "last login", "sessions");
            for (int r = 0; r < PQntuples (res); r++)
                printf ("%-16s %-10s %-12s %-8s %-9s %-17s %s\n", gf_db_get (res, r, "person"),
                        gf_db_get (res, r, "name"), gf_db_get (res, r, "grid"),
                        gf_db_get (res, r, "role"), gf_db_get (res, r, "state"),
                        gf_db_get (res, r, "last_login"), gf_db_get (res, r, "sessions"));
            PQclear (res);
            rc = 0;
        } else
            fprintf (stderr, "error: refused by the database (%s)\n", gf_db_sqlstate (db));
    }
    gf_db_destroy (&db);
    return rc;
}
