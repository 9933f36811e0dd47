/* SHA-256 and HMAC-SHA-256 over OpenSSL's libcrypto, with lowercase hex output. */
#ifndef DDBAUDIT_DIGEST_H
#define DDBAUDIT_DIGEST_H

#include <stddef.h>

#define DIGEST_SHA256_LEN 32
#define DIGEST_SHA256_HEX_LEN 64

struct diagnostics;

/* hex must hold DIGEST_SHA256_HEX_LEN + 1 bytes. */
void digest_sha256(const void *data, size_t len, unsigned char out[DIGEST_SHA256_LEN]);
void digest_sha256_hex(const void *data, size_t len, char hex[DIGEST_SHA256_HEX_LEN + 1]);
void digest_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                        unsigned char out[DIGEST_SHA256_LEN]);
void digest_to_hex(const unsigned char *bytes, size_t len, char *hex);

/* Streams a file through SHA-256. Returns 0, or DDB_ERUNTIME with a diagnostic. Optionally
 * reports the size. */
int digest_file_sha256_hex(char hex[DIGEST_SHA256_HEX_LEN + 1], size_t *size, const char *path,
                           struct diagnostics *d);

#endif
