/* SPDX-License-Identifier: Apache-2.0 */
/* The one error type: a status that becomes the exit code, and a one-line message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "balena-img.h"

static void __attribute__((format(printf, 2, 0)))
set_message(struct bimg_error *err, const char *fmt, va_list ap)
{
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        /* a message is one line: fold any newline a tool or user string brought in */
        for (char *p = err->message; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
}

int bimg_fail(struct bimg_error *err, enum bimg_status status, const char *fmt, ...)
{
        va_list ap;

        if (!err || err->status != BIMG_OK)     /* the first failure wins */
                return -1;
        err->status = status;
        va_start(ap, fmt);
        set_message(err, fmt, ap);
        va_end(ap);
        return -1;
}

int bimg_fail_errno(struct bimg_error *err, enum bimg_status status, int errnum,
                    const char *fmt, ...)
{
        va_list ap;
        size_t len;

        if (!err || err->status != BIMG_OK)
                return -1;
        err->status = status;
        va_start(ap, fmt);
        set_message(err, fmt, ap);
        va_end(ap);
        len = strlen(err->message);
        snprintf(err->message + len, sizeof(err->message) - len, ": %s", strerror(errnum));
        return -1;
}

void bimg_error_prefix(struct bimg_error *err, const char *fmt, ...)
{
        char prefix[256], joined[sizeof(prefix) + sizeof(err->message) + 2];
        size_t len;
        va_list ap;

        if (!err || err->status == BIMG_OK)
                return;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        snprintf(joined, sizeof(joined), "%s: %s", prefix, err->message);
        len = strlen(joined);
        if (len >= sizeof(err->message))        /* keep the start: it names the place */
                len = sizeof(err->message) - 1;
        memcpy(err->message, joined, len);
        err->message[len] = '\0';
}
