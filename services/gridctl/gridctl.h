/*  gridctl — the command-line tool for people and operators.
    Each command is one function taking the shared config and the
    remaining arguments; it returns the process exit code
    (0 ok, 1 failure, 2 usage). */
#ifndef GRIDCTL_H_INCLUDED
#define GRIDCTL_H_INCLUDED

#include <czmq.h>
#include "gf_config.h"
#include "gf_db.h"
#include "gf_proto.h"

int gridctl_db_migrate (gf_config_t *config, int argc, char **argv);
int gridctl_grids_import (gf_config_t *config, int argc, char **argv);
int gridctl_submit (gf_config_t *config, int argc, char **argv);
int gridctl_case_show (gf_config_t *config, int argc, char **argv);
int gridctl_case_list (gf_config_t *config, int argc, char **argv);
/*  A staff action (sign, resolve, ...) on a case, through the intake. */
int gridctl_case_act (gf_config_t *config, const char *action, int argc, char **argv);
int gridctl_watch (gf_config_t *config, int argc, char **argv);
int gridctl_calendar_import (gf_config_t *config, int argc, char **argv);
int gridctl_calendar_show (gf_config_t *config, int argc, char **argv);
int gridctl_clock (gf_config_t *config, int argc, char **argv);
int gridctl_escalation_plan (gf_config_t *config, int argc, char **argv);
int gridctl_ledger_show (gf_config_t *config, int argc, char **argv);
int gridctl_ledger_agenda (gf_config_t *config, int argc, char **argv);
int gridctl_report_monthly (gf_config_t *config, int argc, char **argv);
int gridctl_report_indicators (gf_config_t *config, int argc, char **argv);
/*  A city above the districts: city status|report (gridctl_city.c). */
int gridctl_city (gf_config_t *config, int argc, char **argv);
int gridctl_meeting_list (gf_config_t *config, int argc, char **argv);
int gridctl_meeting_call (gf_config_t *config, int argc, char **argv);
/*  A meeting's record (agenda, decisions and outcomes, attendees, minutes),
    and the staff's actions on it through the intake (gridctl_meeting.c). */
int gridctl_meeting_show (gf_config_t *config, int argc, char **argv);
bool gridctl_meeting_is_action (const char *action);
int gridctl_meeting_act (gf_config_t *config, const char *action, int argc, char **argv);
/*  Field work (issue 15, gridctl_field.c): patrol|visit|selfcheck log
    through the intake; patrol missed, visit overdue (what L2 is shown). */
bool gridctl_field_is_log (const char *what, const char *verb);
int gridctl_field_log (gf_config_t *config, const char *what, int argc, char **argv);
int gridctl_field_show (gf_config_t *config, const char *what, int argc, char **argv);
/*  The delivery outbox: dead letters, redrive, counts, app tokens. */
/*  The household register and the versioned directory (issue 15,
    gridctl_household.c). */
int gridctl_household_import (gf_config_t *config, int argc, char **argv);
int gridctl_household_show (gf_config_t *config, int argc, char **argv);
int gridctl_household_history (gf_config_t *config, int argc, char **argv);
int gridctl_household_due (gf_config_t *config, int argc, char **argv);
int gridctl_household_act (gf_config_t *config, const char *what, int argc, char **argv);
int gridctl_people (gf_config_t *config, int argc, char **argv);
int gridctl_notify (gf_config_t *config, int argc, char **argv);

/*  A request id for a staff command ("gridctl-PID-USECS") into id. */
void gridctl_request_id (char *id, size_t size);
/*  Sends *body_p (consumed; id: its request id) to the intake and waits
    for its reply, resending as gf_client_request does.  Returns 0 with
    reply filled, or 1 after printing that the intake did not answer. */
int gridctl_request (gf_config_t *config, zframe_t **body_p, const char *id, gf_reply_t *reply,
                     int timeout_ms);

/*  A database connection, or NULL after printing why. */
gf_db_t *gridctl_connect (gf_config_t *config);
/*  A database handle (gf_db_new) whose session names, for the audit trail,
    the OS user, the actor and the command given to gridctl_set_actor
    (gridctl_audit.c). */
gf_db_t *gridctl_db_new (gf_config_t *config);
void gridctl_set_actor (const char *actor, const char *command);
/*  The audit trail, for members of gf_auditor. */
int gridctl_audit (gf_config_t *config, int argc, char **argv);
int gridctl_cert (gf_config_t *config, int argc, char **argv);
int gridctl_department (gf_config_t *config, int argc, char **argv);
/*  Staff accounts: user add|reset|disable|list (gridctl_user.c). */
int gridctl_user (gf_config_t *config, int argc, char **argv);
/*  Kiosk tokens: kiosk add|list|revoke (gridctl_kiosk.c). */
int gridctl_kiosk (gf_config_t *config, int argc, char **argv);
int gridctl_case_attach (gf_config_t *config, int argc, char **argv);
int gridctl_case_attachment (gf_config_t *config, int argc, char **argv);
int gridctl_case_export (gf_config_t *config, int argc, char **argv);
/*  The programmes of grid work (issue 15, gridctl_programme.c): the
    programme.action for (command, verb) or NULL; sending one; reading
    links, a rating round, campaigns, the dashboard's figures. */
const char *gridctl_programme_action (const char *command, const char *verb);
int gridctl_programme_act (gf_config_t *config, const char *action, int argc, char **argv);
int gridctl_programme_show (gf_config_t *config, const char *command, int argc, char **argv);
/*  Services, bus, consumers, dead letters, next meetings (gridctl_status.c). */
int gridctl_status (gf_config_t *config, int argc, char **argv);

/*  A data directory (caller frees): $env if set, else deploy/NAME next to
    the binary's tree (a build), share/gridflow/NAME (an install), else
    deploy/NAME relative to the current directory. */
char *gridctl_data_dir (const char *env, const char *name);

/*  Reads a whole file (NUL-terminated; caller frees), or NULL with errno. */
char *gridctl_read_file (const char *path, size_t *size);

#endif
