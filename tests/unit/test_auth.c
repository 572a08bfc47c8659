/*  gf_auth: CurveZMQ on a ROUTER as the intake sets it up — who gets
    through the handshake, and which key each message carries. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gf_auth.h"

static char s_dir[64];    /* scratch directory               */
static char s_store[128]; /* the client certificate directory */

static int s_setup (void **state)
{
    snprintf (s_dir, sizeof s_dir, "/tmp/gf_test_auth.XXXXXX");
    if (!mkdtemp (s_dir))
        return -1;
    snprintf (s_store, sizeof s_store, "%s/clients", s_dir);
    return zsys_dir_create (s_store);
}

static int s_teardown (void **state)
{
    zdir_t *dir = zdir_new (s_dir, NULL);
    if (dir)
        zdir_remove (dir, true);
    zdir_destroy (&dir);
    return 0;
}

/*  A config as gf_config_new would make it (only the keys gf_auth reads). */
static gf_config_t *s_config (const char *curve, const char *cert, const char *certs)
{
    gf_config_t *config = (gf_config_t *)zmalloc (sizeof (gf_config_t));
    config->curve = (char *)curve;
    config->cert = (char *)cert;
    config->certs = (char *)certs;
    return config;
}

static void test_local_endpoints (void **state)
{
    assert_true (gf_auth_is_local ("tcp://127.0.0.1:5570"));
    assert_true (gf_auth_is_local ("tcp://localhost:5570"));
    assert_true (gf_auth_is_local ("tcp://[::1]:5570"));
    assert_true (gf_auth_is_local ("ipc:///run/gridflow/intake"));
    assert_true (gf_auth_is_local ("inproc://intake"));
    assert_false (gf_auth_is_local ("tcp://*:5570"));
    assert_false (gf_auth_is_local ("tcp://0.0.0.0:5570"));
    assert_false (gf_auth_is_local ("tcp://10.1.2.3:5570"));
    assert_false (gf_auth_is_local ("tcp://127.0.0.1.evil.example:5570"));
}

static void test_plain_only_on_loopback (void **state)
{
    gf_config_t *config = s_config ("off", "", "");
    zsock_t *sock = zsock_new (ZMQ_ROUTER);
    gf_auth_t *auth = gf_auth_server_new (sock, config, "tcp://0.0.0.0:5570");
    assert_null (auth);
    auth = gf_auth_server_new (sock, config, "tcp://127.0.0.1:5570");
    assert_non_null (auth);
    assert_false (gf_auth_curve (auth));
    gf_auth_destroy (&auth);
    gf_auth_destroy (&auth); /* idempotent */
    zsock_destroy (&sock);
    free (config);
}

static void test_curve_needs_certificates (void **state)
{
    zsock_t *sock = zsock_new (ZMQ_ROUTER);
    gf_config_t *config = s_config ("on", "", "");
    assert_null (gf_auth_server_new (sock, config, "tcp://127.0.0.1:5570"));
    free (config);
    /* A public certificate alone is not a server certificate. */
    char path[160];
    snprintf (path, sizeof path, "%s/public-only.cert", s_dir);
    zcert_t *cert = zcert_new ();
    assert_int_equal (zcert_save_public (cert, path), 0);
    zcert_destroy (&cert);
    config = s_config ("on", path, s_store);
    assert_null (gf_auth_server_new (sock, config, "tcp://127.0.0.1:5570"));
    free (config);
    config = s_config ("maybe", path, s_store);
    assert_null (gf_auth_server_new (sock, config, "tcp://127.0.0.1:5570"));
    free (config);
    zsock_destroy (&sock);
}

static void test_client_needs_both_certificates (void **state)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    assert_int_equal (gf_auth_client_apply (sock, NULL, NULL), 0); /* plain */
    assert_int_equal (gf_auth_client_apply (sock, "", ""), 0);
    assert_int_equal (gf_auth_client_apply (sock, "/nonexistent", NULL), -1);
    assert_int_equal (gf_auth_client_apply (sock, NULL, "/nonexistent"), -1);
    assert_int_equal (gf_auth_client_apply (sock, "/nonexistent", "/nonexistent"), -1);
    zsock_destroy (&sock);
}

/*  Sends "hello" from a DEALER with the given certificate (NULL: plain)
    and returns the key the server saw (caller frees), "" if the message
    came without one, or NULL if nothing came within wait_ms. */
static char *s_exchange (zsock_t *server, int port, const char *cert, const char *server_cert,
                         int wait_ms)
{
    zsock_t *client = zsock_new (ZMQ_DEALER);
    zsock_set_linger (client, 0);
    assert_int_equal (gf_auth_client_apply (client, cert, server_cert), 0);
    zsock_connect (client, "tcp://127.0.0.1:%d", port);
    zstr_send (client, "hello");
    zpoller_t *poller = zpoller_new (server, NULL);
    char *seen = NULL;
    if (zpoller_wait (poller, wait_ms) == server) {
        zmsg_t *msg = zmsg_recv (server);
        const char *uid = gf_auth_user_id (zmsg_last (msg));
        seen = strdup (uid ? uid : "");
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&client);
    return seen;
}

static void test_curve_handshake_and_user_id (void **state)
{
    char server_path[160], known_path[160], unknown_path[160], store_path[192];
    snprintf (server_path, sizeof server_path, "%s/server.cert", s_dir);
    snprintf (known_path, sizeof known_path, "%s/known.cert", s_dir);
    snprintf (unknown_path, sizeof unknown_path, "%s/unknown.cert", s_dir);
    snprintf (store_path, sizeof store_path, "%s/known.cert", s_store);
    zcert_t *server_cert = zcert_new (), *known = zcert_new (), *unknown = zcert_new ();
    assert_int_equal (zcert_save (server_cert, server_path), 0);
    assert_int_equal (zcert_save (known, known_path), 0);
    assert_int_equal (zcert_save (unknown, unknown_path), 0);
    assert_int_equal (zcert_save_public (known, store_path), 0);

    gf_config_t *config = s_config ("on", server_path, s_store);
    zsock_t *server = zsock_new (ZMQ_ROUTER);
    gf_auth_t *auth = gf_auth_server_new (server, config, "tcp://127.0.0.1:*");
    assert_non_null (auth);
    assert_true (gf_auth_curve (auth));
    int port = zsock_bind (server, "tcp://127.0.0.1:*");
    assert_true (port > 0);

    /* A known key gets through, and every message names it. */
    /* Generous for the handshake under valgrind on a loaded machine. */
    char *seen = s_exchange (server, port, known_path, server_path, 10000);
    assert_non_null (seen);
    assert_string_equal (seen, zcert_public_txt (known));
    free (seen);
    /* An unknown key and a plain client never do. */
    assert_null (s_exchange (server, port, unknown_path, server_path, 1500));
    assert_null (s_exchange (server, port, NULL, NULL, 1500));
    /* Revocation: the certificate leaves the directory. */
    assert_int_equal (zsys_file_delete (store_path), 0);
    zclock_sleep (1100); /* the store notices a changed directory by its time stamp */
    assert_null (s_exchange (server, port, known_path, server_path, 1500));

    zsock_destroy (&server);
    gf_auth_destroy (&auth);
    free (config);
    zcert_destroy (&server_cert);
    zcert_destroy (&known);
    zcert_destroy (&unknown);
}

int main (void)
{
    zsys_init ();
    zsys_set_logstream (NULL); /* the refusals are logged; keep TAP output clean */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_local_endpoints),
        cmocka_unit_test (test_plain_only_on_loopback),
        cmocka_unit_test (test_curve_needs_certificates),
        cmocka_unit_test (test_client_needs_both_certificates),
        cmocka_unit_test (test_curve_handshake_and_user_id),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
