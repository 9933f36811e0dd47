/* Hashing for evidence integrity and request signing. Pure computation plus one file reader;
 * never logs the data it hashes (it may be a secret key). */
#include "digest.h"
#include "diag.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

void digest_to_hex(const unsigned char *bytes, size_t len, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        hex[2 * i] = digits[bytes[i] >> 4];
        hex[2 * i + 1] = digits[bytes[i] & 15];
    }
    hex[2 * len] = '\0';
}

void digest_sha256(const void *data, size_t len, unsigned char out[DIGEST_SHA256_LEN])
{
    unsigned int out_len = 0;
    EVP_Digest(data, len, out, &out_len, EVP_sha256(), NULL);
}

void digest_sha256_hex(const void *data, size_t len, char hex[DIGEST_SHA256_HEX_LEN + 1])
{
    unsigned char raw[DIGEST_SHA256_LEN];
    digest_sha256(data, len, raw);
    digest_to_hex(raw, sizeof(raw), hex);
}

void digest_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                        unsigned char out[DIGEST_SHA256_LEN])
{
    unsigned int out_len = 0;
    HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len);
}

int digest_file_sha256_hex(char hex[DIGEST_SHA256_HEX_LEN + 1], size_t *size, const char *path,
                           struct diagnostics *d)
{
    int error = 0;
    size_t total = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    FILE *f = fopen(path, "rb");
    if (!ctx || !f) {
        error = diag_error_at(d, DDB_ERUNTIME, path, 0, 0, 0, "cannot read: %s", strerror(errno));
        goto done;
    }
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    unsigned char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        EVP_DigestUpdate(ctx, chunk, n);
        total += n;
    }
    if (ferror(f)) {
        error = diag_error_at(d, DDB_ERUNTIME, path, 0, 0, 0, "read error");
        goto done;
    }
    unsigned char raw[DIGEST_SHA256_LEN];
    unsigned int raw_len = 0;
    EVP_DigestFinal_ex(ctx, raw, &raw_len);
    digest_to_hex(raw, raw_len, hex);
    if (size)
        *size = total;
done:
    if (f)
        fclose(f);
    EVP_MD_CTX_free(ctx);
    return error;
}
