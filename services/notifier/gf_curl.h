/*  gf_curl — runs a batch of libcurl transfers concurrently (curl multi)
    and reports how each one ended.  Shared by the HTTP-based drivers.
*/
#ifndef GF_CURL_H_INCLUDED
#define GF_CURL_H_INCLUDED

#include <curl/curl.h>
#include <stddef.h>

#include "gf_channel.h"

/*  Performs handles[0..n-1] (already set up), all at once, on multi (a
    driver keeps one, so connections are reused across batches), and
    returns when every transfer ended.  codes[i] gets its CURLcode,
    status[i] its HTTP or SMTP response code (0 if none). */
void gf_curl_perform (CURLM *multi, CURL **handles, size_t n, CURLcode *codes, long *status);

/*  The send result for a transfer that ended with code (not CURLE_OK):
    unreachable → GF_SEND_DOWN, anything else → GF_SEND_RETRY; with the
    reason in delivery->error. */
void gf_curl_fail (gf_delivery_t *delivery, CURLcode code);

#endif
