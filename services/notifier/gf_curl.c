/*  gf_curl — concurrent libcurl transfers for the channel drivers. */
#include "gf_curl.h"

#include <stdio.h>
#include <stdlib.h>

void gf_curl_perform (CURLM *multi, CURL **handles, size_t n, CURLcode *codes, long *status)
{
    for (size_t i = 0; i < n; i++) {
        codes[i] = CURLE_FAILED_INIT;
        status[i] = 0;
        curl_easy_setopt (handles[i], CURLOPT_PRIVATE, (void *)(uintptr_t)i);
        curl_multi_add_handle (multi, handles[i]);
    }
    int running = 1;
    while (running) {
        if (curl_multi_perform (multi, &running) != CURLM_OK)
            break;
        if (running && curl_multi_poll (multi, NULL, 0, 1000, NULL) != CURLM_OK)
            break;
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read (multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        void *priv = NULL;
        curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, &priv);
        size_t i = (size_t)(uintptr_t)priv;
        codes[i] = msg->data.result;
        curl_easy_getinfo (msg->easy_handle, CURLINFO_RESPONSE_CODE, &status[i]);
    }
    for (size_t i = 0; i < n; i++)
        curl_multi_remove_handle (multi, handles[i]);
}

void gf_curl_fail (gf_delivery_t *delivery, CURLcode code)
{
    bool down = code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
                code == CURLE_COULDNT_RESOLVE_PROXY;
    delivery->result = down ? GF_SEND_DOWN : GF_SEND_RETRY;
    snprintf (delivery->error, sizeof delivery->error, "%s", curl_easy_strerror (code));
}
