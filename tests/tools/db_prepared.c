/*  db_prepared — gf_db's prepared statements against a real PostgreSQL
    (cmocka): a statement is prepared once per connection, again after the
    connection is lost, and again (under a new name) after a migration
    changed its result type.  Environment: GF_DB (a database where this
    user may create a table). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gf_db.h"
#include <string.h>

static const char *SQL_ADD = "SELECT $1::int + 1 AS v";
static const char *SQL_ROWS = "SELECT * FROM gfp_rows";
static const char *SQL_COUNT =
    "SELECT count (*) AS n FROM pg_prepared_statements WHERE statement = $1";

/*  The number in column of a one-row result (cleared). */
static long long s_number (PGresult *res, const char *column)
{
    assert_non_null (res);
    long long n = gf_db_get_ll (res, 0, column);
    PQclear (res);
    return n;
}

/*  How many statements with this text the handle's session has prepared. */
static long long s_prepared (gf_db_t *db, const char *sql)
{
    const char *params[] = {sql};
    return s_number (gf_db_exec (db, SQL_COUNT, 1, params), "n");
}

static long long s_add (gf_db_t *db, const char *value)
{
    const char *params[] = {value};
    return s_number (gf_db_exec_prepared (db, SQL_ADD, 1, params), "v");
}

/*  Ends the handle's session from the server's side, as a restart would. */
static void s_lose (gf_db_t *db)
{
    assert_null (gf_db_exec (db, "SELECT pg_terminate_backend (pg_backend_pid ())", 0, NULL));
    assert_true (gf_db_lost (db));
}

static void test_prepared_once (void **state)
{
    gf_db_t *db = gf_db_new (getenv ("GF_DB"), "db_prepared");
    assert_int_equal (s_prepared (db, SQL_ADD), 0);
    assert_int_equal (s_add (db, "1"), 2);
    assert_int_equal (s_add (db, "41"), 42);
    assert_int_equal (s_add (db, "-1"), 0);
    assert_int_equal (s_prepared (db, SQL_ADD), 1);
    gf_db_destroy (&db);
}

static void test_prepared_again_after_loss (void **state)
{
    gf_db_t *db = gf_db_new (getenv ("GF_DB"), "db_prepared");
    assert_int_equal (s_add (db, "1"), 2);
    s_lose (db);
    /* A new session knows no statement: prepared again, not "does not exist". */
    assert_int_equal (s_add (db, "2"), 3);
    assert_int_equal (s_prepared (db, SQL_ADD), 1);
    gf_db_destroy (&db);
}

static void test_stale_result_type (void **state)
{
    gf_db_t *db = gf_db_new (getenv ("GF_DB"), "db_prepared");
    assert_int_equal (gf_db_run (db, "DROP TABLE IF EXISTS gfp_rows", 0, NULL), 0);
    assert_int_equal (gf_db_run (db, "CREATE TABLE gfp_rows (a int)", 0, NULL), 0);
    assert_int_equal (gf_db_run (db, "INSERT INTO gfp_rows VALUES (7)", 0, NULL), 0);
    PGresult *res = gf_db_exec_prepared (db, SQL_ROWS, 0, NULL);
    assert_non_null (res);
    assert_int_equal (PQnfields (res), 1);
    PQclear (res);
    /* A migration changes what the statement returns. */
    assert_int_equal (gf_db_run (db, "ALTER TABLE gfp_rows ADD COLUMN b int", 0, NULL), 0);
    assert_null (gf_db_exec_prepared (db, SQL_ROWS, 0, NULL));
    assert_string_equal (gf_db_sqlstate (db), "0A000");
    assert_false (gf_db_lost (db));
    /* Reported once: the next call prepares it again, under a new name. */
    res = gf_db_exec_prepared (db, SQL_ROWS, 0, NULL);
    assert_non_null (res);
    assert_int_equal (PQnfields (res), 2);
    assert_string_equal (gf_db_get (res, 0, "a"), "7");
    PQclear (res);
    assert_int_equal (s_add (db, "9"), 10); /* the others too, and still correct */
    assert_int_equal (gf_db_run (db, "DROP TABLE gfp_rows", 0, NULL), 0);
    gf_db_destroy (&db);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_prepared_once),
        cmocka_unit_test (test_prepared_again_after_loss),
        cmocka_unit_test (test_stale_result_type),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
