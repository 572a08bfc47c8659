/*  gridctl — see gridctl.h and `gridctl help`. */
#include "gridctl.h"
#include "gf_case.h"

static const char *USAGE =
    "usage: gridctl [--config FILE] [--db CONNINFO] [--intake EP] [--pub EP] [--replay EP] "
    "COMMAND\n"
    "  db migrate [--dir DIR]        apply the SQL migrations not yet applied\n"
    "  grids import FILE             load categories, grids, people, addresses (JSON)\n"
    "  submit --source S --ref R --text T [--grid G] [--address A] [--category C]\n"
    "         [--name N] [--phone P] [--urgent]   submit one complaint\n"
    "  case show ID                  a case and its full timeline\n"
    "  case list [--grid PREFIX] [--state S] [--tier pending|hard|resolved] [--level N]\n"
    "            [--priority urgent|any|GROUP] [--supervised] [--from DATE] [--to DATE]\n"
    "  case ACTION ID --actor PERSON [--note T] [--department D] [--grid G] [--into ID]\n"
    "            [--satisfied yes|no] [--tier pending|hard] [--urgent yes|no]\n"
    "            [--groups a,b] [--version V] [--request-id R]\n"
    "       ACTION: sign progress refer reply resolve callback close reopen return\n"
    "               assign merge supervise classify\n"
    "  watch [PREFIX] [--grid G] [--once] [--count N] [--idle MS]\n"
    "                                dashboard: open/pending/hard/escalated/overdue per grid\n"
    "  watch [PREFIX] [--since SEQ] --json|--lines [--count N] [--idle MS]\n"
    "                                live events (replaying from SEQ first)\n"
    "  calendar import [FILE|DIR ...] load holiday-cn working calendars (default deploy/calendar)\n"
    "  calendar show YEAR-MM         a month of the working calendar (休 off, 班 make-up)\n"
    "  clock show | set TIME [--force] | advance INTERVAL [--force] | real [--force]\n"
    "                                the clock every service reads (simulated when set;\n"
    "                                set/advance need clock/simulated = on)\n"
    "  escalation plan --at TIME [--grid PREFIX]\n"
    "                                what would escalate at TIME and why (changes nothing)\n"
    "  meeting list [--grid PREFIX] [--kind weekly|monthly|consultation] [--limit N]\n"
    "  meeting call --grid L1 --topic TEXT [--at TIME]   a consultation meeting (民情征询会)\n"
    "  meeting show ID               agenda with decisions and outcomes, attendees, minutes\n"
    "  meeting ACTION ID --actor PERSON [--person P | --name N --role R] [--case C\n"
    "            --decision K [--deadline TIME] [--department D] [--owner P] [--note T]\n"
    "            [--consultation M]] [--text T] [--speaker S --opinion O [--response R]]\n"
    "            [--request-id R]   ACTION: attend decide minutes close opinion\n"
    "  household import FILE         the register from JSON (operator path, audited)\n"
    "  household show ID | history ID | due GRID   a household, its changes, visits due\n"
    "  household register ID --actor P [--grid G --address A --head-name N --phone T\n"
    "      --members JSON --version V]   create or update, through the intake\n"
    "  household group ID --actor P --add|--end GROUP [--from|--to DATE --source S]\n"
    "  people history PERSON | --grid GRID    roles over time (who led which grid when)\n"
    "  people edit PERSON --roles JSON   a person's extra roles ([{grid, role, team?, "
    "home_unit?}])\n"
    "  ledger show --meeting ID [--format table|csv|json]\n"
    "  report monthly [--grid L1] [--month YYYY-MM] [--format table|csv|json]\n"
    "  notify stats | dead [--limit N] | redrive ID...|--all | token PERSON\n"
    "                                the delivery outbox: counts, dead letters, app tokens\n"
    "  cert server FILE | new NAME --kind adapter|staff|subscriber|app --grid G [--sources a,b]\n"
    "       [--topics p,q] [--person P] --out FILE | list | revoke NAME\n"
    "                                CurveZMQ identities (--certs DIR)\n"

    "  status [--meetings N] [--bus-wait MS]\n"
    "                                services (heartbeats), bus, consumers, next meetings\n"
    "  audit [--since TIME] [--json] the audit trail of administration (gf_auditor)\n"
    "  --actor NAME (or GF_ACTOR) with any administrative command: who acts, recorded\n"
    "                                in the audit trail with the OS and database users\n";

int main (int argc, char **argv)
{
    /* Each command validates its own options; the config takes the shared ones. */
    const char *const extra[] = {"*", NULL};
    gf_config_t *config = gf_config_new (&argc, argv, extra);
    if (!config)
        return 2;
    zsys_init ();
    zsys_set_logident ("gridctl");
    zsys_set_logstream (stderr);
    gf_db_configure (config);
    int rc = 2;
    const char *a1 = argc > 1 ? argv[1] : "";
    /* --actor names the person behind an administrative command for the
       audit trail; `case ACTION` keeps its own --actor (the staff member). */
    const char *actor = getenv ("GF_ACTOR");
    bool staff_act = streq (a1, "case") ||
                     (streq (a1, "meeting") && argc > 2 && gridctl_meeting_is_action (argv[2])) ||
                     (streq (a1, "household") && argc > 2 &&
                      (streq (argv[2], "register") || streq (argv[2], "group")));
    if (!staff_act) {
        int kept = 1;
        for (int i = 1; i < argc; i++) {
            if (streq (argv[i], "--actor") && i + 1 < argc)
                actor = argv[++i];
            else
                argv[kept++] = argv[i];
        }
        argc = kept;
        argv[argc] = NULL;
        a1 = argc > 1 ? argv[1] : "";
    } else
        for (int i = 1; i + 1 < argc; i++)
            if (streq (argv[i], "--actor"))
                actor = argv[i + 1];
    const char *a2 = argc > 2 ? argv[2] : "";
    char command[128];
    snprintf (command, sizeof command, "%s%s%s", a1, *a2 && *a2 != '-' ? " " : "",
              *a2 != '-' ? a2 : "");
    gridctl_set_actor (actor, command);
    if (streq (a1, "db") && streq (a2, "migrate"))
        rc = gridctl_db_migrate (config, argc - 3, argv + 3);
    else if (streq (a1, "grids") && streq (a2, "import"))
        rc = gridctl_grids_import (config, argc - 3, argv + 3);
    else if (streq (a1, "submit"))
        rc = gridctl_submit (config, argc - 2, argv + 2);
    else if (streq (a1, "case") && streq (a2, "show"))
        rc = gridctl_case_show (config, argc - 3, argv + 3);
    else if (streq (a1, "case") && streq (a2, "list"))
        rc = gridctl_case_list (config, argc - 3, argv + 3);
    else if (streq (a1, "case") && gf_case_action_from_name (a2) >= 0)
        rc = gridctl_case_act (config, a2, argc - 3, argv + 3);
    else if (streq (a1, "calendar") && streq (a2, "import"))
        rc = gridctl_calendar_import (config, argc - 3, argv + 3);
    else if (streq (a1, "calendar") && streq (a2, "show"))
        rc = gridctl_calendar_show (config, argc - 3, argv + 3);
    else if (streq (a1, "clock"))
        rc = gridctl_clock (config, argc - 2, argv + 2);
    else if (streq (a1, "escalation") && streq (a2, "plan"))
        rc = gridctl_escalation_plan (config, argc - 3, argv + 3);
    else if (streq (a1, "ledger") && streq (a2, "show"))
        rc = gridctl_ledger_show (config, argc - 3, argv + 3);
    else if (streq (a1, "report") && streq (a2, "monthly"))
        rc = gridctl_report_monthly (config, argc - 3, argv + 3);
    else if (streq (a1, "meeting") && streq (a2, "list"))
        rc = gridctl_meeting_list (config, argc - 3, argv + 3);
    else if (streq (a1, "meeting") && streq (a2, "call"))
        rc = gridctl_meeting_call (config, argc - 3, argv + 3);
    else if (streq (a1, "meeting") && streq (a2, "show"))
        rc = gridctl_meeting_show (config, argc - 3, argv + 3);
    else if (streq (a1, "meeting") && gridctl_meeting_is_action (a2))
        rc = gridctl_meeting_act (config, a2, argc - 3, argv + 3);
    else if (streq (a1, "household") && streq (a2, "import"))
        rc = gridctl_household_import (config, argc - 3, argv + 3);
    else if (streq (a1, "household") && streq (a2, "show"))
        rc = gridctl_household_show (config, argc - 3, argv + 3);
    else if (streq (a1, "household") && streq (a2, "history"))
        rc = gridctl_household_history (config, argc - 3, argv + 3);
    else if (streq (a1, "household") && streq (a2, "due"))
        rc = gridctl_household_due (config, argc - 3, argv + 3);
    else if (streq (a1, "household") && (streq (a2, "register") || streq (a2, "group")))
        rc = gridctl_household_act (config, a2, argc - 3, argv + 3);
    else if (streq (a1, "people"))
        rc = gridctl_people (config, argc - 2, argv + 2);
    else if (streq (a1, "notify"))
        rc = gridctl_notify (config, argc - 2, argv + 2);
    else if (streq (a1, "cert"))
        rc = gridctl_cert (config, argc - 2, argv + 2);
    else if (streq (a1, "audit"))
        rc = gridctl_audit (config, argc - 2, argv + 2);
    else if (streq (a1, "status"))
        rc = gridctl_status (config, argc - 2, argv + 2);
    else if (streq (a1, "watch"))
        rc = gridctl_watch (config, argc - 2, argv + 2);
    else if (streq (a1, "help") || streq (a1, "")) {
        fputs (USAGE, streq (a1, "help") ? stdout : stderr);
        rc = streq (a1, "help") ? 0 : 2;
    } else
        fprintf (stderr, "error: unknown command '%s %s'\n%s", a1, a2, USAGE);
    gf_config_destroy (&config);
    return rc;
}
