/*  gf-notifier — see gf_notifier.h. */
#include "gf_notifier.h"
#include "gf_service.h"

#include <curl/curl.h>

int main (int argc, char **argv)
{
    //  libcurl (and the OpenSSL it brings up) is initialised once, here,
    //  before any thread exists: curl_global_init is not thread-safe, and
    //  initialised in an actor thread it left that thread's OpenSSL state
    //  to be freed by a thread exit that can race the process exit (a
    //  904-byte LeakSanitizer report, seen once in the ASan pass).
    curl_global_init (CURL_GLOBAL_DEFAULT);
    int rc = gf_service_main ("gf-notifier", gf_notifier_actor, argc, argv);
    curl_global_cleanup ();
    return rc;
}
