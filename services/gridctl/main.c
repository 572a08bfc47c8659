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
    "            [--groups a,b] [--category C] [--reason invalid|duplicate|out_of_jurisdiction]\n"
    "            [--version V] [--request-id R]\n"
    "            [--contact NAME] [--received-at TIME] [--deadline TIME]\n"
    "       ACTION: sign progress refer reply resolve callback close reopen return\n"
    "               assign merge supervise classify receipt reject unreject\n"
    "       (refer --department CODE [--deadline TIME]; receipt --contact NAME\n"
    "        [--received-at TIME]: the department's 签收)\n"
    "  case attach ID --actor P --file F [--public] [--for REQUEST] [--note T]\n"
    "                                evidence (JPEG, PNG, WebP, PDF) through the intake\n"
    "  case attachment get ATT --actor P --out FILE   for staff whose grid holds the case\n"
    "  case export ID --out FILE     a closed case as one archive (tar.gz: timeline, referrals,\n"
    "                                attachments, manifest.json with sha256 of each file)\n"
    "  department add CODE --name N [--contact C] [--phone P] [--root L1] [--days N]\n"
    "  department list | import FILE  the departments cases are referred to (代访)\n"
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
    "  patrol log --actor P --grid G [--at TIME] [--place X]... [--finding F]... | "
    "--nothing-found\n"
    "            [--member P]... [--note T] [--request-id R]      日巡查 (patrol.logged)\n"
    "  visit log --actor P --household H [--at TIME] [--learned T] [--done T]... [--note T]\n"
    "            [--follow-up TEXT [--category C] [--urgent]] [--request-id R]   走访\n"
    "  selfcheck log --actor P --grid L3 --item CODE=ok|issue... [--at TIME] [--note T]  周自查\n"
    "  patrol missed --grid G [--from DAY] [--to DAY]   L3 grids without a patrol on a working "
    "day\n"
    "  visit overdue --grid G        special households whose visit is due\n"
    "  link open|close, thing done, pair open|review|close, relief record,\n"
    "  rating open|score|publish, campaign open|target|item, helper assign\n"
    "      --actor PERSON [--household H] [--person P] [--grid G] [--kind K] [--note T]\n"
    "      [--goal T] [--outcome O] [--criterion C] [--campaign C] [--team T] [--subject S]\n"
    "      [--name N] [--date YYYY-MM-DD] [--link N] [--pair N] [--case N] [--visit N]\n"
    "      [--round N] [--score N] [--qty N] [--target N]   programme.action (issue 15)\n"
    "  link list --grid G | rating show ROUND | rating show public | campaign show [--grid L1]\n"
    "  programmes                    the dashboard's programme figures (JSON)\n"
    "  household import FILE         the register from JSON (operator path, audited)\n"
    "  household show ID | history ID | due GRID   a household, its changes, visits due\n"
    "  household register ID --actor P [--grid G --address A --head-name N --phone T\n"
    "      --members JSON --version V]   create or update, through the intake\n"
    "  household group ID --actor P --add|--end GROUP [--from|--to DATE --source S]\n"
    "  people history PERSON | --grid GRID    roles over time (who led which grid when)\n"
    "  people edit PERSON --roles JSON   a person's extra roles ([{grid, role, team?, "
    "home_unit?}])\n"
    "  ledger show --meeting ID [--format table|csv|json]\n"
    "  ledger agenda --meeting ID [--format table|json]\n"
    "                                a meeting's agenda by category and priority, why each\n"
    "                                case is on it, the decision that carried or reported it\n"
    "  report monthly [--grid L1] [--month YYYY-MM] [--format table|csv|json]\n"
    "  report indicators [--grid L1] [--month YYYY-MM] [--format table|csv|json]\n"
    "  city status [--stale-after S] [--format table|csv]\n"
    "  city report [--month YYYY-MM] [--stale-after S] [--format table|csv]\n"
    "                                a city above the districts (GF_DB: the city's database;\n"
    "                                deploy/city.sh): how fresh each district is, the\n"
    "                                districts' monthly reports added up\n"
    "  notify stats | dead [--limit N] | redrive ID...|--all | token PERSON\n"
    "                                the delivery outbox: counts, dead letters, app tokens\n"
    "  cert server FILE | new NAME --kind adapter|staff|subscriber|app|department|workbench --grid "
    "G\n"
    "       [--sources a,b] [--topics p,q] [--person P] [--department CODE] --out FILE\n"
    "       | list | revoke NAME\n"
    "                                CurveZMQ identities (--certs DIR)\n"

    "  status [--meetings N] [--bus-wait MS]\n"
    "                                services (heartbeats), bus, consumers, next meetings\n"
    "  user add|reset PERSON [--password-stdin] | disable PERSON | list [--grid G]\n"
    "       | import --from-directory [--grid G] [--out FILE] | totp-key FILE\n"
    "       | totp PERSON --key FILE.pub\n"
    "                                staff accounts for the workbench (Argon2id; issue 16)\n"
    "  kiosk add --grid G --label L [--expires TIME] | list [--grid G] | revoke ID\n"
    "                                read-only dashboard tokens for big screens (issue 16)\n"
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
                     (argc > 2 && gridctl_field_is_log (a1, argv[2])) ||
                     (argc > 2 && gridctl_programme_action (a1, argv[2])) ||
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
    else if (streq (a1, "case") && streq (a2, "attach"))
        rc = gridctl_case_attach (config, argc - 3, argv + 3);
    else if (streq (a1, "case") && streq (a2, "export"))
        rc = gridctl_case_export (config, argc - 3, argv + 3);
    else if (streq (a1, "case") && streq (a2, "attachment"))
        rc = gridctl_case_attachment (config, argc - 3, argv + 3);
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
    else if (streq (a1, "ledger") && streq (a2, "agenda"))
        rc = gridctl_ledger_agenda (config, argc - 3, argv + 3);
    else if (streq (a1, "report") && streq (a2, "monthly"))
        rc = gridctl_report_monthly (config, argc - 3, argv + 3);
    else if (streq (a1, "city"))
        rc = gridctl_city (config, argc - 2, argv + 2);
    else if (streq (a1, "report") && streq (a2, "indicators"))
        rc = gridctl_report_indicators (config, argc - 3, argv + 3);
    else if (streq (a1, "meeting") && streq (a2, "list"))
        rc = gridctl_meeting_list (config, argc - 3, argv + 3);
    else if (streq (a1, "meeting") && streq (a2, "call"))
        rc = gridctl_meeting_call (config, argc - 3, argv + 3);
    else if (streq (a1, "meeting") && streq (a2, "show"))
        rc = gridctl_meeting_show (config, argc - 3, argv + 3);
    else if (gridctl_programme_action (a1, a2))
        rc = gridctl_programme_act (config, gridctl_programme_action (a1, a2), argc - 3, argv + 3);
    else if ((streq (a1, "link") && streq (a2, "list")) ||
             (streq (a1, "rating") && streq (a2, "show")) ||
             (streq (a1, "campaign") && streq (a2, "show")) || (streq (a1, "programmes") && !*a2))
        rc = gridctl_programme_show (config, a1, argc - 3, argv + 3);
    else if (streq (a1, "meeting") && gridctl_meeting_is_action (a2))
        rc = gridctl_meeting_act (config, a2, argc - 3, argv + 3);
    else if (gridctl_field_is_log (a1, a2))
        rc = gridctl_field_log (config, a1, argc - 3, argv + 3);
    else if ((streq (a1, "patrol") && streq (a2, "missed")) ||
             (streq (a1, "visit") && streq (a2, "overdue")))
        rc = gridctl_field_show (config, a1, argc - 3, argv + 3);
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
    else if (streq (a1, "user"))
        rc = gridctl_user (config, argc - 2, argv + 2);
    else if (streq (a1, "kiosk"))
        rc = gridctl_kiosk (config, argc - 2, argv + 2);
    else if (streq (a1, "department"))
        rc = gridctl_department (config, argc - 2, argv + 2);
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
