/*  gridctl audit, and who gridctl says it is in the audit trail.

    Every database session gridctl opens (gridctl_db_new) names its OS
    user, the --actor given (or GF_ACTOR) and the command words in the
    session settings gridflow.os_user, gridflow.actor and gridflow.command,
    which the audit triggers (deploy/sql/repeatable/audit.sql) record next
    to the authenticated database user.  `gridctl audit` lists the trail;
    it needs a database user in gf_auditor (docs/security.md). */
#include "gridctl.h"
#include "gf_db.h"

#include <pwd.h>
#include <unistd.h>

static char s_actor[128];
static char s_command[128];

static const char *SQL_SESSION = "SELECT set_config ('gridflow.os_user', $1, false),"
                                 "       set_config ('gridflow.actor', $2, false),"
                                 "       set_config ('gridflow.command', $3, false)";
static const char *SQL_AUDIT = "SELECT * FROM gf_audit_list ($1)";

void gridctl_set_actor (const char *actor, const char *command)
{
    snprintf (s_actor, sizeof s_actor, "%s", actor ? actor : "");
    snprintf (s_command, sizeof s_command, "%s", command ? command : "");
}

gf_db_t *gridctl_db_new (gf_config_t *config)
{
    gf_db_t *db = gf_db_new (config->db, "gridctl");
    if (db && gf_db_connect (db, 10000) == 0) {
        struct passwd *pw = getpwuid (getuid ());
        const char *params[] = {pw ? pw->pw_name : "", s_actor, s_command};
        /* A failure here only loses the claims; the statements that
           follow report their own errors. */
        gf_db_run (db, SQL_SESSION, 3, params);
    }
    return db;
}

int gridctl_audit (gf_config_t *config, int argc, char **argv)
{
    const char *since = NULL;
    bool json = false;
    for (int i = 0; i < argc; i++) {
        if (streq (argv[i], "--since") && i + 1 < argc)
            since = argv[++i];
        else if (streq (argv[i], "--json"))
            json = true;
        else {
            fprintf (stderr, "usage: gridctl audit [--since TIME] [--json]\n");
            return 2;
        }
    }
    gf_db_t *db = gridctl_connect (config);
    if (!db)
        return 1;
    const char *params[] = {since};
    PGresult *res = gf_db_exec (db, SQL_AUDIT, 1, params);
    int rc = 1;
    if (!res && streq (gf_db_sqlstate (db), "42501"))
        fprintf (stderr, "error: forbidden: reading the audit trail needs a database user in "
                         "the role gf_auditor\n");
    else if (!res && strncmp (gf_db_sqlstate (db), "22", 2) == 0)
        fprintf (stderr, "error: bad_value: --since '%s' is not a time\n", since);
    else if (!res)
        fprintf (stderr, "error: unavailable: cannot read the audit trail\n");
    else {
        for (int r = 0; r < PQntuples (res); r++) {
            if (json)
                printf ("%s\n", gf_db_get (res, r, "json"));
            else
                printf ("%s %s %s %s %s %s %s\n", gf_db_get (res, r, "id"),
                        gf_db_get (res, r, "at"), gf_db_get (res, r, "who"),
                        gf_db_get (res, r, "op"), gf_db_get (res, r, "tab"),
                        gf_db_get (res, r, "object"), gf_db_get (res, r, "change"));
        }
        if (!json)
            printf ("(%d entries)\n", PQntuples (res));
        rc = 0;
    }
    if (res)
        PQclear (res);
    gf_db_destroy (&db);
    return rc;
}
