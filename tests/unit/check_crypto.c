/* SPDX-License-Identifier: Apache-2.0 */
/* crypto_base64_encode/decode (strict RFC 4648) and crypto_check_certificates. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/crypto.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- base64 ---------------------------------------------------------------- */

static const struct {
        const char *data;
        size_t len;
        const char *text;
} vectors[] = {
        { "", 0, "" },                          /* RFC 4648 section 10 */
        { "f", 1, "Zg==" },
        { "fo", 2, "Zm8=" },
        { "foo", 3, "Zm9v" },
        { "foob", 4, "Zm9vYg==" },
        { "fooba", 5, "Zm9vYmE=" },
        { "foobar", 6, "Zm9vYmFy" },
        { "\xff\xff\xfe", 3, "///+" },          /* the last two alphabet characters */
        { "\xfb\xef\xbe", 3, "++++" },
        { "\0\0\0", 3, "AAAA" },                /* NUL bytes are data */
        { "a\0b", 3, "YQBi" },
        { "\x00\x10\x83\x10\x51\x87\x20\x92\x8b\x30\xd3\x8f\x41\x14\x93\x51\x55\x97\x61\x96"
          "\x9b\x71\xd7\x9f\x82\x18\xa3\x92\x59\xa7\xa2\x9a\xab\xb2\xdb\xaf\xc3\x1c\xb3\xd3"
          "\x5d\xb7\xe3\x9e\xbb\xf3\xdf\xbf", 48,
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" },
};

START_TEST(test_encode_vectors)
{
        struct bimg_error err = { 0 };
        char *out = NULL;

        ck_assert_int_eq(crypto_base64_encode(vectors[_i].data, vectors[_i].len, &out, &err), 0);
        ck_assert_str_eq(out, vectors[_i].text);
        ck_assert_int_eq(err.status, BIMG_OK);
        free(out);
}
END_TEST

START_TEST(test_decode_vectors)
{
        struct bimg_error err = { 0 };
        unsigned char *out = NULL;
        size_t len = 99;

        ck_assert_msg(crypto_base64_decode(vectors[_i].text, strlen(vectors[_i].text), &out,
                                           &len, &err) == 0, "'%s': %s", vectors[_i].text,
                      err.message);
        ck_assert_uint_eq(len, vectors[_i].len);
        ck_assert_mem_eq(out, vectors[_i].data, len);
        ck_assert_int_eq(out[len], '\0');       /* NUL-terminated for convenience */
        free(out);
}
END_TEST

static const struct {
        const char *text;
        size_t len;             /* 0: strlen */
        const char *message;    /* a substring of the error */
} bad_base64[] = {
        { "Zg=", 0, "not a multiple of 4" },
        { "Zg", 0, "not a multiple of 4" },     /* padding left out */
        { "Z", 0, "not a multiple of 4" },
        { "Zm9vY", 0, "not a multiple of 4" },  /* truncated */
        { "Zm9v\n", 0, "whitespace at offset 4" },
        { "Zm9v\r\n", 0, "whitespace at offset 4" },
        { "Zm 9v", 0, "whitespace at offset 2" },
        { " Zm9v", 0, "whitespace at offset 0" },
        { "Zm9v\tYmFy", 0, "whitespace at offset 4" },
        { "Zm9vYmFy\n", 0, "whitespace" },
        { "Zg==Zg==", 0, "padding before the end (offset 2)" },
        { "Zg=a", 0, "padding before the end (offset 2)" },
        { "Z===", 0, "3 '=' at the end" },
        { "====", 0, "4 '=' at the end" },
        { "Zh==", 0, "not zero" },              /* "f" is Zg==: spare bits set */
        { "Zm9=", 0, "not zero" },              /* "fo" is Zm8= */
        { "Zm-v", 0, "character '-' at offset 2" },     /* base64url is not base64 */
        { "Zm_v", 0, "character '_' at offset 2" },
        { "Zm9v.", 0, "character '.' at offset 4" },
        { "Zm\0v", 4, "byte 0x00 at offset 2" },
        { "Zm\xc3\xa9v", 0, "byte 0xc3 at offset 2" },
        { "Zm9v=", 0, "not a multiple of 4" },
};

START_TEST(test_decode_rejects)
{
        struct bimg_error err = { 0 };
        unsigned char *out = (unsigned char *)"untouched";
        size_t len = 42;
        size_t n = bad_base64[_i].len ? bad_base64[_i].len : strlen(bad_base64[_i].text);

        ck_assert_int_eq(crypto_base64_decode(bad_base64[_i].text, n, &out, &len, &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        ck_assert_msg(strstr(err.message, bad_base64[_i].message), "'%s': got '%s'",
                      bad_base64[_i].text, err.message);
        ck_assert_msg(strncmp(err.message, "invalid base64: ", 16) == 0, "%s", err.message);
        ck_assert_str_eq((const char *)out, "untouched");       /* ret_ only on success */
        ck_assert_uint_eq(len, 42);
}
END_TEST

/* Every length from 0 to 300 with bytes from a fixed generator survives the trip. */
START_TEST(test_roundtrip)
{
        unsigned char data[300];
        uint32_t x = 12345;

        for (size_t i = 0; i < sizeof(data); i++) {
                x = x * 1103515245u + 12345u;
                data[i] = (unsigned char)(x >> 16);
        }
        for (size_t n = 0; n <= sizeof(data); n++) {
                struct bimg_error err = { 0 };
                unsigned char *back = NULL;
                size_t back_len = 0;
                char *text = NULL;

                ck_assert_int_eq(crypto_base64_encode(data, n, &text, &err), 0);
                ck_assert_uint_eq(strlen(text), (n + 2) / 3 * 4);
                ck_assert_int_eq(crypto_base64_decode(text, strlen(text), &back, &back_len,
                                                      &err), 0);
                ck_assert_uint_eq(back_len, n);
                ck_assert_mem_eq(back, data, n);
                free(text);
                free(back);
        }
}
END_TEST

START_TEST(test_size_limits)
{
        struct bimg_error err = { 0 };
        size_t big = CRYPTO_BASE64_MAX + 4;
        char *text = malloc(big), *enc = NULL;
        unsigned char *out = NULL;
        size_t len = 0;

        ck_assert_ptr_nonnull(text);
        memset(text, 'A', big);
        ck_assert_int_eq(crypto_base64_decode(text, CRYPTO_BASE64_MAX, &out, &len, &err), 0);
        ck_assert_uint_eq(len, CRYPTO_BASE64_MAX / 4 * 3);
        free(out);
        out = NULL;
        ck_assert_int_eq(crypto_base64_decode(text, big, &out, &len, &err), -1);
        ck_assert_ptr_null(out);
        ck_assert_msg(strstr(err.message, "too long"), "%s", err.message);

        err = (struct bimg_error){ 0 };
        ck_assert_int_eq(crypto_base64_encode(text, CRYPTO_BASE64_MAX / 4 * 3 + 1, &enc, &err),
                         -1);
        ck_assert_ptr_null(enc);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        ck_assert_msg(strstr(err.message, "too many"), "%s", err.message);

        err = (struct bimg_error){ 0 };
        ck_assert_int_eq(crypto_check_certificates(text, CRYPTO_PEM_MAX + 1, &len, &err), -1);
        ck_assert_msg(strstr(err.message, "too large"), "%s", err.message);
        free(text);
}
END_TEST

START_TEST(test_first_error_wins)
{
        struct bimg_error err = { .status = BIMG_E_IO, .message = "earlier failure" };
        unsigned char *out = NULL;
        size_t len = 0;

        ck_assert_int_eq(crypto_base64_decode("Zg=", 3, &out, &len, &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_IO);
        ck_assert_str_eq(err.message, "earlier failure");
}
END_TEST

/* ---- certificates ------------------------------------------------------------ */

/* Self-signed test certificates, public data only: openssl req -x509 -newkey ec
 * -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=test1 -days 3650 (keys discarded). */
#define CERT1_HEAD "-----BEGIN CERTIFICATE-----\n" \
        "MIIBdjCCARugAwIBAgIUDkSWRYNhLqxmsfF/kdO6fXIE9vMwCgYIKoZIzj0EAwIw\n" \
        "EDEOMAwGA1UEAwwFdGVzdDEwHhcNMjYxMTIyMDM0ODMzWhcNMzYxMTE5MDM0ODMz\n" \
        "WjAQMQ4wDAYDVQQDDAV0ZXN0MTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABO2c\n"
#define CERT1_LINE4 "W3IzCxgHxd2dJQLjmBLeMvyk69QBBgA+Yp+1pZP+mYsyxCFaV1SaR1Qi+PXVuCdh\n"
#define CERT1_TAIL \
        "P8naKis+vHOQZ6AOLQmjUzBRMB0GA1UdDgQWBBRLIonRjMJn4uhIV0yi5z9edMAi\n" \
        "ZDAfBgNVHSMEGDAWgBRLIonRjMJn4uhIV0yi5z9edMAiZDAPBgNVHRMBAf8EBTAD\n" \
        "AQH/MAoGCCqGSM49BAMCA0kAMEYCIQDMJVjn6MfhlKiSezPisOjwOZZ+WOzPVMgr\n" \
        "2Evu6ovxQwIhALQJs40N05VjmyDimzunRo8eYE1rwX5+Nz2gIQEAJ3ac\n"
#define END_CERT "-----END CERTIFICATE-----\n"
#define CERT1 CERT1_HEAD CERT1_LINE4 CERT1_TAIL END_CERT
#define CERT2 "-----BEGIN CERTIFICATE-----\n" \
        "MIIBdDCCARugAwIBAgIUJsP02q+Ofuwy3ARg3yW6ZUjAsaUwCgYIKoZIzj0EAwIw\n" \
        "EDEOMAwGA1UEAwwFdGVzdDIwHhcNMjYxMTIyMDM0ODMzWhcNMzYxMTE5MDM0ODMz\n" \
        "WjAQMQ4wDAYDVQQDDAV0ZXN0MjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABFzi\n" \
        "UDFZQYdL3pywkTTQMw+ZuexIAIR2CIF1Ctu8+gbrXgeKP0iLrD6/KTM0FFRg2D8K\n" \
        "XvbTRqlizwfoUwazYgijUzBRMB0GA1UdDgQWBBT2gB8XjocPy3G9pF0BEz1mUH/p\n" \
        "LDAfBgNVHSMEGDAWgBT2gB8XjocPy3G9pF0BEz1mUH/pLDAPBgNVHRMBAf8EBTAD\n" \
        "AQH/MAoGCCqGSM49BAMCA0cAMEQCIE37zG1qld4FhlJ9zllERkcrI5DNnI/QTyoY\n" \
        "wmyjG1kIAiA4nAqhNPgFzu/cxlcw7rCAD5fEoTkzWI+kwwvlMEQhmQ==\n" \
        END_CERT
/* Not a key: the body is base64 of "This is not a real key". */
#define FAKE_PRIVATE_KEY "-----BEGIN PRIVATE KEY-----\n" \
        "VGhpcyBpcyBub3QgYSByZWFsIGtleQ==\n" \
        "-----END PRIVATE KEY-----\n"

static const struct {
        const char *pem;
        size_t count;
} good_pem[] = {
        { CERT1, 1 },
        { CERT2, 1 },
        { CERT1 CERT2, 2 },
        { CERT1 "\n\n" CERT2 "\n", 2 },                         /* blank lines around */
        { "\n  \n\t\n" CERT1, 1 },
        { CERT1 CERT1, 2 },                                     /* a repeat still counts */
        { "-----BEGIN CERTIFICATE-----\r\n"                     /* CRLF */
          "MIIBdjCCARugAwIBAgIUDkSWRYNhLqxmsfF/kdO6fXIE9vMwCgYIKoZIzj0EAwIw\r\n"
          "EDEOMAwGA1UEAwwFdGVzdDEwHhcNMjYxMTIyMDM0ODMzWhcNMzYxMTE5MDM0ODMz\r\n"
          "WjAQMQ4wDAYDVQQDDAV0ZXN0MTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABO2c\r\n"
          "W3IzCxgHxd2dJQLjmBLeMvyk69QBBgA+Yp+1pZP+mYsyxCFaV1SaR1Qi+PXVuCdh\r\n"
          "P8naKis+vHOQZ6AOLQmjUzBRMB0GA1UdDgQWBBRLIonRjMJn4uhIV0yi5z9edMAi\r\n"
          "ZDAfBgNVHSMEGDAWgBRLIonRjMJn4uhIV0yi5z9edMAiZDAPBgNVHRMBAf8EBTAD\r\n"
          "AQH/MAoGCCqGSM49BAMCA0kAMEYCIQDMJVjn6MfhlKiSezPisOjwOZZ+WOzPVMgr\r\n"
          "2Evu6ovxQwIhALQJs40N05VjmyDimzunRo8eYE1rwX5+Nz2gIQEAJ3ac\r\n"
          "-----END CERTIFICATE-----\r\n", 1 },
        { CERT1_HEAD CERT1_LINE4 CERT1_TAIL "-----END CERTIFICATE-----", 1 },  /* no final \n */
};

START_TEST(test_certificates_accepted)
{
        struct bimg_error err = { 0 };
        size_t count = 0;

        ck_assert_msg(crypto_check_certificates(good_pem[_i].pem, strlen(good_pem[_i].pem),
                                                &count, &err) == 0, "%s", err.message);
        ck_assert_uint_eq(count, good_pem[_i].count);
}
END_TEST

static const struct {
        const char *pem;
        size_t len;             /* 0: strlen */
        const char *message;
} bad_pem[] = {
        { "", 0, "no certificate found" },
        { "\n \n\n", 0, "no certificate found" },
        { "hello world\n", 0, "line 1: text outside a certificate ('hello world')" },
        { "subject=CN = test1\n" CERT1, 0, "line 1: text outside a certificate" },
        { CERT1 "# the end\n", 0, "line 11: text outside a certificate ('# the end')" },
        { CERT1 "garbage", 0, "line 11: text outside" },
        { "  " CERT1, 0, "line 1: text outside" },              /* indented BEGIN */
        { FAKE_PRIVATE_KEY, 0, "line 1: this is a private key" },
        { CERT1 FAKE_PRIVATE_KEY, 0, "line 11: this is a private key" },
        { "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n", 0,
          "private key" },
        { "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", 0,
          "a PEM 'PUBLIC KEY' block is not a certificate" },
        { "-----BEGIN TRUSTED CERTIFICATE-----\nAAAA\n-----END TRUSTED CERTIFICATE-----\n", 0,
          "'TRUSTED CERTIFICATE' block is not a certificate" },
        { CERT1_HEAD CERT1_LINE4, 0,                            /* truncated: no END */
          "certificate 1 (line 1) has no -----END CERTIFICATE----- line (truncated?)" },
        { CERT1 CERT1_HEAD, 0, "certificate 2 (line 11) has no -----END" },
        { CERT1_HEAD CERT2, 0, "certificate 1 (line 1) has no -----END CERTIFICATE----- line "
          "before line 5" },
        { CERT1_HEAD CERT1_TAIL END_CERT, 0, "certificate 1 (line 1) is damaged" },
        { CERT2 CERT1_HEAD CERT1_TAIL END_CERT, 0, "certificate 2 (line 11) is damaged" },
        { "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n" END_CERT, 0, "is damaged" },
        { "-----BEGIN CERTIFICATE-----\n" END_CERT, 0, "is damaged" },
        { CERT1_HEAD CERT1_LINE4 CERT1_TAIL "-----END PRIVATE KEY-----\n", 0,
          "line 10: '-----END PRIVATE KEY-----' does not close the certificate of line 1" },
        { CERT1 "\0", sizeof(CERT1), "NUL byte" },
};

START_TEST(test_certificates_rejected)
{
        struct bimg_error err = { 0 };
        size_t count = 42;
        size_t n = bad_pem[_i].len ? bad_pem[_i].len : strlen(bad_pem[_i].pem);

        ck_assert_int_eq(crypto_check_certificates(bad_pem[_i].pem, n, &count, &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        ck_assert_msg(strstr(err.message, bad_pem[_i].message), "case %d: got '%s'", _i,
                      err.message);
        ck_assert_uint_eq(count, 42);
        /* a failure leaves nothing behind in libcrypto that breaks the next check */
        err = (struct bimg_error){ 0 };
        ck_assert_int_eq(crypto_check_certificates(CERT1, strlen(CERT1), &count, &err), 0);
        ck_assert_uint_eq(count, 1);
}
END_TEST

/* balenaRootCA is base64 of PEM: the two steps together. */
START_TEST(test_root_ca_base64)
{
        struct bimg_error err = { 0 };
        unsigned char *pem = NULL;
        size_t len = 0, count = 0;
        char *text = NULL;

        ck_assert_int_eq(crypto_base64_encode(CERT1 CERT2, strlen(CERT1 CERT2), &text, &err), 0);
        ck_assert_int_eq(crypto_base64_decode(text, strlen(text), &pem, &len, &err), 0);
        ck_assert_int_eq(crypto_check_certificates((const char *)pem, len, &count, &err), 0);
        ck_assert_uint_eq(count, 2);
        free(text);
        free(pem);
}
END_TEST

static Suite *crypto_suite(void)
{
        Suite *s = suite_create("crypto");
        TCase *tc = tcase_create("crypto");

        tcase_add_loop_test(tc, test_encode_vectors, 0, ARRAY_SIZE(vectors));
        tcase_add_loop_test(tc, test_decode_vectors, 0, ARRAY_SIZE(vectors));
        tcase_add_loop_test(tc, test_decode_rejects, 0, ARRAY_SIZE(bad_base64));
        tcase_add_test(tc, test_roundtrip);
        tcase_add_test(tc, test_size_limits);
        tcase_add_test(tc, test_first_error_wins);
        tcase_add_loop_test(tc, test_certificates_accepted, 0, ARRAY_SIZE(good_pem));
        tcase_add_loop_test(tc, test_certificates_rejected, 0, ARRAY_SIZE(bad_pem));
        tcase_add_test(tc, test_root_ca_base64);
        tcase_set_timeout(tc, 60);      /* valgrind */
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(crypto_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
