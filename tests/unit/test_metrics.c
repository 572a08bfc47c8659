/*  gf_metrics: the registry, its Prometheus text, readiness; gf_config:
    the file, precedence and refusals.  (HTTP is tested end to end in
    tests/e2e/test_ops_status.sh.) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <czmq.h>

#include "gf_config.h"
#include "gf_metrics.h"

static void test_counter_handles_are_stable_and_add (void **state)
{
    gf_metric_t *a = gf_metrics_counter ("gf_test_things_total", "code=\"a\"");
    gf_metric_t *b = gf_metrics_counter ("gf_test_things_total", "code=\"b\"");
    assert_ptr_equal (a, gf_metrics_counter ("gf_test_things_total", "code=\"a\""));
    assert_ptr_not_equal (a, b);
    gf_metric_add (a, 3);
    gf_metrics_inc ("gf_test_things_total", "code=\"a\"", 2);
    gf_metric_add (b, 1);
    assert_int_equal (gf_metrics_value ("gf_test_things_total", "code=\"a\""), 5);
    assert_int_equal (gf_metrics_value ("gf_test_things_total", "code=\"b\""), 1);
    assert_int_equal (gf_metrics_value ("gf_test_unknown", NULL), 0);
}

static void *s_adder (void *arg)
{
    gf_metric_t *m = (gf_metric_t *)arg;
    for (int i = 0; i < 100000; i++)
        gf_metric_add (m, 1);
    return NULL;
}

static void test_counters_are_thread_safe (void **state)
{
    gf_metric_t *m = gf_metrics_counter ("gf_test_parallel_total", NULL);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create (&t[i], NULL, s_adder, m);
    for (int i = 0; i < 4; i++)
        pthread_join (t[i], NULL);
    assert_int_equal (gf_metrics_value ("gf_test_parallel_total", NULL), 400000);
}

static void test_render_groups_by_name_with_type (void **state)
{
    gf_metrics_set ("gf_test_gauge", NULL, -7);
    gf_metric_t *h = gf_metrics_histogram ("gf_test_seconds", NULL);
    gf_metric_observe (h, 0.003);
    gf_metric_observe (h, 2.0);
    char *text = gf_metrics_render ();
    assert_non_null (text);
    assert_non_null (strstr (text, "# TYPE gf_test_things_total counter\n"
                                   "gf_test_things_total{code=\"a\"} 5\n"
                                   "gf_test_things_total{code=\"b\"} 1\n"));
    assert_non_null (strstr (text, "# TYPE gf_test_gauge gauge\ngf_test_gauge -7\n"));
    assert_non_null (strstr (text, "gf_test_seconds_bucket{le=\"0.001\"} 0\n"));
    assert_non_null (strstr (text, "gf_test_seconds_bucket{le=\"0.005\"} 1\n"));
    assert_non_null (strstr (text, "gf_test_seconds_bucket{le=\"1\"} 1\n"));
    assert_non_null (strstr (text, "gf_test_seconds_bucket{le=\"5\"} 2\n"));
    assert_non_null (strstr (text, "gf_test_seconds_bucket{le=\"+Inf\"} 2\n"));
    assert_non_null (strstr (text, "gf_test_seconds_sum 2.003000\ngf_test_seconds_count 2\n"));
    /* One TYPE line per name. */
    char *second =
        strstr (strstr (text, "# TYPE gf_test_things_total") + 1, "# TYPE gf_test_things_total");
    assert_null (second);
    free (text);
    char *json = gf_metrics_json ();
    assert_non_null (strstr (json, "\"gf_test_things_total{code=\\\"a\\\"}\":5"));
    assert_null (strstr (json, "gf_test_seconds")); /* histograms are not in the heartbeat */
    free (json);
}

static void test_readiness_is_every_condition (void **state)
{
    assert_true (gf_metrics_is_ready ());
    gf_metrics_ready ("db:test", false);
    gf_metrics_ready ("publishing", true);
    assert_false (gf_metrics_is_ready ());
    char *text = gf_metrics_render ();
    assert_non_null (strstr (text, "gf_ready 0\n"));
    free (text);
    gf_metrics_ready ("db:test", true);
    assert_true (gf_metrics_is_ready ());
}

/*  Writes a config file; returns its path (static buffer). */
static const char *s_file (const char *content)
{
    static char path[] = "/tmp/gf_test_config_XXXXXX";
    strcpy (path, "/tmp/gf_test_config_XXXXXX");
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, content, strlen (content)), (ssize_t)strlen (content));
    close (fd);
    return path;
}

static gf_config_t *s_config (const char *file, const char *option, const char *value)
{
    static char prog[] = "prog", config[] = "--config";
    char *argv[8] = {prog};
    int argc = 1;
    if (file) {
        argv[argc++] = config;
        argv[argc++] = (char *)file;
    }
    if (option) {
        argv[argc++] = (char *)option;
        argv[argc++] = (char *)value;
    }
    argv[argc] = NULL;
    return gf_config_new (&argc, argv, NULL);
}

static void test_config_precedence (void **state)
{
    unsetenv ("GF_BATCH");
    unsetenv ("GF_CONFIG");
    const char *path = s_file ("work\n    batch = 7\nservice\n    drain = 1500\n");
    gf_config_t *c = s_config (NULL, NULL, NULL);
    assert_int_equal (c->batch, 500);
    assert_int_equal (c->drain_ms, 4000);
    gf_config_destroy (&c);
    c = s_config (path, NULL, NULL);
    assert_int_equal (c->batch, 7);
    assert_int_equal (c->drain_ms, 1500);
    gf_config_destroy (&c);
    setenv ("GF_BATCH", "8", 1);
    c = s_config (path, NULL, NULL);
    assert_int_equal (c->batch, 8);
    gf_config_destroy (&c);
    c = s_config (path, "--batch", "9");
    assert_int_equal (c->batch, 9);
    gf_config_destroy (&c);
    unsetenv ("GF_BATCH");
    unlink (path);
}

static void test_config_refusals (void **state)
{
    const char *bad[] = {"work\n    batchh = 7\n",       "nope\n    x = 1\n",
                         "metrics\n    port = -1\n",     "bus\n    pub = \"localhost:1\"\n",
                         "log\n    target = \"file\"\n", "work\n  batch = 1\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *path = s_file (bad[i]);
        gf_config_t *c = s_config (path, NULL, NULL);
        assert_null (c);
        unlink (path);
    }
    assert_null (s_config ("/nonexistent/gridflow.cfg", NULL, NULL));
    assert_null (s_config (NULL, "--drain", "99"));
}

static void test_config_reload_applies_reloadable_keys_only (void **state)
{
    const char *path = s_file ("work\n    batch = 7\n");
    gf_config_t *c = s_config (path, NULL, NULL);
    assert_non_null (c);
    FILE *f = fopen (path, "w");
    fputs ("work\n    batch = 70\nlog\n    verbose = 1\nservice\n    drain = 2000\n", f);
    fclose (f);
    assert_int_equal (gf_config_reload (c), 0);
    assert_int_equal (c->batch, 7); /* needs a restart */
    assert_true (c->verbose);
    assert_int_equal (c->drain_ms, 2000);
    f = fopen (path, "w");
    fputs ("service\n    drain = 5\n", f);
    fclose (f);
    assert_int_equal (gf_config_reload (c), -1);
    assert_int_equal (c->drain_ms, 2000); /* unchanged */
    gf_config_destroy (&c);
    unlink (path);
}

int main (void)
{
    zsys_init ();
    zsys_set_logstream (NULL); /* the refusals print on stderr; keep zsys quiet */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_counter_handles_are_stable_and_add),
        cmocka_unit_test (test_counters_are_thread_safe),
        cmocka_unit_test (test_render_groups_by_name_with_type),
        cmocka_unit_test (test_readiness_is_every_condition),
        cmocka_unit_test (test_config_precedence),
        cmocka_unit_test (test_config_refusals),
        cmocka_unit_test (test_config_reload_applies_reloadable_keys_only),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
