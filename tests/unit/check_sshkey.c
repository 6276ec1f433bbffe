/* SPDX-License-Identifier: Apache-2.0 */
/* sshkey_check_line/parse_file/same: OpenSSH public keys for os.sshKeys. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/sshkey.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Real public keys made for these tests with OpenSSH 9.2 (ssh-keygen -t ed25519,
 * rsa -b 2048/4096/1024/2047, ecdsa -b 256/384/521, dsa); the private halves were
 * thrown away. ssh-keygen cannot make sk- keys without a FIDO token, so those two
 * were put together by hand from the ed25519 and nistp256 keys with application
 * "ssh:"; ssh-keygen -l reads them. The BAD_ ones are these keys tampered with
 * (blob rebuilt and re-encoded); ssh-keygen -l refuses all but BAD_RSA_E1 and the
 * two padded ones (a non-minimal mpint is legal).
 */
#define ED_B64 "AAAAC3NzaC1lZDI1NTE5AAAAILTNrplrEsNmLS7Ok4uHAFYT8lBdqD2xdifPJS8AqvnW"
#define KEY_ED25519 "ssh-ed25519 " ED_B64 " test-ed25519@balena-img"

#define KEY_RSA2048 \
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCmsjvaw+MyFm5XDoJcrGmwiFSQdgHtEDKPb3jNMRfV" \
        "RmnswXwjBVdT/D7+dgTGR9GkYjUak84q2+La84scG5pyoTcBcSPdYXkwTOnc/TqexR6h+dH0G9uc1c+Y" \
        "JZApf5mIOj2TPVdXBD+dCSFQhRCW+m7rlK4CeVKietMPDQzvrzYkVTRhPmGzCLCakSTOnB7nV8b2N45P" \
        "peR8IpYwKF+RcTkebGywvXcfLpzxcO030q0jqg0rzvEohNnX6XEuqGQpqD71Q4wxLm2VEnxkMpub4Q6w" \
        "mg1mvR9SyHyK8d3ftruqg/B9HThGl98ZVi/yV/NMtjYN3WARGQJmX6nj8Xab test-rsa@balena-img"

#define KEY_RSA4096 \
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAACAQCYKKqV2h3k1MGfCR0EtXtHLcohx1KNIbHyG7qPtDGk" \
        "hn2/8E1V3v8a9sxJLlP/oKVPGx7A3ULPhdsgJfTe0jD0dQvKehv7Mu1PRLTfl36O4zxQed3msc96mPls" \
        "P3JWdvoerOK+1gKWdCvVzGkyA7llh3NqktRLoUYLWY6R9QiHpQBSBbACPVDZCKqtKfKYAsi+D74mN4dI" \
        "cOO1ZxOrUgTrP9cXHRMRp5zVu0M2lj1vOx1IPjuTUUDdXe2pLGrNdbv7g6+cLDOnL0u/7ieaRQsTtfnr" \
        "NTgCGUOfHnmv5nxmhxdac/z+ani2+LomoCBR6Q2M6GwDNkroHAZrs+np8SMC20h8tafTuK0qvDDqvzcZ" \
        "6WlOFl0+D6uWXm4kPrSAD6fSirgE69VUyHi1eB8fNfA7e4Nky5ncOw0tc4i8xPXwY4LVlZT4Xj9rspK2" \
        "Wx57J3V/VFjY1btA5pd6Tiz8EY8rfn9WWuiw9tZOkJgIagc5/E4cBjUyKwpJLEu6hWcR1FR4WgXH5G4V" \
        "vB0CIB3O6muYBxPJBLZdbD51qUjzyDhplfrF4JDY9NpyJ3rq9ho5cIWmZK6Twkbl9ItZWLLbSS4ahAsb" \
        "xEFdgaNqlQDiNu2BvJcoktGZA5exU1CqWgiolNm4JYt3nOwccTE3WV4dWQvnAIEEKEnwaFV3iLDLXYvR" \
        "tw== test-rsa4096@balena-img"

#define KEY_RSA1024 \
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC0jkpdXDR0DdLr1w60H7O8kF0Uii9jDhzLyduY3yt2" \
        "9wVf2enDCSXAGtPxGlmJJuN+miRw/Z6KhfnZezR64JbdczUAKug5g2KbY7Yd3ZzU0Hq9i2CGbLFgGFQC" \
        "dxQhBWXIX8hKKHV93oNHhmLQnTjB3lZUsxarARe0i92kTSRd9Q== test-rsa1024@balena-img"

#define KEY_RSA2047 \
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAGAqNp1KS0Xztp/kJ8byZzy2ZnJ0UpW2gMVMqkAS92Qe" \
        "u27QpfhCQaO1sg26djgseaFuz9eujAgZENu1o+WSZI4pjOHvA3nUa923bh0Hd6sF9ysSmSWTzEBoWc6I" \
        "l0OhFCamV26Cj0nTd2vgEtRqMxIHWb2uKy3F37d2UsRkMyPsCz+W63isXUwoKLiMxHmyVZoRAkVMukd4" \
        "cB5pa5512jBYfR79raJis+QSnZH0yEFl2S1oHYxsD3iiRxNF7KeP59iHOq6HeVqvoivrMQoc433KQX0v" \
        "f+77gOSPsZf1a5SKfKGya6Gp/EWUvW/slYQ2u3wJwaINmKxukk+glVyp6yk= test-rsa2047"

#define KEY_ECDSA256 \
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBD4wGIg0" \
        "nD6fa1T7YQu1w9dN4sLAJfOMlMd54W8YwaDG+jO14HwD+qTTYHpKa3e7H1r1Hpl25VkrJ/u+b7t+2j4=" \
        " test-ecdsa256@balena-img"

#define KEY_ECDSA384 \
        "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBGCwr4qu" \
        "z8VWofmDcYVBMP5ygfTyTvWobog5YstRRmFvdomw27itFwCEvFoMdAaF46jSN5FiB/7s+BwtiQDR10bg" \
        "y7UOTD2CBCVPVPeIxhCoB7DbzyHDDehjXoZjSDpyrw== test-ecdsa384@balena-img"

#define KEY_ECDSA521 \
        "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAFaOqLa" \
        "slvvhbGG0wpi5c91+WpH9Oi5nfNig3txIT0LAZpGJjZcS+dJyavAHHx/bwcITYulWjJKTUNgIzDqQaH7" \
        "ggHdKgR372rYFZZ/moe3LL1ZCcVbpklw60pDHjBloAsZoP4HtMNF1lVOYxAA5fKxRyE9aIALaZYbBmLk" \
        "tp8tWwAvrQ== test-ecdsa521@balena-img"

#define KEY_SK_ED25519 \
        "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAILTNrplrE" \
        "sNmLS7Ok4uHAFYT8lBdqD2xdifPJS8AqvnWAAAABHNzaDo= test-sk-ed25519@balena-img"

#define KEY_SK_ECDSA \
        "sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNza" \
        "C5jb20AAAAIbmlzdHAyNTYAAABBBD4wGIg0nD6fa1T7YQu1w9dN4sLAJfOMlMd54W8YwaDG+jO14HwD+" \
        "qTTYHpKa3e7H1r1Hpl25VkrJ/u+b7t+2j4AAAAEc3NoOg== test-sk-ecdsa@balena-img"

#define KEY_DSA \
        "ssh-dss AAAAB3NzaC1kc3MAAACBAM9+pLv61BcSHEOSPIYvSi7K89AqMaJERZqJPBwXV+TiS5DQSEGg" \
        "awsHCDFVvTsrxgo+QW1BP7ZOk5E8ccBwQEr6ova9ZgMPr8pm8RdkxAlVW18nwlfN7XcFu20qZ1/WPqIg" \
        "raL9WIffNHSJhXntWLE+PLHGEV4PEV/gx0vVtBYdAAAAFQCrY3CSjpR43Di0OT+FxX5jUgHguwAAAIEA" \
        "mbdYlZZsBHcrlNwUNYAqp5ak1868/MiqKKNijkjntTWoqlbM+qqfNVQegZZEy3oDSh6ggJ2Sxj+DXvUk" \
        "9/v7RBPkrUB8VrOjz2xXUJo5sVnBETLh3K680QSQ/3yB7gO0enI6z9AM7/ue32hmsADFOP4kNEM67b5q" \
        "LbCPQnXGN9EAAACAAkh3a0a9hmyl6rk1CeU875114zPU/FauVqNdS1HnX/ADExO53DtsqmY1sjqUds3T" \
        "HStavRAflHcegsVKujJOWcCkv1rPUlkiR4mQgdd/eLm/dTb99QkUTAqfg8DxgoYZvbUt0nIGjnL1tTRW" \
        "LSwoQ/zZ/pCwH3MAos9bi3ogwJU= test-dsa"

#define BAD_WRONG_INNER_LABEL \
        "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAILTNrplrEsNmLS7Ok4uHAFYT8lBdqD2xdifPJS8AqvnW"

#define BAD_UNKNOWN_INNER \
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE4AAAAILTNrplrEsNmLS7Ok4uHAFYT8lBdqD2xdifPJS8AqvnW"

#define BAD_TRUNC_GROUP \
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILTNrplrEsNmLS7Ok4uHAFYT8lBdqD2xdifPJS8A"

#define BAD_TRUNC_CHAR \
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILTNrplrEsNmLS7Ok4uHAFYT8lBdqD2xdifPJS8Aqvn"

#define BAD_EC_NO_PAD \
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBD4wGIg0" \
        "nD6fa1T7YQu1w9dN4sLAJfOMlMd54W8YwaDG+jO14HwD+qTTYHpKa3e7H1r1Hpl25VkrJ/u+b7t+2j4"

#define BAD_EC_PAD_BITS \
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBD4wGIg0" \
        "nD6fa1T7YQu1w9dN4sLAJfOMlMd54W8YwaDG+jO14HwD+qTTYHpKa3e7H1r1Hpl25VkrJ/u+b7t+2j5="

#define BAD_EC_MID_PAD \
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTIt=mlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBD4wGIg0" \
        "nD6fa1T7YQu1w9dN4sLAJfOMlMd54W8YwaDG+jO14HwD+qTTYHpKa3e7H1r1Hpl25VkrJ/u+b7t+2j4="

#define BAD_ED_TRAILING \
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILTNrplrEsNmLS7Ok4uHAFYT8lBdqD2xdifPJS8AqvnW" \
        "AAAAAA=="

#define BAD_EC_CURVE \
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAzODQAAABBBD4wGIg0" \
        "nD6fa1T7YQu1w9dN4sLAJfOMlMd54W8YwaDG+jO14HwD+qTTYHpKa3e7H1r1Hpl25VkrJ/u+b7t+2j4="

#define BAD_EC_SHORT_POINT \
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABABD4wGIg0" \
        "nD6fa1T7YQu1w9dN4sLAJfOMlMd54W8YwaDG+jO14HwD+qTTYHpKa3e7H1r1Hpl25VkrJ/u+b7t+2g=="

#define BAD_EC_COMPRESSED \
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBAj4wGIg0" \
        "nD6fa1T7YQu1w9dN4sLAJfOMlMd54W8YwaDG+jO14HwD+qTTYHpKa3e7H1r1Hpl25VkrJ/u+b7t+2j4="

#define BAD_RSA_NEGATIVE \
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAKayO9rD4zIWblcOglysabCIVJB2Ae0QMo9veM0xF9VG" \
        "aezBfCMFV1P8Pv52BMZH0aRiNRqTzirb4trzixwbmnKhNwFxI91heTBM6dz9Op7FHqH50fQb25zVz5gl" \
        "kCl/mYg6PZM9V1cEP50JIVCFEJb6buuUrgJ5UqJ60w8NDO+vNiRVNGE+YbMIsJqRJM6cHudXxvY3jk+l" \
        "5HwiljAoX5FxOR5sbLC9dx8unPFw7TfSrSOqDSvO8SiE2dfpcS6oZCmoPvVDjDEubZUSfGQym5vhDrCa" \
        "DWa9H1LIfIrx3d+2u6qD8H0dOEaX3xlWL/JX80y2Ng3dYBEZAmZfqePxdps="

#define BAD_RSA_E1 \
        "ssh-rsa AAAAB3NzaC1yc2EAAAABAQAAAQEAprI72sPjMhZuVw6CXKxpsIhUkHYB7RAyj294zTEX1UZp" \
        "7MF8IwVXU/w+/nYExkfRpGI1GpPOKtvi2vOLHBuacqE3AXEj3WF5MEzp3P06nsUeofnR9BvbnNXPmCWQ" \
        "KX+ZiDo9kz1XVwQ/nQkhUIUQlvpu65SuAnlSonrTDw0M7682JFU0YT5hswiwmpEkzpwe51fG9jeOT6Xk" \
        "fCKWMChfkXE5HmxssL13Hy6c8XDtN9KtI6oNK87xKITZ1+lxLqhkKag+9UOMMS5tlRJ8ZDKbm+EOsJoN" \
        "Zr0fUsh8ivHd37a7qoPwfR04RpffGVYv8lfzTLY2Dd1gERkCZl+p4/F2mw=="

#define BAD_RSA_PADDED_2048 \
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAwAAAKayO9rD4zIWblcOglysabCIVJB2Ae0QMo9veM0x" \
        "F9VGaezBfCMFV1P8Pv52BMZH0aRiNRqTzirb4trzixwbmnKhNwFxI91heTBM6dz9Op7FHqH50fQb25zV" \
        "z5glkCl/mYg6PZM9V1cEP50JIVCFEJb6buuUrgJ5UqJ60w8NDO+vNiRVNGE+YbMIsJqRJM6cHudXxvY3" \
        "jk+l5HwiljAoX5FxOR5sbLC9dx8unPFw7TfSrSOqDSvO8SiE2dfpcS6oZCmoPvVDjDEubZUSfGQym5vh" \
        "DrCaDWa9H1LIfIrx3d+2u6qD8H0dOEaX3xlWL/JX80y2Ng3dYBEZAmZfqePxdps="

#define BAD_RSA_PADDED_1024 \
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABSQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAALSOSl1cNHQN0uvX" \
        "DrQfs7yQXRSKL2MOHMvJ25jfK3b3BV/Z6cMJJcAa0/EaWYkm436aJHD9noqF+dl7NHrglt1zNQAq6DmD" \
        "Yptjth3dnNTQer2LYIZssWAYVAJ3FCEFZchfyEoodX3eg0eGYtCdOMHeVlSzFqsBF7SL3aRNJF31"

#define BAD_SK_NO_APP \
        "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAILTNrplrE" \
        "sNmLS7Ok4uHAFYT8lBdqD2xdifPJS8AqvnW"

#define BAD_SK_LABEL_PLAIN_BLOB \
        "sk-ssh-ed25519@openssh.com AAAAC3NzaC1lZDI1NTE5AAAAILTNrplrEsNmLS7Ok4uHAFYT8lBdq" \
        "D2xdifPJS8AqvnW"

#define BAD_ED_33 \
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIbTNrplrEsNmLS7Ok4uHAFYT8lBdqD2xdifPJS8AqvnW" \
        "AA=="

#define BAD_RSA_NO_MODULUS \
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB"

/* ---- one line: accepted ------------------------------------------------------ */

static const char *const valid[] = {
        KEY_ED25519, KEY_RSA2048, KEY_RSA4096, KEY_ECDSA256, KEY_ECDSA384, KEY_ECDSA521,
        KEY_SK_ED25519, KEY_SK_ECDSA,
        BAD_RSA_PADDED_2048,    /* leading zero bytes in the modulus do not count as bits */
};

START_TEST(test_valid_keys)
{
        static const char *const wraps[][2] = {
                { "", "" }, { "  ", "\n" }, { "\t", "\r\n" }, { "", " \t " },
        };
        for (size_t w = 0; w < ARRAY_SIZE(wraps); w++) {
                struct bimg_error err = { 0 };
                char line[20000], *out = NULL;

                snprintf(line, sizeof(line), "%s%s%s", wraps[w][0], valid[_i], wraps[w][1]);
                ck_assert_msg(sshkey_check_line(line, "k.pub:1", &out, &err) == 0, "%s",
                              err.message);
                ck_assert_str_eq(out, valid[_i]);
                ck_assert_ptr_null(strpbrk(out, "\r\n"));
                free(out);
        }
}
END_TEST

static const struct {
        const char *in, *out;
} normalised[] = {
        { "ssh-ed25519\t\t" ED_B64 "   test-ed25519@balena-img", KEY_ED25519 },
        { "ssh-ed25519 " ED_B64, "ssh-ed25519 " ED_B64 },                   /* no comment */
        { "ssh-ed25519 " ED_B64 "  \t", "ssh-ed25519 " ED_B64 },
        { "ssh-ed25519 " ED_B64 "   my  laptop\tkey ", "ssh-ed25519 " ED_B64 " my  laptop\tkey" },
        { "ssh-ed25519 " ED_B64 " Jos\xc3\xa9's key \xe2\x9c\x93",          /* UTF-8 comment */
          "ssh-ed25519 " ED_B64 " Jos\xc3\xa9's key \xe2\x9c\x93" },
};

START_TEST(test_normalised)
{
        struct bimg_error err = { 0 };
        char *out = NULL;

        ck_assert_msg(sshkey_check_line(normalised[_i].in, "x", &out, &err) == 0, "%s",
                      err.message);
        ck_assert_str_eq(out, normalised[_i].out);
        free(out);
}
END_TEST

/* ---- one line: refused ------------------------------------------------------- */

static const struct {
        const char *line;
        const char *message;    /* after "k.pub:2: " */
} invalid[] = {
        { KEY_RSA1024, "the ssh-rsa key has 1024 bits; at least 2048 are required" },
        { KEY_RSA2047, "the ssh-rsa key has 2047 bits" },
        { BAD_RSA_PADDED_1024, "the ssh-rsa key has 1024 bits" },
        { KEY_DSA, "ssh-dss (DSA) keys are obsolete and OpenSSH disabled them; use ed25519" },
        { "ssh-foo " ED_B64, "unknown key type 'ssh-foo'" },
        { "rsa-sha2-256 " ED_B64, "unknown key type 'rsa-sha2-256'" },
        { ED_B64, "unknown key type 'AAAAC3Nz" },
        { BAD_WRONG_INNER_LABEL, "the line says 'ssh-rsa' but the key data is a 'ssh-ed25519' "
          "key" },
        { "ecdsa-sha2-nistp384 " ED_B64, "the line says 'ecdsa-sha2-nistp384' but the key data "
          "is a 'ssh-ed25519' key" },
        { BAD_SK_LABEL_PLAIN_BLOB, "the line says 'sk-ssh-ed25519@openssh.com' but the key "
          "data is a 'ssh-ed25519' key" },
        { BAD_UNKNOWN_INNER, "the line says 'ssh-ed25519' but the key data does not hold a "
          "'ssh-ed25519' key" },
        { BAD_TRUNC_GROUP, "ssh-ed25519 key data is damaged: the public key is not 32 bytes" },
        { BAD_TRUNC_CHAR, "ssh-ed25519 key data: invalid base64: length 67 is not a multiple "
          "of 4" },
        { BAD_EC_NO_PAD, "ecdsa-sha2-nistp256 key data: invalid base64: length 139 is not a "
          "multiple of 4" },
        { BAD_EC_PAD_BITS, "ecdsa-sha2-nistp256 key data: invalid base64: the bits before the "
          "'=' padding are not zero" },
        { BAD_EC_MID_PAD, "ecdsa-sha2-nistp256 key data: invalid base64: '=' padding before the "
          "end (offset 20)" },
        { "ssh-ed25519 " ED_B64 "=", "ssh-ed25519 key data: invalid base64: length 69" },
        { "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILTNrplrEsNmLS7Ok4uHAFYT8lBdqD2xdifPJS8Aqv-W",
          "ssh-ed25519 key data: invalid base64: character '-' at offset 66" },
        { BAD_ED_TRAILING, "ssh-ed25519 key data has 4 unexpected bytes after the key" },
        { BAD_ED_33, "ssh-ed25519 key data is damaged: the public key is not 32 bytes" },
        { BAD_EC_CURVE, "ecdsa-sha2-nistp256 key data names another curve than nistp256" },
        { BAD_EC_SHORT_POINT, "ecdsa-sha2-nistp256 key data is damaged: the public point is not 65 "
          "bytes, uncompressed" },
        { BAD_EC_COMPRESSED, "ecdsa-sha2-nistp256 key data is damaged: the public point is not 65 "
          "bytes, uncompressed" },
        { BAD_RSA_NEGATIVE, "ssh-rsa key data is damaged: negative modulus" },
        { BAD_RSA_E1, "ssh-rsa key data is damaged: bad exponent" },
        { BAD_RSA_NO_MODULUS, "ssh-rsa key data is damaged: no modulus" },
        { BAD_SK_NO_APP, "sk-ssh-ed25519@openssh.com key data is damaged: no application "
          "string" },
        { "ssh-ed25519 AAAA", "key data is too short to be a key (truncated?)" },
        { "ssh-ed25519", "'ssh-ed25519' is not followed by the key data" },
        { "ssh-ed25519   \t", "'ssh-ed25519' is not followed by the key data" },
        { "", "empty key" },
        { " \t \r\n", "empty key" },
        { KEY_ED25519 "\n" KEY_RSA2048, "a key is one line; this one has a line break at "
          "offset 104 (give one key per entry)" },
        { "ssh-ed25519 " ED_B64 "\rx", "a key is one line; this one has a line break at "
          "offset 80" },
        { "ssh-ed25519 " ED_B64 " evil\x1b[2J", "control character 0x1b at offset 85" },
        { "ssh-ed25519 " ED_B64 " a\x7f", "control character 0x7f" },
        { "ssh-ed25519 " ED_B64 " caf\xe9", "invalid UTF-8 at offset 84" },     /* Latin-1 */
        { "ssh-ed25519 " ED_B64 " \xc0\xaf", "invalid UTF-8" },                 /* overlong */
        { "ssh-ed25519 " ED_B64 " \xed\xa0\x80", "invalid UTF-8" },             /* surrogate */
        { "no-pty ssh-ed25519 " ED_B64, "options before the key type ('no-pty') are not "
          "supported" },
        { "command=\"echo hi\",no-pty  ssh-ed25519 " ED_B64 " c",
          "options before the key type ('command=\"echo hi\",no-pty')" },
        { "ssh-ed25519-cert-v01@openssh.com AAAA", "'ssh-ed25519-cert-v01@openssh.com' is an "
          "SSH certificate; give the plain public key" },
        { "-----BEGIN OPENSSH PRIVATE KEY-----", "this is an OpenSSH private key, not a public "
          "key" },
        { "-----BEGIN RSA PRIVATE KEY-----", "this is a PEM private key" },
        { "-----BEGIN PRIVATE KEY-----", "this is a PEM private key" },
        { "-----BEGIN ENCRYPTED PRIVATE KEY-----", "this is a PEM private key" },
        { "PuTTY-User-Key-File-3: ssh-ed25519", "this is a PuTTY private key" },
        { "---- BEGIN SSH2 PUBLIC KEY ----", "this is an SSH2 (RFC 4716) public key; convert "
          "it with ssh-keygen -i -f FILE" },
        { "-----BEGIN PUBLIC KEY-----", "this is a PEM public key; convert it with "
          "ssh-keygen -i -m PKCS8 -f FILE" },
        { "-----BEGIN CERTIFICATE-----", "this is a PEM block, not an OpenSSH public key" },
};

START_TEST(test_invalid_keys)
{
        struct bimg_error err = { 0 };
        char *out = (char *)"untouched", want[600];

        ck_assert_int_eq(sshkey_check_line(invalid[_i].line, "k.pub:2", &out, &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        snprintf(want, sizeof(want), "k.pub:2: %s", invalid[_i].message);
        ck_assert_msg(strstr(err.message, want) == err.message, "case %d: want '%s', got '%s'",
                      _i, want, err.message);
        ck_assert_str_eq(out, "untouched");
}
END_TEST

START_TEST(test_line_too_long)
{
        struct bimg_error err = { 0 };
        size_t n = 16 * 1024 + 1;
        char *line = malloc(n + 1), *out = NULL;

        ck_assert_ptr_nonnull(line);
        memcpy(line, "ssh-ed25519 ", 12);
        memset(line + 12, 'A', n - 12);
        line[n] = '\0';
        ck_assert_int_eq(sshkey_check_line(line, "k", &out, &err), -1);
        ck_assert_str_eq(err.message, "k: the line is longer than 16384 bytes; it is not a "
                         "public key");
        ck_assert_ptr_null(out);
        free(line);
}
END_TEST

START_TEST(test_no_origin_and_first_error)
{
        struct bimg_error err = { 0 };
        char *out = NULL;

        ck_assert_int_eq(sshkey_check_line("ssh-foo x", NULL, &out, &err), -1);
        ck_assert_str_eq(err.message, "SSH key: unknown key type 'ssh-foo'; expected "
                         "ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521 or a FIDO sk- key");
        err = (struct bimg_error){ .status = BIMG_E_IO, .message = "earlier failure" };
        ck_assert_int_eq(sshkey_check_line(KEY_RSA1024, "k", &out, &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_IO);
        ck_assert_str_eq(err.message, "earlier failure");
        ck_assert_ptr_null(out);
}
END_TEST

/* ---- sameness ---------------------------------------------------------------- */

static const struct {
        const char *a, *b;
        bool same;
} pairs[] = {
        { KEY_ED25519, KEY_ED25519, true },
        { KEY_ED25519, "ssh-ed25519 " ED_B64, true },                   /* comment ignored */
        { KEY_ED25519, "ssh-ed25519 " ED_B64 " someone else", true },
        { KEY_ED25519, "  ssh-ed25519\t " ED_B64 "\n", true },
        { KEY_ED25519, KEY_RSA2048, false },
        { KEY_ECDSA256, KEY_SK_ECDSA, false },                          /* same point */
        { "ssh-ed25519 " ED_B64, "ssh-rsa " ED_B64, false },            /* type counts */
        { "ssh-ed25519 " ED_B64, "ssh-ed25519 " ED_B64 "AAAA", false }, /* no prefix match */
        { "ssh-ed25519 AAAA", "ssh-ed25519 AAAAB", false },
        { "ssh-ed25519", "ssh-ed25519", false },                        /* no key: never same */
        { "", "", false },
        { NULL, KEY_ED25519, false },
        { KEY_ED25519, NULL, false },
};

START_TEST(test_same)
{
        ck_assert_msg(sshkey_same(pairs[_i].a, pairs[_i].b) == pairs[_i].same, "case %d", _i);
        ck_assert_msg(sshkey_same(pairs[_i].b, pairs[_i].a) == pairs[_i].same, "case %d "
                      "reversed", _i);
}
END_TEST

/* ---- files --------------------------------------------------------------------- */

START_TEST(test_parse_file)
{
        static const char text[] =
                "# my keys\n"
                "\n"
                KEY_ED25519 "\r\n"
                "   \n"
                "  # indented comment\n"
                KEY_RSA2048 "\n"
                "ssh-ed25519 " ED_B64 " the same key again\n"
                KEY_SK_ECDSA "\r\n"
                KEY_ECDSA256;                   /* no newline at the end */
        static const char *const want[] = {
                KEY_ED25519, KEY_RSA2048, KEY_SK_ECDSA, KEY_ECDSA256,
        };
        struct bimg_error err = { 0 };
        char **keys = NULL;
        size_t n = 0;

        ck_assert_msg(sshkey_parse_file(text, strlen(text), "k.pub", &keys, &n, &err) == 0,
                      "%s", err.message);
        ck_assert_uint_eq(n, ARRAY_SIZE(want));
        for (size_t i = 0; i < n; i++) {
                ck_assert_str_eq(keys[i], want[i]);
                ck_assert_ptr_null(strpbrk(keys[i], "\r\n"));
        }
        sshkey_free_list(keys, n);
        sshkey_free_list(NULL, 0);
}
END_TEST

/* Duplicates go whatever their order; the first one, with its comment, stays. */
START_TEST(test_parse_file_duplicates)
{
        static const char *const lines[] = {
                KEY_RSA4096, KEY_ED25519, KEY_RSA4096 " other", KEY_ECDSA521, KEY_ED25519,
                KEY_ECDSA521, "ssh-ed25519 " ED_B64, KEY_RSA4096,
        };
        char text[20000] = "";
        struct bimg_error err = { 0 };
        char **keys = NULL;
        size_t n = 0;

        for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
                strcat(text, lines[i]);
                strcat(text, "\n");
        }
        ck_assert_int_eq(sshkey_parse_file(text, strlen(text), "k", &keys, &n, &err), 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_str_eq(keys[0], KEY_RSA4096);
        ck_assert_str_eq(keys[1], KEY_ED25519);
        ck_assert_str_eq(keys[2], KEY_ECDSA521);
        sshkey_free_list(keys, n);
}
END_TEST

#define FAKE_BODY "VGhpcyBpcyBub3QgYSByZWFsIGtleQ==\n"    /* "This is not a real key" */

static const struct {
        const char *text;
        size_t len;             /* 0: strlen */
        const char *message;
} bad_files[] = {
        { "", 0, "k.pub: no public key found (only blank lines and comments)" },
        { "# nothing\n\n  \r\n", 0, "k.pub: no public key found" },
        { "# keys\n" KEY_ED25519 "\n" KEY_RSA1024 "\n", 0,
          "k.pub:3: the ssh-rsa key has 1024 bits" },
        { KEY_ED25519 "\n" KEY_DSA "\n", 0, "k.pub:2: ssh-dss (DSA) keys are obsolete" },
        { "-----BEGIN OPENSSH PRIVATE KEY-----\n" FAKE_BODY
          "-----END OPENSSH PRIVATE KEY-----\n", 0,
          "k.pub:1: this is an OpenSSH private key, not a public key; give the .pub file" },
        { "\n-----BEGIN RSA PRIVATE KEY-----\n" FAKE_BODY "-----END RSA PRIVATE KEY-----\n", 0,
          "k.pub:2: this is a PEM private key" },
        { "-----BEGIN PRIVATE KEY-----\r\n" FAKE_BODY "-----END PRIVATE KEY-----\r\n", 0,
          "k.pub:1: this is a PEM private key" },
        { "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: fake\n"
          "Public-Lines: 2\n" FAKE_BODY, 0, "k.pub:1: this is a PuTTY private key" },
        { "---- BEGIN SSH2 PUBLIC KEY ----\n"
          "Comment: \"256-bit ED25519, converted by root@vm from OpenSSH\"\n"
          ED_B64 "\n"
          "---- END SSH2 PUBLIC KEY ----\n", 0,
          "k.pub:1: this is an SSH2 (RFC 4716) public key; convert it with ssh-keygen -i -f "
          "FILE" },
        { KEY_ED25519 "\n\0\n", sizeof(KEY_ED25519 "\n\0\n") - 1,
          "k.pub:2: NUL byte; this is not a text file of public keys" },
        { KEY_ED25519 "\0", sizeof(KEY_ED25519), "k.pub:1: NUL byte" },
        { KEY_ED25519 "\n" KEY_ED25519 "\rx\n", 0, "k.pub:2: a key is one line" },
};

START_TEST(test_parse_file_rejects)
{
        struct bimg_error err = { 0 };
        char **keys = (char **)"untouched";
        size_t n = 42;
        size_t len = bad_files[_i].len ? bad_files[_i].len : strlen(bad_files[_i].text);

        ck_assert_int_eq(sshkey_parse_file(bad_files[_i].text, len, "k.pub", &keys, &n, &err),
                         -1);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        ck_assert_msg(strstr(err.message, bad_files[_i].message) == err.message,
                      "case %d: want '%s', got '%s'", _i, bad_files[_i].message, err.message);
        ck_assert_ptr_eq(keys, (char **)"untouched");
        ck_assert_uint_eq(n, 42);
}
END_TEST

/* A file of n copies of a key line: the count limit is on key lines, not on keys kept
 * (no comment, or 10,000 lines would pass the 1 MiB limit first). */
static char *repeat_key(size_t n, size_t *ret_len)
{
        size_t one = strlen("ssh-ed25519 " ED_B64 "\n");
        char *text = malloc(n * one + 1);

        ck_assert_ptr_nonnull(text);
        for (size_t i = 0; i < n; i++)
                memcpy(text + i * one, "ssh-ed25519 " ED_B64 "\n", one);
        text[n * one] = '\0';
        *ret_len = n * one;
        return text;
}

START_TEST(test_parse_file_limits)
{
        struct bimg_error err = { 0 };
        char **keys = NULL, *text;
        size_t n = 0, len;

        text = repeat_key(10000, &len);
        ck_assert_msg(sshkey_parse_file(text, len, "k", &keys, &n, &err) == 0, "%s",
                      err.message);
        ck_assert_uint_eq(n, 1);
        sshkey_free_list(keys, n);
        free(text);

        keys = NULL;
        text = repeat_key(10001, &len);
        ck_assert_int_eq(sshkey_parse_file(text, len, "k", &keys, &n, &err), -1);
        ck_assert_str_eq(err.message, "k:10001: more than 10000 keys");
        ck_assert_ptr_null(keys);
        free(text);

        err = (struct bimg_error){ 0 };
        text = calloc(1, 1024 * 1024 + 1);
        ck_assert_ptr_nonnull(text);
        ck_assert_int_eq(sshkey_parse_file(text, 1024 * 1024 + 1, "k", &keys, &n, &err), -1);
        ck_assert_str_eq(err.message, "k: 1048577 bytes is too large for a public key file "
                         "(at most 1048576)");

        err = (struct bimg_error){ 0 };
        memset(text, 'A', 16 * 1024 + 53);
        memcpy(text, "# a long line, even a comment, is not in a key file\n", 52);
        ck_assert_int_eq(sshkey_parse_file(text, 16 * 1024 + 53, "k", &keys, &n, &err), -1);
        ck_assert_str_eq(err.message, "k:2: the line is longer than 16384 bytes; it is not a "
                         "public key");
        free(text);
}
END_TEST

static Suite *sshkey_suite(void)
{
        Suite *s = suite_create("sshkey");
        TCase *tc = tcase_create("sshkey");

        tcase_add_loop_test(tc, test_valid_keys, 0, ARRAY_SIZE(valid));
        tcase_add_loop_test(tc, test_normalised, 0, ARRAY_SIZE(normalised));
        tcase_add_loop_test(tc, test_invalid_keys, 0, ARRAY_SIZE(invalid));
        tcase_add_test(tc, test_line_too_long);
        tcase_add_test(tc, test_no_origin_and_first_error);
        tcase_add_loop_test(tc, test_same, 0, ARRAY_SIZE(pairs));
        tcase_add_test(tc, test_parse_file);
        tcase_add_test(tc, test_parse_file_duplicates);
        tcase_add_loop_test(tc, test_parse_file_rejects, 0, ARRAY_SIZE(bad_files));
        tcase_add_test(tc, test_parse_file_limits);
        tcase_set_timeout(tc, 120);     /* valgrind */
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(sshkey_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
